import uuid

from django.core.management.base import BaseCommand, CommandError

from morgue.tasks import ping


class Command(BaseCommand):
    help = "Send a task through the broker to a running worker and wait for its answer."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout: float, **options):
        nonce = uuid.uuid4().hex
        result = ping.delay(nonce)
        try:
            answer = result.get(timeout=timeout)
        except Exception as error:
            raise CommandError(f"No answer from a Celery worker within {timeout:g}s: {error}") from error
        if answer != {"nonce": nonce, "database": "ok"}:
            raise CommandError(f"The worker answered {answer!r}, expected nonce {nonce} and database ok.")
        self.stdout.write(self.style.SUCCESS(f"Celery worker answered through the broker: {answer}"))
