"""Nagios 4 (Debian's) notifies a live Morgue through the README's command definitions."""

import datetime as dt
import os
import pwd
import re
import time

import pytest

from alerts_review.models import Alert
from tests.factories import AlertSourceFactory

from .conftest import Daemon, need, readme_block, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

UTC = dt.UTC
HOST = "web042"
SERVICE = "Apache Busy Workers"
# Notified again every two seconds while it is a problem.
NOISY = "Queue Depth"


def nagios_cfg(directory, user: str) -> str:
    # Everything Nagios writes stays in `directory`; one-second scheduling
    # (interval_length=1) and reaping make a state change take about a second.
    return f"""\
log_file={directory}/nagios.log
cfg_file={directory}/objects.cfg
object_cache_file={directory}/objects.cache
precached_object_file={directory}/objects.precache
status_file={directory}/status.dat
status_update_interval=1
nagios_user={user}
nagios_group={user}
check_external_commands=1
command_file={directory}/nagios.cmd
lock_file={directory}/nagios.lock
temp_file={directory}/nagios.tmp
temp_path={directory}
check_result_path={directory}/checkresults
query_socket={directory}/nagios.qh
use_syslog=0
log_notifications=1
log_initial_states=1
interval_length=1
max_service_check_spread=1
max_host_check_spread=1
check_result_reaper_frequency=1
service_check_timeout=10
host_check_timeout=10
notification_timeout=15
retain_state_information=0
check_for_updates=0
illegal_macro_output_chars=`~$&|'"<>
enable_flap_detection=0
enable_notifications=1
execute_service_checks=1
execute_host_checks=1
"""


def objects_cfg(directory, notify_commands: str) -> str:
    # The checks exit with the number in a state file the test writes ($$ is
    # a literal $ in a Nagios command line, and ; would start a comment).
    return f"""\
{notify_commands}
define command {{
    command_name    check-state-file
    command_line    /bin/sh -c 'echo "state $$(cat $ARG1$)" && exit $$(cat $ARG1$)'
}}
define timeperiod {{
    timeperiod_name always
    alias           Always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}}
define contact {{
    contact_name                    morgue
    alias                           Morgue
    host_notifications_enabled      1
    service_notifications_enabled   1
    host_notification_period        always
    service_notification_period     always
    host_notification_options       d,u,r
    service_notification_options    w,u,c,r
    host_notification_commands      notify-host-by-morgue
    service_notification_commands   notify-service-by-morgue
}}
define host {{
    host_name               {HOST}
    address                 127.0.0.1
    check_command           check-state-file!{directory}/host.state
    max_check_attempts      1
    check_interval          1
    retry_interval          1
    check_period            always
    notification_period     always
    notification_interval   0
    notification_options    d,u,r
    contacts                morgue
}}
define service {{
    host_name               {HOST}
    service_description     {SERVICE}
    check_command           check-state-file!{directory}/service.state
    max_check_attempts      1
    check_interval          1
    retry_interval          1
    check_period            always
    notification_period     always
    notification_interval   0
    notification_options    w,u,c,r
    contacts                morgue
}}
define service {{
    host_name               {HOST}
    service_description     {NOISY}
    check_command           check-state-file!{directory}/noisy.state
    max_check_attempts      1
    check_interval          1
    retry_interval          1
    check_period            always
    notification_period     always
    notification_interval   2
    notification_options    w,u,c,r
    contacts                morgue
}}
"""


class Nagios:
    def __init__(self, directory, daemon: Daemon):
        self.directory = directory
        self.daemon = daemon

    def set_state(self, what: str, code: int) -> None:
        (self.directory / f"{what}.state").write_text(f"{code}\n")

    def command(self, text: str) -> None:
        """An external command, as `nagios.cmd` takes them."""
        with open(self.directory / "nagios.cmd", "w") as pipe:
            pipe.write(f"[{int(time.time())}] {text}\n")

    def check_now(self) -> None:
        now = int(time.time())
        self.command(f"SCHEDULE_FORCED_HOST_CHECK;{HOST};{now}")
        for service in (SERVICE, NOISY):
            self.command(f"SCHEDULE_FORCED_SVC_CHECK;{HOST};{service};{now}")

    def notifications(self, kind: str) -> list[tuple[dt.datetime, list[str]]]:
        """Nagios' own log of its notifications: (when, fields) of each `kind` (SERVICE or HOST)."""
        log = (self.directory / "nagios.log").read_text()
        return [
            (dt.datetime.fromtimestamp(int(stamp), UTC), fields.split(";"))
            for stamp, fields in re.findall(
                rf"^\[(\d+)\] {kind} NOTIFICATION: (.*)$", log, flags=re.MULTILINE
            )
        ]


@pytest.fixture
def source():
    return AlertSourceFactory(name="nagios", kind="nagios")


