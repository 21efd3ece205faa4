"""The `/morgue` command parser (incidents.chat_commands): plain tests, no Django."""

import pytest

from incidents.chat_commands import (
    HELP,
    Acknowledge,
    CommandError,
    Declare,
    Help,
    Mention,
    OnCall,
    Resolve,
    Role,
    StatusUpdate,
    parse,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("declare Checkout is failing", Declare("Checkout is failing", 3)),
        ("declare Checkout is failing sev1", Declare("Checkout is failing", 1)),
        ("  DECLARE   Card auths   failing   [SEV2] ", Declare("Card auths failing", 2)),
        ("declare Search slow s4", Declare("Search slow", 4)),
        ("status Card payments fail | Rolling back", StatusUpdate("Card payments fail", "Rolling back")),
        ("status Rolling back the release", StatusUpdate("", "Rolling back the release")),
        ("update a|b", StatusUpdate("a", "b")),
        ("update Rolling back the release", StatusUpdate("", "Rolling back the release")),
        ("UPDATE Checkout | Failing over", StatusUpdate("Checkout", "Failing over")),
        ("role lead <@U024BE7LH|lena>", Role("lead", Mention(slack_id="U024BE7LH"))),
        ("role comms <@W0123ABC>", Role("communications", Mention(slack_id="W0123ABC"))),
        ("role Scribe @lena.k", Role("scribe", Mention(username="lena.k"))),
        ("role db-expert @sam", Role("db-expert", Mention(username="sam"))),
        ("resolve", Resolve()),
        ("oncall", OnCall(team="")),
        ("oncall ops", OnCall(team="ops")),
        ("oncall  Payments Platform ", OnCall(team="Payments Platform")),
        ("on-call #ops", OnCall(team="ops")),
        ("oncall <#C024BE7LR|ops>", OnCall(team="ops")),
        ("ack", Acknowledge()),
        ("ACKNOWLEDGE", Acknowledge()),
        ("help", Help()),
        ("", Help()),
    ],
)
def test_commands_read_as_written(text, command):
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("declare", "Give the incident a title"),
        ("declare sev2", "Give the incident a title"),
        ("declare Disk full sev9", "sev9 is not one of them"),
        ("declare " + "x" * 201, "longer than 200 characters"),
        ("status", "Say what the update is"),
        ("update", "Say what the update is: `/morgue update"),
        ("update | rolling back", "Write both halves"),
        ("oncall " + "x" * 101, "at most 100 characters"),
        ("ack page 12", "takes nothing after it"),
        ("status | rolling back", "Write both halves"),
        ("status checkout |", "Write both halves"),
        ("role lead", "Name a role and a person"),
        ("role lead lena", "lena is not one"),
        ("role Lead! @lena", "Lead! is not a role"),
        ("resolve now please", "takes nothing after it"),
        ("page payments", "`page` is not a Morgue command"),
    ],
)
def test_what_is_not_a_command_is_answered_with_a_sentence(text, sentence):
    with pytest.raises(CommandError, match=sentence.replace("|", r"\|")):
        parse(text)


def test_help_names_every_command():
    for verb in ("declare", "update", "status", "role", "resolve", "oncall", "ack", "help"):
        assert f"/morgue {verb}" in HELP
