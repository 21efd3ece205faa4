"""Recount the remediation board's column counts from the items themselves."""

from django.core.management.base import BaseCommand
from django.db import connection

from incidents.models import RemediationItem
from incidents.models.remediation import REMEDIATION_COUNTS, REMEDIATION_DUE_COUNTS
from morgue.counters import rebuild_all


class Command(BaseCommand):
    help = (
        "Recount RemediationCount and RemediationDueCount from the items. Triggers keep them "
        "up to date; this repairs them after the triggers were disabled or the tables edited by hand."
    )

    def handle(self, *args, **options):
        rebuild_all(connection, REMEDIATION_COUNTS, REMEDIATION_DUE_COUNTS)
        self.stdout.write(f"Recounted {RemediationItem.objects.count():,} remediation items.")
