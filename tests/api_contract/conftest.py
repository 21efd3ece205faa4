"""The API contract: what the OpenAPI schema promises, checked against what the API does.

`contract_data` makes one of each kind of object the API serves, so generated
requests that name an id, a slug or a username reach a real object as well as
a missing one.
"""

import dataclasses
import datetime as dt
import json

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from alerts_review.models import SourceKind
from incidents.models import TimelineEvent
from morgue.models import ApiToken
from oncall import services as oncall_services
from oncall.models import Level, Shift
from tests.factories import (
    AlertFactory,
    AlertSourceFactory,
    DeployFactory,
    GraphSnapshotFactory,
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    UserFactory,
    make_api_token,
    make_rotation,
)

WRITE_METHODS = ("post", "put", "patch", "delete")


def openapi_schema() -> dict:
    """The schema as /api/schema/ serves it, generated in process (as JSON types)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


@dataclasses.dataclass
class ContractData:
    """What the contract tests send requests about, and the tokens they send them with."""

    token: str  # a staff person's API token
    source_tokens: dict[str, str]  # receiver path → its alert source's token
    path_values: dict[str, str]  # path parameter → a value naming a real object


def make_contract_data() -> ContractData:
    now = timezone.now()
    staff = ProfileFactory(user=UserFactory(username="sam-staff", is_staff=True)).user
    rotation = make_rotation(now=now, first_shift_date=now.date() - dt.timedelta(days=10))
    team = rotation.team
    incident = IncidentFactory(team=team, facilitator=staff)
    TimelineEvent.objects.create(
        incident=incident, occurred_at=incident.detected_at, text="Paged the database team", author=staff
    )
    # Empty values the responses must declare: an event from a chat log has no
    # author, an incident may have no team or facilitator.
    TimelineEvent.objects.create(
        incident=incident, occurred_at=incident.detected_at, text="restarting the pool", speaker="kim"
    )
    IncidentFactory(team=None, facilitator=None)
    deploy = DeployFactory()
    incident.deploys.add(deploy)
    snapshot = GraphSnapshotFactory(incident=incident)
    item = RemediationItemFactory(incident=incident, owner=staff, team=team)
    alert = AlertFactory(team=team)
    page = oncall_services.page_team(team=team, message="Checkout is down", created_by=staff)
    swap_at = now + dt.timedelta(days=40)
    holder = Shift.objects.covering(swap_at).get(rotation=rotation, level=Level.L1).user
    rotation.members.create(user=staff, position=99)  # eligible to take the swap
    swap = oncall_services.ask_swap(
        requested_by=holder,
        rotation=rotation,
        level=Level.L1,
        taken_by=staff,
        starts_at=swap_at,
        ends_at=swap_at + dt.timedelta(hours=4),
        reason="dentist",
    )
    sources = {
        "/api/v1/alerts/alertmanager/": AlertSourceFactory(kind=SourceKind.ALERTMANAGER),
        "/api/v1/alerts/nagios/": AlertSourceFactory(kind=SourceKind.NAGIOS),
        "/api/v1/alerts/": AlertSourceFactory(kind=SourceKind.GENERIC),
    }
    # The staff person's own token never expires; the spare one is what {id} of /tokens/ names
    # (revoking it leaves the token the requests are sent with working).
    token = make_api_token(staff, days=None)
    make_api_token(staff, name="spare")
    spare = ApiToken.objects.get(owner=staff, name="spare")
    return ContractData(
        token=token,
        source_tokens={path: source.token for path, source in sources.items()},
        path_values={
            "id": str(incident.pk),
            "incident_id": str(incident.pk),
            "deploy_id": str(deploy.pk),
            "snapshot_id": str(snapshot.pk),
            "slug": rotation.slug,
            "username": staff.username,
            # Operations whose {id} is another kind of object.
            "/api/v1/alerts/{id}/": str(alert.pk),
            "/api/v1/deploys/{id}/": str(deploy.pk),
            "/api/v1/pages/{id}/": str(page.pk),
            "/api/v1/pages/{id}/acknowledge/": str(page.pk),
            "/api/v1/remediations/{id}/": str(item.pk),
            "/api/v1/swaps/{id}/accept/": str(swap.pk),
            "/api/v1/swaps/{id}/decline/": str(swap.pk),
            "/api/v1/swaps/{id}/withdraw/": str(swap.pk),
            "/api/v1/teams/{slug}/": team.slug,
            "/api/v1/tokens/{id}/": str(spare.pk),
            "/api/v1/tokens/{id}/revoke/": str(spare.pk),
        },
    )


@pytest.fixture
def contract_data(db) -> ContractData:
    return make_contract_data()


@pytest.fixture(scope="session")
def schema() -> dict:
    return openapi_schema()
