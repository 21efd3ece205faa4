from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from oncall.importers import VENDORS, ImportFailed, read_plan, reader_for

from ...imports import import_oncall


class Command(BaseCommand):
    help = (
        "Import on-call schedules, people, overrides, escalations and 12 months of alerts from Opsgenie, "
        "PagerDuty or Grafana OnCall. Prints the plan; --apply does it; --verify compares Morgue's "
        "who-is-on-call with the source's own timeline over --weeks and exits 1 on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", choices=sorted(VENDORS))
        parser.add_argument("--url", help="The source's API address.")
        parser.add_argument("--token", help="An API token (read-only is enough).")
        parser.add_argument("--from-dir", type=Path, help="A directory of JSON answers saved from the API.")
        parser.add_argument("--apply", action="store_true", help="Write the plan (default: only print it).")
        parser.add_argument("--verify", action="store_true", help="Compare with the source's timeline.")
        parser.add_argument("--weeks", type=int, default=8, help="Weeks ahead to verify (default 8).")

    def handle(self, *args, source, url, token, from_dir, apply, verify, weeks, **options):
        if not 1 <= weeks <= 26:
            raise CommandError("--weeks must be between 1 and 26.")
        now = timezone.now()
        try:
            reader = reader_for(source, url=url, token=token, directory=from_dir)
            plan = read_plan(source, reader, now=now, weeks=weeks)
            blocking = [problem for problem in plan.problems if problem.blocks]
            result = import_oncall(plan=plan, now=now, save=apply and not blocking, check=verify)
        except ImportFailed as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        prefix = "" if result.saved else "would "
        for line in result.applied.changes:
            self.stdout.write(f"{prefix}{line}")
        if not result.applied.changes:
            self.stdout.write("No change: Morgue already holds what the source has.")
        for problem in plan.problems:
            self.stdout.write(str(problem))
        self.stdout.write(
            f"History: {prefix}import {result.history_imported} alerts of the last 12 months "
            f"({result.history_known} already there)."
        )
        if not result.saved and not blocking:
            self.stdout.write("Plan only: nothing was written. Run again with --apply to import.")
        if result.verified:
            for difference in result.differences:
                self.stdout.write(str(difference))
            assert plan.since is not None and plan.until is not None
            span = f"{plan.since:%Y-%m-%d %H:%M} – {plan.until:%Y-%m-%d %H:%M} UTC"
            if result.differences:
                self.stdout.write(
                    f"Verification: {len(result.differences)} differences from {VENDORS[source]}'s own "
                    f"timeline over {weeks} weeks ({span})."
                )
            else:
                self.stdout.write(
                    f"Verification: no difference from {VENDORS[source]}'s own timeline "
                    f"over {weeks} weeks ({span})."
                )
        if blocking:
            raise CommandError(
                f"{len(blocking)} records cannot be expressed in Morgue (listed above), "
                "so importing them would change who is on call: nothing was imported."
            )
        if result.verified and result.differences:
            raise SystemExit(1)
