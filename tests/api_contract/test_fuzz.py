"""Schemathesis over every operation, against a running Morgue: no 500s, every answer as documented.

It runs Schemathesis' own phases: the schema's examples, random valid and
invalid data (negative mode: wrong types, values past a limit, NUL bytes),
and stateful sequences that follow the links between operations (create,
then read back); on request also the coverage sweep of boundary and
malformed values per parameter and field. Checks: no server error, the
response body, status code and content type as the schema says. The seed and
a fixed number of examples keep the run the same in every CI run and within a
couple of minutes on SQLite or PostgreSQL.
"""

import base64
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import make_contract_data, openapi_schema

# The budget that keeps the run to a couple of minutes in every CI run: examples
# per operation and phase, and the phases. The coverage phase (every boundary
# and malformed value of every parameter, some 5,000 requests) runs when asked:
# MORGUE_FUZZ_PHASES=examples,coverage,fuzzing,stateful MORGUE_FUZZ_EXAMPLES=100.
# test_malformed_input.py sends its own corpus of malformed values on every run.
MAX_EXAMPLES = int(os.environ.get("MORGUE_FUZZ_EXAMPLES", "10"))
PHASES = os.environ.get("MORGUE_FUZZ_PHASES", "examples,fuzzing,stateful")
SEED = int(os.environ.get("MORGUE_FUZZ_SEED", "1"))
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def _summary(report: Path) -> dict:
    """Counts from Schemathesis' NDJSON events: cases, status codes, operations, failures."""
    cases = 0
    statuses: collections.Counter[int] = collections.Counter()
    operations: set[str] = set()
    failures: dict[tuple[str, str, str], str] = {}
    errors: list[str] = []
    phases: dict[str, float] = {}
    started = 0.0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        if "PhaseStarted" in event:
            started = event["PhaseStarted"]["timestamp"]
        if "PhaseFinished" in event:
            phase = event["PhaseFinished"]
            phases[phase["phase"]["name"]] = round(phase["timestamp"] - started, 1)
        if "NonFatalError" in event:
            errors.append(json.dumps(event["NonFatalError"])[:2000])
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        cases += len(recorder.get("cases", {}))
        for case in recorder.get("cases", {}).values():
            value = case["value"]
            operations.add(f"{value['method']} {value['path']}")
        for interaction in recorder.get("interactions", {}).values():
            if interaction.get("response"):
                statuses[interaction["response"]["status_code"]] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] == "success":
                    continue
                failure = (check.get("failure_info") or {}).get("failure", {})
                message = failure.get("message") or ""
                key = (
                    check["name"],
                    str(failure.get("operation")),
                    message.splitlines()[0] if message else "",
                )
                failures.setdefault(key, _describe(message, recorder["interactions"].get(case_id)))
    return {
        "cases": cases,
        "statuses": statuses,
        "operations": operations,
        "failures": failures,
        "errors": errors,
        "phases": phases,
    }


def _describe(message: str, interaction: dict | None) -> str:
    if not interaction:
        return message
    request = interaction["request"]
    body = request.get("body")
    if isinstance(body, dict) and "$base64" in body:
        body = base64.b64decode(body["$base64"])[:500]
    response = interaction.get("response") or {}
    content = response.get("content")
    if isinstance(content, dict) and "$base64" in content:
        content = base64.b64decode(content["$base64"])[:500]
    return (
        f"{message}\n  request: {request['method']} {request['uri']} {body!r}\n"
        f"  response: {response.get('status_code')} {content!r}"
    )


@pytest.mark.django_db(transaction=True)
def test_every_operation_keeps_the_contract_under_generated_and_malformed_input(live_server, tmp_path):
    data = make_contract_data()
    schema = openapi_schema()
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(json.dumps(schema))
    report = tmp_path / "report.ndjson"
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        str(schema_path),
        "--url",
        live_server.url,
        "--checks",
        CHECKS,
        "--mode",
        "all",
        "--phases",
        PHASES,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--generation-with-security-parameters",
        "false",
        "--workers",
        "1",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--no-color",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api_contract.schemathesis_hooks",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "MORGUE_CONTRACT_TOKEN": data.token,
        "MORGUE_CONTRACT_SOURCE_TOKENS": json.dumps(data.source_tokens),
    }
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)

    assert report.exists(), run.stdout[-5000:] + run.stderr[-3000:]
    summary = _summary(report)
    operations = {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item}
    print(
        f"\nSchemathesis: {summary['cases']} cases over {len(summary['operations'] & operations)} of "
        f"{len(operations)} operations; status codes {dict(sorted(summary['statuses'].items()))}; "
        f"seconds per phase {summary['phases']}"
    )
    failures = "\n\n".join(
        f"{name} {operation}:\n{detail}" for (name, operation, _), detail in summary["failures"].items()
    )
    assert not summary["failures"], f"{len(summary['failures'])} distinct failures:\n\n{failures}"
    assert not summary["errors"], "\n".join(summary["errors"])
    assert summary["statuses"][500] == 0
    assert operations <= summary["operations"], operations - summary["operations"]
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
