"""factory_boy factories shared by every test module."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from alerts_review.models import Alert, AlertSource, Category
from incidents.models import Deploy, GraphSnapshot, Incident, RemediationItem, Tag, TimelineEvent
from incidents.models.remediation import incident_origin
from morgue import tokens
from morgue.models import ApiToken, Profile, Team, TeamMembership
from morgue.permissions import forget_roles
from oncall import services as oncall_services
from oncall.models import Rotation, Shift


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("password")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile
        django_get_or_create = ["user"]
        skip_postgeneration_save = True  # reset_calendar_token saves what it changes

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda profile: profile.user.get_full_name())
    time_zone = "UTC"

    @factory.post_generation
    def calendar_token(profile, create, extracted, **kwargs):
        # A feed token, as if the person had made one: the plain token stays on this
        # instance (profile.calendar_token, and person.profile.calendar_token), only its hash is saved.
        if create and extracted is not False and not profile.has_calendar_token:
            profile.reset_calendar_token()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    email = factory.LazyAttribute(lambda team: f"{team.slug}@example.com")


def member_of(team: Team, role: str = "responder", user=None):
    """Put a person (a new one unless given) in `team` with `role`; returns the person."""
    user = user if user is not None else ProfileFactory().user
    TeamMembership.objects.update_or_create(team=team, user=user, defaults={"role": role})
    forget_roles(user)
    return user


def responder(user):
    """The person, a responder of a team of their own: they may run incidents nobody owns yet."""
    return member_of(TeamFactory(slug="responders", name="Responders"), "responder", user=user)


def _joined(team: Team, user):
    """The person, in the team as a responder unless they already have a role there."""
    TeamMembership.objects.get_or_create(team=team, user=user)
    forget_roles(user)
    return user


# --- Incidents and postmortems ------------------------------------------------------


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident that started an hour ago and was detected five minutes later.

    The one factory for incidents: a test that depends on a severity, a date or a
    status says so in its own call (`IncidentFactory(severity=2, impact_started_at=...)`).
    """

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Incident {n}")
    severity = 3
    impact_started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    detected_at = factory.LazyAttribute(lambda incident: incident.impact_started_at + dt.timedelta(minutes=5))

    @factory.post_generation
    def tags(self, create, names, **kwargs):
        if create and names:
            self.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])


class TimelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    incident = factory.SubFactory(IncidentFactory)
    occurred_at = factory.LazyAttribute(lambda event: event.incident.detected_at)
    kind = "action"
    text = factory.Sequence(lambda n: f"Step {n}")


# --- Evidence: deploys and graph snapshots ---------------------------------------------


class DeployFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deploy

    stack = "web"
    environment = "production"
    deployer = "alice"
    old_revision = factory.Sequence(lambda n: f"{n:010x}")
    new_revision = factory.Sequence(lambda n: f"{n + 1:010x}")
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(lambda deploy: deploy.started_at + dt.timedelta(minutes=3))


class GraphSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GraphSnapshot

    incident = factory.SubFactory(IncidentFactory)
    title = "5xx rate"
    url = "http://graphs.example.com/render?target=stats.web.5xx"
    fetch_url = factory.LazyAttribute(lambda snapshot: snapshot.url)


# --- Remediation items -----------------------------------------------------------


class RemediationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RemediationItem

    incident = factory.SubFactory(IncidentFactory)
    # As incidents.services.remediation.create_item records it.
    origin_title = factory.LazyAttribute(
        lambda item: incident_origin(item.incident)[0] if item.incident else "No incident"
    )
    origin_url = factory.LazyAttribute(
        lambda item: incident_origin(item.incident)[1] if item.incident else "/remediations/"
    )
    title = factory.Sequence(lambda n: f"Add an alert on queue depth {n}")
    kind = "dev"
    category = "detect"
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.now().date() + dt.timedelta(weeks=4))


# --- Alerts review ------------------------------------------------------------------
# Rotations and shifts made directly (the schedule generator lives in oncall/);
# named apart from the on-call factories so both sections can live in this file.


class AlertRotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rotation

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Alerts rotation {n}")
    slug = factory.Sequence(lambda n: f"alerts-rotation-{n}")
    first_shift_date = dt.date(2026, 1, 1)


class AlertShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    rotation = factory.SubFactory(AlertRotationFactory)
    level = "L1"
    user = factory.SubFactory(UserFactory)
    starts_at = dt.datetime(2026, 10, 1, 10, tzinfo=dt.UTC)
    ends_at = factory.LazyAttribute(lambda shift: shift.starts_at + dt.timedelta(days=3))
    number = factory.Sequence(lambda n: n)


class AlertSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertSource

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = "alertmanager"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As create_alert_source does: the made source carries its plain `token` (only a hash is saved).
        source = model_class(*args, **kwargs)
        source.issue_token()
        source.save()
        return source


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    source = "alertmanager"
    identity = factory.Sequence(lambda n: f"fingerprint-{n}")
    check_name = "DiskSpaceLow"
    host = "db12:9100"
    state = "firing"
    fired_at = dt.datetime(2026, 10, 3, 2, 14, tzinfo=dt.UTC)
    team = factory.SubFactory(TeamFactory)


def category(slug: str) -> Category:
    """One of the default categories seeded by the migration."""
    return Category.objects.get(slug=slug)


# --- On call ---------------------------------------------------------------------------------------


def make_rotation(
    *,
    team=None,
    people=("ana", "ben", "cy"),
    experienced=None,
    slug="ops-primary",
    first_shift_date=dt.date(2026, 1, 5),
    now=None,
    **fields,
):
    """A rotation of people by username (all experienced unless named), materialised as of `now`."""
    experienced = people if experienced is None else experienced
    team = team or TeamFactory(slug=slug.split("-")[0], name=slug.split("-")[0].title())
    # A rotation's people are its team's responders (they override themselves in, swap, classify).
    members = [
        oncall_services.MemberSpec(
            _joined(team, ProfileFactory(user=UserFactory(username=username)).user),
            username in experienced,
        )
        for username in people
    ]
    return oncall_services.create_rotation(
        team=team,
        name=fields.pop("name", slug.replace("-", " ").title()),
        slug=slug,
        first_shift_date=first_shift_date,
        members=members,
        now=now or dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        **fields,
    )


def make_api_token(
    user, *, scope: str = "write", expires_at=None, days: int | None = 90, name: str = "test"
) -> str:
    """An API token of `user` (stored hashed, as the service stores it); returns the plain token."""
    plain = tokens.new_token(label=tokens.API_TOKEN_LABEL)
    if expires_at is None and days is not None:
        expires_at = timezone.now() + dt.timedelta(days=days)
    ApiToken.objects.create(
        owner=user,
        name=name,
        scope=scope,
        prefix=tokens.prefix_of(plain),
        secret_hash=tokens.hash_token(plain),
        expires_at=expires_at,
    )
    return plain
