import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app owns its demo data in `<app>/demo.py` with a `seed(stdout)` function;
# the order follows what each needs (rotations need people, alerts need rotations).
DEMO_MODULES = [
    "morgue.demo",
    "oncall.demo",
    "incidents.demo",
    "incidents.demo_evidence",
    "incidents.demo_remediation",
    "incidents.demo_trackers",
    "incidents.demo_running",
    "alerts_review.demo",
]


class Command(BaseCommand):
    help = "Create a believable demo organisation. Running it again changes nothing."

    def handle(self, *args, **options):
        for name in DEMO_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as error:
                if error.name != name:
                    raise
                continue
            with transaction.atomic():
                module.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
