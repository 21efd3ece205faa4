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


# --- Incidents and postmortems ---------------------------------------------------
import datetime as dt  # noqa: E402

from django.utils import timezone  # noqa: E402

from incidents.models import Incident, TimelineEvent  # noqa: E402


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
