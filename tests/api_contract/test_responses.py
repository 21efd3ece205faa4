"""Every read of a real object answers as the schema documents it, empty values included.

Schemathesis draws its ids at random; here every GET operation is called on
the objects `contract_data` makes (an incident without a team, a chat-log
event without an author, an unacknowledged page, an alert not yet
classified), and the body is validated against the operation's documented
response with OpenAPI 3.0's rules (`nullable`, `readOnly`, formats).
"""

import functools

import pytest
from openapi_schema_validator import OAS30ReadValidator
from rest_framework.test import APIClient

from .conftest import openapi_schema
from .test_malformed_input import _fill

# Values for the query parameters an operation requires.
REQUIRED_QUERY = {"month": "2026-10"}


@functools.cache
def _schema() -> dict:
    return openapi_schema()


def _reads() -> list[str]:
    return [path for path, item in _schema()["paths"].items() if "get" in item]


def _problems(path: str, status: int, body) -> list[str]:
    schema = _schema()
    response = schema["paths"][path]["get"]["responses"][str(status)]
    media = response.get("content", {}).get("application/json")
    if media is None:
        return []
    # The response's schema, with the components its $refs point into.
    validator = OAS30ReadValidator({"allOf": [media["schema"]], "components": schema["components"]})
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body)
    ]


@pytest.mark.parametrize("path", _reads())
def test_a_read_of_real_objects_answers_as_documented(contract_data, path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {contract_data.token}")

    parameters = _schema()["paths"][path]["get"].get("parameters", [])
    query = {
        p["name"]: REQUIRED_QUERY[p["name"]] for p in parameters if p["in"] == "query" and p.get("required")
    }

    response = client.get(_fill(path, contract_data), query)

    assert response.status_code in (200, 404), response.content
    if not response["Content-Type"].startswith("application/json"):
        return
    assert _problems(path, response.status_code, response.json()) == []
