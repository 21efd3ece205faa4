"""The OpenAPI schema's generator: drf-spectacular's, saying which errors each operation can answer.

A client generated from the schema, or a contract test, reads a 400 or a 404
as part of the API only when the schema names it. Every error the API gives
has the one shape made by `morgue.rest.exception_handler` (and
`morgue.errors` for what never reaches a view): a `detail` sentence, and
field errors under `errors`.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers
from rest_framework.views import APIView


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, as a sentence.")
    # DRF's metaclass moves declared fields off the class, so this does not
    # replace Serializer.errors, whatever the stubs infer.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="For a refused body or parameter: each field's problems."
    )


# What any operation may answer: a bad body or parameter, no or a wrong
# login, not allowed, and an object (or a page of a list) that is not there.
ERRORS = {
    "400": "The request was refused: `detail` says why, `errors` names the fields.",
    "401": "No valid session or token.",
    "403": "Signed in, but not allowed to do this.",
    "404": "There is no such object (or page of the list).",
}
# What a write may also answer.
WRITE_ERRORS = {
    "409": "The change conflicts with the object's state (a stale version, a closed incident).",
    "413": "The request body is larger than the limit.",
}


def _may_be_blank(field: serializers.URLField) -> bool:
    """Whether an address field can hold "" (DRF drops `allow_blank` from read-only model fields)."""
    if field.allow_blank:
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False


class AutoSchema(openapi.AutoSchema):
    def map_parsers(self):
        # The API speaks JSON; forms are read too, for a browser or curl, but a
        # body declared three ways makes generated clients send the wrong one.
        # A view that chooses its parsers (an upload, a Nagios receiver) is taken at its word.
        chose = any(
            "parser_classes" in vars(klass) for klass in type(self.view).__mro__ if klass is not APIView
        )
        return super().map_parsers() if chose else ["application/json"]

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # drf-spectacular offers "" beside a format (an optional email or
        # address) as `oneOf`; a validator that leaves formats unchecked finds
        # "" valid under both and so refuses it. Either will do: `anyOf`.
        if len(schema.get("oneOf", [])) == 2 and schema["oneOf"][1] == {"type": "string", "maxLength": 0}:
            schema["anyOf"] = schema.pop("oneOf")
        # "" is no URI: an optional address (a diff, a ticket, a graph) is a string that may be empty.
        if isinstance(field, serializers.URLField) and schema.get("format") == "uri" and _may_be_blank(field):
            del schema["format"]
            schema["description"] = (schema.get("description", "") + " An http(s) address, or empty.").strip()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors.update(WRITE_ERRORS)
        for code, description in errors.items():
            if code not in responses:
                responses[code] = {
                    **self._get_response_for_code(ErrorSerializer, code, direction=direction),
                    "description": description,
                }
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema names morgue.auth.ApiTokenAuthentication: a bearer token (`Token` works too)."""

    target_class = "morgue.auth.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A person's API token (`morgue_…`), made on the profile page or with "
            "POST /api/v1/tokens/; `Authorization: Token <token>` is accepted too.",
        }
