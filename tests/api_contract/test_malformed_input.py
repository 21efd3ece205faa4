"""A corpus of malformed input sent to every operation of the schema: never a 500, always a JSON answer.

For each operation, every field of its body gets each bad value (a NUL, a lone
surrogate, a slug with odd characters, numbers past 64 bits, wrong types, `[{}]`
where a list goes), the body as a whole is replaced by unreadable ones
(100,000-deep JSON, bytes that are not UTF-8, a list), and its path and query
parameters get the same treatment. Wherever a value reaches a database look-up
or a service, PostgreSQL's refusal of NUL in text and SQLite's of integers past
64 bits are what this catches; run it on both.
"""

import functools
import json

import pytest
from rest_framework.test import APIClient

from .conftest import ContractData, openapi_schema

# A value for every field at once, so each field's own validation runs on it.
BAD_VALUES = {
    "nul": "a\x00b",
    "lone-surrogate": "a\ud800b",
    "odd-slug": "../ops primary;%00?x=1#",
    "huge-int": 10**30,
    "negative-huge-int": -(10**30),
    "huge-float": 1e308,
    "object": {"a": 1},
    "list-of-empty-objects": [{}],
    "list-of-nul": ["a\x00b"],
    "null": None,
    "bool": True,
    "empty": "",
}
# Whole bodies, as bytes with their content type.
BAD_BODIES = {
    "deep-json": ("[" * 100_000 + "]" * 100_000, "application/json"),
    "deep-object": ('{"a":' * 100_000 + "1" + "}" * 100_000, "application/json"),
    "not-utf8": (b"\xff\xfe{\x00}", "application/json"),
    "nul-byte": (b"\x00", "application/json"),
    "truncated": ('{"title": "a', "application/json"),
    "list": ("[{}]", "application/json"),
    "string": ('"x"', "application/json"),
    "null": ("null", "application/json"),
    "escaped-nul": ('{"\\u0000": "\\u0000"}', "application/json"),
    "form-with-nul": ("title=a%00b&team=a%00b&members=a%00b", "application/x-www-form-urlencoded"),
    "multipart-garbage": (b"--x\r\n\x00\r\n", "multipart/form-data; boundary=x"),
}
BAD_PARAMETERS = {
    "nul": "a%00b",
    "surrogate": "%ED%A0%80",
    "huge-int": "1" + "0" * 30,
    "negative": "-1",
    "odd-slug": "..%2F..%2Fetc",
}


@functools.cache
def _schema() -> dict:
    return openapi_schema()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations() -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, item in _schema()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _body_fields(method: str, path: str) -> list[str]:
    schema = _schema()
    body = schema["paths"][path][method].get("requestBody", {})
    media = body.get("content", {}).get("application/json")
    if not media:
        return []
    node = _resolve(schema, media["schema"])
    return sorted(node.get("properties", {}))


def _query_parameters(method: str, path: str) -> list[str]:
    operation = _schema()["paths"][path][method]
    return [parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"]


def _fill(path: str, data: ContractData, override: str | None = None) -> str:
    address = path
    for name in ("id", "incident_id", "deploy_id", "snapshot_id", "slug", "username"):
        token = "{" + name + "}"
        if token in address:
            value = override if override is not None else data.path_values.get(path, data.path_values[name])
            if override is None and name == "id" and path in data.path_values:
                value = data.path_values[path]
            address = address.replace(token, value)
    return address


def _client(data: ContractData, path: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {data.source_tokens.get(path, data.token)}")
    return client


def _problems(label: str, response) -> list[str]:
    if response.status_code >= 500:
        return [f"{label}: {response.status_code} {response.content[:300]!r}"]
    if response.status_code >= 400 and not response["Content-Type"].startswith("application/json"):
        return [f"{label}: a {response.status_code} in {response['Content-Type']}, not JSON"]
    return []


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda value: value)
def test_malformed_input_is_refused_with_a_json_answer_never_a_500(contract_data, method, path):
    client = _client(contract_data, path)
    address = _fill(path, contract_data)
    problems: list[str] = []
    fields = _body_fields(method, path)

    if method in ("post", "put", "patch"):
        for name, value in BAD_VALUES.items():
            body = json.dumps(dict.fromkeys(fields, value) or {"x": value})
            response = client.generic(method.upper(), address, body, content_type="application/json")
            problems += _problems(f"every field {name}", response)
        for field in fields:
            for name in ("nul", "lone-surrogate", "huge-int", "list-of-empty-objects", "object"):
                body = json.dumps({field: BAD_VALUES[name]})
                response = client.generic(method.upper(), address, body, content_type="application/json")
                problems += _problems(f"{field} {name}", response)
        for name, (body, content_type) in BAD_BODIES.items():
            response = client.generic(method.upper(), address, body, content_type=content_type)
            problems += _problems(f"body {name}", response)

    if "{" in path:
        for name, value in BAD_PARAMETERS.items():
            response = client.generic(method.upper(), _fill(path, contract_data, override=value))
            problems += _problems(f"path {name}", response)

    for parameter in _query_parameters(method, path):
        for name, value in BAD_PARAMETERS.items():
            response = client.generic(method.upper(), f"{address}?{parameter}={value}")
            problems += _problems(f"query {parameter} {name}", response)

    assert not problems, "\n".join(problems)
