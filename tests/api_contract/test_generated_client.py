"""A Python client generated from the schema with openapi-python-client works against a running Morgue.

The client is generated into a temporary folder and imported from there; the
packages it needs at run time (httpx, attrs, python-dateutil) are pinned in
requirements.txt, so nothing is downloaded.
"""

import datetime as dt
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from .conftest import make_contract_data, openapi_schema

PACKAGE = "morgue_generated_client"


@pytest.fixture
def generated_client(tmp_path, monkeypatch):
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(json.dumps(openapi_schema()))
    config = tmp_path / "config.yml"
    config.write_text("post_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(schema_path),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The generator warns about what it could not turn into code; the schema has nothing of that kind.
    assert "Warning" not in run.stdout, run.stdout
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_creates_an_incident_reads_it_lists_alerts_and_who_is_on_call(
    live_server, generated_client
):
    data = make_contract_data()
    package = generated_client
    api = importlib.import_module(f"{PACKAGE}.api.v1")
    models = importlib.import_module(f"{PACKAGE}.models")
    for name in ("v1_incidents_create", "v1_incidents_retrieve", "v1_alerts_list", "v1_oncall_list"):
        importlib.import_module(f"{PACKAGE}.api.v1.{name}")
    client = package.AuthenticatedClient(base_url=live_server.url, token=data.token, prefix="Token")
    client.raise_on_unexpected_status = True
    started = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)

    with client:
        created = api.v1_incidents_create.sync(
            client=client,
            body=models.IncidentWriteRequest(
                title="Checkout returns 500s",
                impact_started_at=started,
                detected_at=started + dt.timedelta(minutes=5),
                severity=models.SeverityEnum.VALUE_2,
                team="ops",
                tags=["payments"],
            ),
        )
        assert isinstance(created, models.Incident), created
        read = api.v1_incidents_retrieve.sync(created.id, client=client)
        alerts = api.v1_alerts_list.sync(client=client)
        on_call = api.v1_oncall_list.sync(client=client, team="ops")
        refused = api.v1_incidents_create.sync_detailed(
            client=client,
            body=models.IncidentWriteRequest(
                title="Detected before it started",
                impact_started_at=started,
                detected_at=started - dt.timedelta(minutes=5),
            ),
        )

    assert isinstance(read, models.Incident)
    assert (read.id, read.title, read.team, read.severity) == (created.id, "Checkout returns 500s", "ops", 2)
    assert read.impact_started_at == started
    assert read.tags == ["payments"]

    assert isinstance(alerts, models.PaginatedAlertList)
    # The alert list pages by cursor: no total, a link to the next page.
    assert len(alerts.results) == 1
    assert alerts.results[0].team == "ops"

    assert on_call and all(isinstance(row, models.OnCall) for row in on_call)
    assert {row.level for row in on_call} == {"L1", "L2"}
    assert all(row.shift_start <= timezone.now() < row.shift_end for row in on_call)

    # A refusal comes back as the documented Error model, not an "unexpected status".
    assert refused.status_code == 400
    assert isinstance(refused.parsed, models.Error)
    assert "detected_at" in refused.parsed.errors.additional_properties
