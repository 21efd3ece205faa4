"""factory_boy factories shared by every test module."""

import factory
from django.contrib.auth import get_user_model

from morgue.models import Profile
from oncall.models import Team


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

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda profile: profile.user.get_full_name())
    time_zone = "UTC"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    email = factory.LazyAttribute(lambda team: f"{team.slug}@example.com")


# --- Evidence: deploys and graph snapshots (issue 4) ---------------------------
import datetime as dt  # noqa: E402

from django.utils import timezone  # noqa: E402

from incidents.models import Deploy, GraphSnapshot, Incident  # noqa: E402


class EvidenceIncidentFactory(factory.django.DjangoModelFactory):
    """A plain incident for the evidence tests: impact at 14:00 UTC, detected ten minutes later."""

    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Elevated errors {n}")
    impact_started_at = factory.LazyFunction(lambda: dt.datetime(2026, 10, 3, 14, 0, tzinfo=dt.UTC))
    detected_at = factory.LazyAttribute(
        lambda incident: incident.impact_started_at + dt.timedelta(minutes=10)
    )


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

    incident = factory.SubFactory(EvidenceIncidentFactory)
    title = "5xx rate"
    url = "http://graphs.example.com/render?target=stats.web.5xx"
    fetch_url = factory.LazyAttribute(lambda snapshot: snapshot.url)


# --- Incidents and postmortems (issue 3) ------------------------------------------
from incidents.models import TimelineEvent  # noqa: E402


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident that started an hour ago and was detected five minutes later."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Incident {n}")
    severity = 3
    impact_started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    detected_at = factory.LazyAttribute(lambda incident: incident.impact_started_at + dt.timedelta(minutes=5))

    @factory.post_generation
    def tags(self, create, names, **kwargs):
        from incidents.models import Tag

        if create and names:
            self.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])


class TimelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    incident = factory.SubFactory(IncidentFactory)
    occurred_at = factory.LazyAttribute(lambda event: event.incident.detected_at)
    kind = "action"
    text = factory.Sequence(lambda n: f"Step {n}")
