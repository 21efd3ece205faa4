import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from morgue.demo import DEMO_PASSWORD, DEMO_USERNAME


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together; Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port for the web server")

    def handle(self, *args, addr: str, **options):
        # Stop on Ctrl-C (SIGINT) and on SIGTERM, even when started from a
        # shell that ignores SIGINT for background jobs.
        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        python = sys.executable
        celery = os.path.join(os.path.dirname(python), "celery")
        commands = {
            "worker": [celery, "-A", "morgue", "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [celery, "-A", "morgue", "beat", "--loglevel=INFO"],
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
        }
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
        self.stdout.write(
            self.style.SUCCESS(
                f"\nMorgue is running at http://{addr}/\n"
                f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
                "Press Ctrl-C to stop the web server, worker and beat.\n"
            )
        )
        try:
            while all(process.poll() is None for process in processes.values()):
                time.sleep(0.5)
            stopped = [name for name, process in processes.items() if process.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
