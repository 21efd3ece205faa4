import importlib
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from morgue.models import Team

# Each app owns its part of the large organisation in `<app>/scale.py` with a
# `seed(scale, stdout)` function, run in layer order as for the demo data.
SCALE_MODULES = ["morgue.scale", "oncall.scale", "incidents.scale", "alerts_review.scale"]


class Command(BaseCommand):
    help = (
        "Load a large organisation for measuring: at --scale 1, 500 people, 40 teams, 50 rotations with "
        "five years of shifts, 20,000 incidents, 200,000 deploys, 60,000 remediation items and "
        "1,000,000 alerts. Deterministic; needs an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="1 is the organisation above; 0.1 a tenth."
        )

    def handle(self, *args, scale: float, **options):
        if not 0 < scale <= 100:
            raise CommandError("--scale must be above 0 and at most 100.")
        if Team.objects.exists():
            raise CommandError("The database already holds teams: seed_scale loads into an empty one.")
        for name in SCALE_MODULES:
            started = time.monotonic()
            with transaction.atomic():
                importlib.import_module(name).seed(scale, stdout=self.stdout)
            self.stdout.write(f"   ({time.monotonic() - started:.0f} s)")
        if connection.vendor == "postgresql":
            # What autovacuum would soon do: plan the queries on statistics of the loaded rows.
            # VACUUM cannot run inside a transaction (a caller's, as in tests): ANALYZE can.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"The organisation at scale {scale:g} is in place."))
