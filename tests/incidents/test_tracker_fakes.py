"""The Jira fake answers as the `jira` client from PyPI (pycontribs/jira) expects.

Morgue's own client (incidents/trackers.py) is tested against the fakes; this
holds the Jira fake to a client written by others, so a fake that drifted from
Jira's shapes fails here rather than passing Morgue's tests by agreement.
"""

import pytest
from jira import JIRA
from jira.exceptions import JIRAError

from .tracker_fakes import JIRA_USER, TOKEN, fake_tracker


def _client(url: str, token: str = TOKEN) -> JIRA:
    return JIRA(server=url, basic_auth=(JIRA_USER, token), get_server_info=False, max_retries=0, timeout=5)


def test_the_jira_client_creates_finds_moves_and_comments_on_an_issue_in_the_fake():
    with fake_tracker("jira-server") as fake:
        client = _client(fake.url)
        created = client.create_issue(
            fields={
                "project": {"key": "OPS"},
                "summary": "Alert on queue depth",
                "issuetype": {"name": "Task"},
                "description": "Page before it fills.",
                "labels": ["morgue-item-9"],
            }
        )
        assert created.key == "OPS-1"
        found = client.search_issues('project = "OPS" AND labels = "morgue-item-9"')
        assert [issue.key for issue in found] == ["OPS-1"]
        transitions = client.transitions(created)
        done = next(entry for entry in transitions if entry["to"]["statusCategory"]["key"] == "done")
        client.transition_issue(created, done["id"])
        assert client.issue("OPS-1").fields.status.statusCategory.key == "done"
        comment = client.add_comment("OPS-1", "Done in Morgue.")
        assert comment.id
        assert fake.issues[0]["comments"] == ["Done in Morgue."]


def test_the_fake_refuses_the_jira_client_with_the_wrong_token():
    with fake_tracker("jira-server") as fake, pytest.raises(JIRAError) as refused:
        _client(fake.url, token="wrong").issue("OPS-1")
    assert refused.value.status_code == 401
