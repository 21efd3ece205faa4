"""The OpenAPI schema at /api/schema/ is a valid OpenAPI document: code generators and validators read it."""

from openapi_spec_validator import OpenAPIV30SpecValidator


def _errors(schema: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in OpenAPIV30SpecValidator(schema).iter_errors()
    ]


def test_the_served_schema_has_no_validation_errors(api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.0")
    assert _errors(schema) == []


def test_the_validator_catches_a_default_its_own_format_refuses(schema):
    # The shape the schema once had: an email field whose default, "", is no email.
    broken = {
        **schema,
        "components": {**schema["components"], "schemas": dict(schema["components"]["schemas"])},
    }
    broken["components"]["schemas"]["Broken"] = {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email", "default": ""}},
    }
    assert any("is not a 'email'" in error for error in _errors(broken))


def test_every_operation_says_which_errors_it_answers(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404"} <= codes, (method, path, codes)
            if method in ("post", "patch", "put"):
                assert {"409", "413"} <= codes, (method, path, codes)