@pytest.fixture
def nagios(tmp_path, daemons, live_server, source):
    """Nagios 4 with one host and one service, notifying Morgue with the README's commands."""
    binary = need("nagios4", "nagios4")
    need("curl", "curl")
    commands = readme_block("notify-service-by-morgue")
    assert "notify-host-by-morgue" in commands
    commands = commands.replace("https://morgue.example.com", live_server.url).replace(
        "<token>", source.token
    )
    directory = tmp_path
    (directory / "checkresults").mkdir()
    user = pwd.getpwuid(os.getuid()).pw_name
    (directory / "nagios.cfg").write_text(nagios_cfg(directory, user))
    (directory / "objects.cfg").write_text(objects_cfg(directory, commands))
    instance = Nagios(directory, None)
    instance.set_state("host", 0)
    instance.set_state("service", 0)
    instance.set_state("noisy", 0)
    daemon = Daemon("nagios4", [binary, str(directory / "nagios.cfg")], directory / "nagios.out")
    daemon.extra_logs.append(directory / "nagios.log")
    daemons.append(daemon)
    instance.daemon = daemon
    wait_for("Nagios' command file", lambda: (directory / "nagios.cmd").exists(), daemons=daemons)
    return instance


def stored(check: str) -> list[Alert]:
    return list(Alert.objects.filter(check_name=check).order_by("fired_at"))


def test_a_service_that_goes_critical_and_recovers_is_one_alert(nagios, daemons, source):
    nagios.set_state("service", 2)
    nagios.check_now()
    (alert,) = wait_for("Morgue to store the CRITICAL service", lambda: stored(SERVICE), daemons=daemons)
    ((noticed, fields),) = nagios.notifications("SERVICE")
    assert fields[:5] == ["morgue", HOST, SERVICE, "CRITICAL", "notify-service-by-morgue"]
    assert alert.fired_at == noticed
    assert (alert.host, alert.state, alert.identity) == (HOST, "CRITICAL", f"{HOST}/{SERVICE}")
    assert alert.summary == "state 2"
    assert alert.resolved_at is None and alert.alert_source == source

    nagios.set_state("service", 0)
    nagios.check_now()

    def recovered():
        alert.refresh_from_db()
        return alert.resolved_at is not None

    wait_for("Morgue to store the service's recovery", recovered, daemons=daemons)
    (_, (recovered_at, fields)) = nagios.notifications("SERVICE")
    assert fields[3] == "OK"
    assert alert.resolved_at == recovered_at and alert.fired_at == noticed
    assert Alert.objects.count() == 1


def test_a_host_that_goes_down_and_comes_back_is_one_alert(nagios, daemons, source):
    nagios.set_state("host", 2)
    nagios.check_now()
    (alert,) = wait_for("Morgue to store the DOWN host", lambda: stored("Host check"), daemons=daemons)
    ((noticed, fields),) = nagios.notifications("HOST")
    assert fields[:4] == ["morgue", HOST, "DOWN", "notify-host-by-morgue"]
    assert alert.fired_at == noticed
    assert (alert.host, alert.state) == (HOST, "DOWN")
    assert alert.summary == "state 2"

    nagios.set_state("host", 0)
    nagios.check_now()

    def recovered():
        alert.refresh_from_db()
        return alert.resolved_at is not None

    wait_for("Morgue to store the host's recovery", recovered, daemons=daemons)
    (_, (recovered_at, fields)) = nagios.notifications("HOST")
    assert fields[2] == "UP"
    assert alert.resolved_at == recovered_at
    assert list(Alert.objects.values_list("check_name", flat=True)) == ["Host check"]


def test_a_problem_that_worsens_and_is_notified_again_is_one_alert(nagios, daemons):
    nagios.set_state("noisy", 1)
    nagios.check_now()
    (alert,) = wait_for("Morgue to store the WARNING", lambda: stored(NOISY), daemons=daemons)
    assert alert.state == "WARNING"
    warned_at = alert.fired_at

    nagios.set_state("noisy", 2)
    nagios.check_now()

    def notified_again():
        states = [fields[3] for _, fields in nagios.notifications("SERVICE") if fields[2] == NOISY]
        return states.count("CRITICAL") >= 2 and states

    states = wait_for("Nagios to notify the CRITICAL again", notified_again, daemons=daemons)
    assert states[0] == "WARNING"

    def critical():
        alert.refresh_from_db()
        return alert.state == "CRITICAL"

    wait_for("Morgue to store the CRITICAL", critical, daemons=daemons)
    # Nagios' problem id stays the same from WARNING to CRITICAL and across
    # re-notifications: it is one problem, and one alert from its first notice.
    assert stored(NOISY) == [alert] and alert.fired_at == warned_at
    # The README's macros are ones Nagios 4 fills in with numbers.
    assert int(alert.labels["SERVICEPROBLEMID"]) > 0 and int(alert.labels["NOTIFICATIONNUMBER"]) >= 2

    nagios.set_state("noisy", 0)
    nagios.check_now()

    def recovered():
        alert.refresh_from_db()
        return alert.resolved_at is not None

    wait_for("Morgue to store the recovery", recovered, daemons=daemons)
    (recovered_at,) = [at for at, fields in nagios.notifications("SERVICE") if fields[3] == "OK"]
    assert alert.resolved_at == recovered_at and stored(NOISY) == [alert]
