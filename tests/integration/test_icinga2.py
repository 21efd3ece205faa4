"""Icinga 2 (Debian's) notifies a live Morgue through the README's NotificationCommand definitions."""

import datetime as dt
import grp
import os
import pwd
import re

import pytest

from alerts_review.models import Alert
from tests.factories import AlertSourceFactory

from .conftest import README, Daemon, need, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

UTC = dt.UTC
HOST = "web042"
SERVICE = "apache-busy-workers"
SERVICE_DISPLAY = "Apache Busy Workers"
# Notified again every two seconds while it is a problem.
NOISY = "queue-depth"


def readme_notification_commands(*, url: str, token: str) -> tuple[str, str, str]:
    """The README's Icinga 2 NotificationCommands pointed at this Morgue, and the host's and service's."""
    text = README.read_text()
    blocks = [
        block
        for block in re.findall(r"```[a-z0-9]*\n(.*?)```", text, flags=re.DOTALL)
        if "object NotificationCommand" in block
    ]
    assert blocks, "README.md prints no Icinga 2 `object NotificationCommand` definitions"
    config = "\n".join(blocks).replace("https://morgue.example.com", url).replace("<token>", token)
    names = re.findall(r'object NotificationCommand "([^"]+)"', config)
    host = [name for name in names if "host" in name]
    service = [name for name in names if "service" in name]
    assert len(host) == 1 and len(service) == 1, f"README.md's NotificationCommands are {names}"
    return config, host[0], service[0]


def icinga2_conf(directory, commands: str, host_command: str, service_command: str) -> str:
    # The checks exit with the number in a state file the test writes ($$ is a
    # literal $ in an Icinga 2 string); one-second intervals make a state change
    # take about a second, and one attempt makes it a hard state at once.
    return f"""\
object FileLogger "main-log" {{
  severity = "information"
  path = "{directory}/icinga2.log"
}}
object CheckerComponent "checker" {{ }}
object NotificationComponent "notification" {{ enable_ha = false }}

{commands}

object CheckCommand "state-file" {{
  command = [ "/bin/sh", "-c", "echo \\"state $$(cat $$STATE)\\" && exit $$(cat $$STATE)" ]
  env = {{ STATE = "$state_file$" }}
}}

object Host "{HOST}" {{
  address = "127.0.0.1"
  check_command = "state-file"
  max_check_attempts = 1
  check_interval = 1s
  retry_interval = 1s
  vars.state_file = "{directory}/host.state"
}}

object Service "{SERVICE}" {{
  host_name = "{HOST}"
  display_name = "{SERVICE_DISPLAY}"
  check_command = "state-file"
  max_check_attempts = 1
  check_interval = 1s
  retry_interval = 1s
  vars.state_file = "{directory}/service.state"
}}

object Service "{NOISY}" {{
  host_name = "{HOST}"
  check_command = "state-file"
  max_check_attempts = 1
  check_interval = 1s
  retry_interval = 1s
  vars.state_file = "{directory}/noisy.state"
}}

object User "morgue" {{ }}

object Notification "morgue" {{
  host_name = "{HOST}"
  command = "{host_command}"
  users = [ "morgue" ]
  interval = 0
}}

object Notification "morgue" {{
  host_name = "{HOST}"
  service_name = "{SERVICE}"
  command = "{service_command}"
  users = [ "morgue" ]
  interval = 0
}}

object Notification "morgue" {{
  host_name = "{HOST}"
  service_name = "{NOISY}"
  command = "{service_command}"
  users = [ "morgue" ]
  interval = 2s
}}
"""


class Icinga2:
    def __init__(self, directory):
        self.directory = directory

    def set_state(self, what: str, code: int) -> None:
        (self.directory / f"{what}.state").write_text(f"{code}\n")

    def sent(self, kind: str, notification: str) -> list[dt.datetime]:
        """When Icinga logged sending a `kind` (Problem, Recovery) of a notification ('web042!morgue').

        Reminders count. It logs a send before it runs the command, but writes its log file later.
        """
        log = (self.directory / "icinga2.log").read_text()
        pattern = (
            r"^\[([0-9-]+ [0-9:]+ [+-]\d{4})\] information/Notification: "
            rf"Sending (?:reminder )?'{kind}' notification '{re.escape(notification)}'"
        )
        return [
            dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)
            for stamp in re.findall(pattern, log, flags=re.MULTILINE)
        ]


@pytest.fixture
def source():
    return AlertSourceFactory(name="icinga", kind="nagios")


