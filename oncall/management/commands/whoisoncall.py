"""Who is on call, as a terminal table: `python manage.py whoisoncall [--team SLUG] [--at ISO]`."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from morgue.models import Team
from oncall.selectors import on_call_now


class Command(BaseCommand):
    help = "Print who holds each level of each rotation now (or at --at), and who is next."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="a team slug")
        parser.add_argument("--at", help="an ISO 8601 instant, such as 2026-03-08T12:00:00Z")

    def handle(self, *args, team=None, at=None, **options):
        instant = None
        if at:
            try:
                instant = parse_datetime(at)
            except ValueError:
                instant = None
            if instant is None:
                raise CommandError(f"--at: {at} is not an ISO 8601 date and time.")
            if instant.tzinfo is None:
                raise CommandError("--at: give an offset or Z, such as 2026-03-08T12:00:00Z.")
        chosen = None
        if team:
            chosen = Team.objects.filter(slug=team).first()
            if chosen is None:
                raise CommandError(f"--team: there is no team {team}.")
        rows = on_call_now(at=instant, team=chosen)
        table = [["TEAM", "ROTATION", "LEVEL", "WHO", "SOURCE", "UNTIL (UTC)", "NEXT", "NEXT FROM (UTC)"]]
        for row in rows:
            table.append(
                [
                    row.team,
                    row.rotation,
                    row.level,
                    row.user,
                    row.source,
                    f"{row.shift_end:%Y-%m-%d %H:%M}",
                    row.next_user or "-",
                    f"{row.next_shift_start:%Y-%m-%d %H:%M}" if row.next_shift_start else "-",
                ]
            )
        if len(table) == 1:
            self.stdout.write("Nobody is on call.")
            return
        widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
        for line in table:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            )
