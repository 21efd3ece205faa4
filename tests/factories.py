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


# --- Remediation items (issue 5) -----------------------------------------------
import datetime as dt  # noqa: E402

from django.utils import timezone  # noqa: E402

from incidents.models import Incident, RemediationItem  # noqa: E402


class RemediationIncidentFactory(factory.django.DjangoModelFactory):
    """A plain incident for remediation tests (the incident pages bring their own factory)."""

    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Checkout errors {n}")
    severity = 2
    impact_started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2))
    detected_at = factory.LazyAttribute(lambda incident: incident.impact_started_at + dt.timedelta(minutes=5))


class RemediationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RemediationItem

    incident = factory.SubFactory(RemediationIncidentFactory)
    title = factory.Sequence(lambda n: f"Add an alert on queue depth {n}")
    kind = "dev"
    category = "detect"
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.now().date() + dt.timedelta(weeks=4))