@pytest.fixture
def start_icinga2(tmp_path, daemons, live_server, source):
    """A function that starts Icinga 2 with the README's commands; one host and one service, both OK."""
    binary = need("icinga2", "icinga2")
    need("curl", "curl")

    def start() -> Icinga2:
        commands, host_command, service_command = readme_notification_commands(
            url=live_server.url, token=source.token
        )
        directory = tmp_path
        for name in ("data", "log", "cache", "spool", "run"):
            (directory / name).mkdir()
        config = directory / "icinga2.conf"
        config.write_text(icinga2_conf(directory, commands, host_command, service_command))
        instance = Icinga2(directory)
        instance.set_state("host", 0)
        instance.set_state("service", 0)
        instance.set_state("noisy", 0)
        defines = {
            "DataDir": directory / "data",
            "LogDir": directory / "log",
            "CacheDir": directory / "cache",
            "SpoolDir": directory / "spool",
            "InitRunDir": directory / "run",
            # Icinga drops privileges to these; run as whoever runs the tests.
            "RunAsUser": pwd.getpwuid(os.getuid()).pw_name,
            "RunAsGroup": grp.getgrgid(os.getgid()).gr_name,
        }
        daemon = Daemon(
            "icinga2",
            [binary, "daemon", "-c", str(config), *(f"-D{key}={value}" for key, value in defines.items())],
            directory / "icinga2.out",
        )
        daemon.extra_logs.append(directory / "icinga2.log")
        daemons.append(daemon)
        wait_for(
            "Icinga 2 to start its checker",
            lambda: "'checker' started" in _read(directory / "icinga2.log"),
            daemons=daemons,
        )
        return instance

    return start


def _read(path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def stored() -> list[Alert]:
    return list(Alert.objects.order_by("fired_at"))


def test_a_service_that_goes_critical_and_recovers_is_one_alert(start_icinga2, daemons, source):
    icinga = start_icinga2()
    icinga.set_state("service", 2)
    (alert,) = wait_for("Morgue to store the CRITICAL service", stored, daemons=daemons)
    (sent,) = wait_for(
        "Icinga's log of the notification",
        lambda: icinga.sent("Problem", f"{HOST}!{SERVICE}!morgue"),
        daemons=daemons,
    )
    # Icinga's times have whole seconds, and its log and the command read the clock apart.
    assert abs(alert.fired_at - sent) <= dt.timedelta(seconds=1)
    assert (alert.check_name, alert.identity) == (SERVICE, f"{HOST}/{SERVICE}")
    assert (alert.host, alert.state) == (HOST, "CRITICAL")
    assert alert.labels["SERVICEDISPLAYNAME"] == SERVICE_DISPLAY
    assert alert.summary == "state 2"
    assert alert.resolved_at is None and alert.alert_source == source

    icinga.set_state("service", 0)

    def recovered():
        alert.refresh_from_db()
        return alert.resolved_at is not None

    wait_for("Morgue to store the service's recovery", recovered, daemons=daemons)
    (sent,) = wait_for(
        "Icinga's log of the recovery",
        lambda: icinga.sent("Recovery", f"{HOST}!{SERVICE}!morgue"),
        daemons=daemons,
    )
    assert abs(alert.resolved_at - sent) <= dt.timedelta(seconds=1)
    assert Alert.objects.count() == 1


def test_a_host_that_goes_down_and_comes_back_is_one_alert(start_icinga2, daemons, source):
    icinga = start_icinga2()
    icinga.set_state("host", 2)
    (alert,) = wait_for("Morgue to store the DOWN host", stored, daemons=daemons)
    (sent,) = wait_for(
        "Icinga's log of the notification", lambda: icinga.sent("Problem", f"{HOST}!morgue"), daemons=daemons
    )
    assert abs(alert.fired_at - sent) <= dt.timedelta(seconds=1)
    assert (alert.check_name, alert.host, alert.state) == ("Host check", HOST, "DOWN")
    assert alert.summary == "state 2"

    icinga.set_state("host", 0)

    def recovered():
        alert.refresh_from_db()
        return alert.resolved_at is not None

    wait_for("Morgue to store the host's recovery", recovered, daemons=daemons)
    (sent,) = wait_for(
        "Icinga's log of the recovery", lambda: icinga.sent("Recovery", f"{HOST}!morgue"), daemons=daemons
    )
    assert abs(alert.resolved_at - sent) <= dt.timedelta(seconds=1)
    assert Alert.objects.count() == 1


def test_a_problem_that_worsens_and_is_notified_again_is_one_alert(start_icinga2, daemons):
    icinga = start_icinga2()
    icinga.set_state("noisy", 1)
    (alert,) = wait_for("Morgue to store the WARNING", stored, daemons=daemons)
    assert alert.state == "WARNING"
    warned_at = alert.fired_at

    icinga.set_state("noisy", 2)
    wait_for(
        "Icinga to notify the CRITICAL and remind of it",
        lambda: icinga.sent("Problem", f"{HOST}!{NOISY}!morgue")[2:],
        daemons=daemons,
    )

    def critical():
        alert.refresh_from_db()
        return alert.state == "CRITICAL"

    wait_for("Morgue to store the CRITICAL", critical, daemons=daemons)
    # Icinga numbers the notifications of one problem: it is one alert from its first notice.
    assert stored() == [alert] and alert.fired_at == warned_at
    assert int(alert.labels["NOTIFICATIONNUMBER"]) >= 2

    icinga.set_state("noisy", 0)

    def recovered():
        alert.refresh_from_db()
        return alert.resolved_at is not None

    wait_for("Morgue to store the recovery", recovered, daemons=daemons)
    (sent,) = wait_for(
        "Icinga's log of the recovery",
        lambda: icinga.sent("Recovery", f"{HOST}!{NOISY}!morgue"),
        daemons=daemons,
    )
    assert abs(alert.resolved_at - sent) <= dt.timedelta(seconds=1)
    assert stored() == [alert]
