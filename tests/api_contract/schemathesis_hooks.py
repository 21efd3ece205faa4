"""Schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS by test_fuzz.py).

People call the API with their token; the alert receivers are called by
alerting systems with a source's own token. The tokens come from the test
through the environment.
"""

import json
import os

import schemathesis

PERSON_TOKEN = os.environ.get("MORGUE_CONTRACT_TOKEN", "")
SOURCE_TOKENS: dict[str, str] = json.loads(os.environ.get("MORGUE_CONTRACT_SOURCE_TOKENS", "{}"))


@schemathesis.hook
def before_call(context, case, kwargs):
    token = SOURCE_TOKENS.get(case.path, PERSON_TOKEN)
    case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}
