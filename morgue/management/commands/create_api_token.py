from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from morgue.exceptions import MorgueError
from morgue.models import Profile, TokenScope
from morgue.services import API_TOKEN_EXPIRY_CHOICES, api_token_expiry, create_api_token


class Command(BaseCommand):
    help = "Make an API token for a person and print it (the only time it is shown; Morgue keeps a hash)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        parser.add_argument(
            "--expires",
            choices=[value for value, _ in API_TOKEN_EXPIRY_CHOICES if value != "date"],
            default="90",
            help="Days until it expires, or never (staff only).",
        )

    def handle(self, *args, username, name, scope, expires, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active person {username}.")
        try:
            api_token = create_api_token(
                owner=user,
                name=name,
                scope=scope,
                expires_at=api_token_expiry(
                    expires=expires, expires_on=None, zone=Profile.objects.for_user(user).zone
                ),
            )
        except MorgueError as error:
            raise CommandError(error.message) from None
        self.stdout.write(api_token.token or "")
