import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from morgue.demo import DEMO_PASSWORD, DEMO_USERNAME

# How long the web server may take to answer its first request before `make run` gives up.
START_SECONDS = 60


def _split(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"{addr} is not an address:port such as 127.0.0.1:8000.")
    return host, int(port)


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own loopback address
            return response.status < 500
    except urllib.error.HTTPError as error:
        # 503 names what is not running yet (beat's first tick, say); the web server answers.
        return error.code == 503
    except OSError:
        return False


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together; Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port for the web server")

    def handle(self, *args, addr: str, **options):
        host, port = _split(addr)
        if not _port_is_free(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use, perhaps by another Morgue. "
                f"Stop that program or choose another port: make run PORT={port + 1}"
            )
        address = f"http://{host}:{port}"
        # Links in emails, feeds and invitations point where Morgue is served
        # unless MORGUE_BASE_URL says otherwise; the worker inherits this.
        os.environ.setdefault("MORGUE_BASE_URL", address)

        # Stop on Ctrl-C (SIGINT) and on SIGTERM, even when started from a
        # shell that ignores SIGINT for background jobs.
        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        python = sys.executable
        celery = os.path.join(os.path.dirname(python), "celery")
        logs = Path(settings.VAR_DIR) / "log"
        logs.mkdir(parents=True, exist_ok=True)
        commands = {
            "worker": [celery, "-A", "morgue", "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [celery, "-A", "morgue", "beat", "--loglevel=INFO"],
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
        }
        processes = {}
        try:
            for name, command in commands.items():
                # The worker and beat log to files so the banner and the web log stay readable.
                output = None if name == "web" else (logs / f"{name}.log").open("a")
                processes[name] = subprocess.Popen(command, stdout=output, stderr=output)
            self._wait_until_answering(f"{address}/healthz", processes)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nMorgue is running at {address}/\n"
                    f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
                    f"Worker and beat log to {logs}/worker.log and beat.log.\n"
                    "Press Ctrl-C to stop the web server, worker and beat.\n"
                )
            )
            while all(process.poll() is None for process in processes.values()):
                time.sleep(0.5)
            stopped = [name for name, process in processes.items() if process.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the rest (see {logs}).")
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

    def _wait_until_answering(self, url: str, processes: dict) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(url):
            if processes["web"].poll() is not None:
                raise CommandError("The web server stopped before it answered; its output is above.")
            if time.monotonic() > deadline:
                raise CommandError(f"The web server did not answer {url} within {START_SECONDS} seconds.")
            time.sleep(0.25)
