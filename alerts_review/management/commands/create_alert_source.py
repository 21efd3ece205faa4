from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from morgue.exceptions import MorgueError
from morgue.models import Team
from morgue.timezones import UnknownTimeZone, check_time_zone

from ...models import SourceKind
from ...services import create_alert_source


class Command(BaseCommand):
    help = "Register a system that sends alerts and print its token (the only time it is shown)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=SourceKind.values)
        parser.add_argument("--team", help="Slug of the team for alerts that name none.")
        parser.add_argument("--time-zone", default="UTC", help="Zone of a Nagios server's LONGDATETIME.")
        parser.add_argument(
            "--alertmanager-url",
            default="",
            help="Base URL of the Alertmanager, to silence a page's alerts there on acknowledging.",
        )

    def handle(self, *args, name, kind, team=None, time_zone="UTC", alertmanager_url="", **options):
        owner = None
        if team:
            owner = Team.objects.filter(slug=team).first()
            if owner is None:
                raise CommandError(f"There is no team {team}.")
        try:
            check_time_zone(time_zone)
        except UnknownTimeZone as error:
            raise CommandError(str(error)) from error
        try:
            source = create_alert_source(
                name=name, kind=kind, team=owner, time_zone=time_zone, alertmanager_url=alertmanager_url
            )
        except MorgueError as error:
            raise CommandError(error.message) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(source.token or "")
