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


# --- On call ---------------------------------------------------------------------------------------

import datetime as dt  # noqa: E402

from oncall import services as oncall_services  # noqa: E402


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
    members = [
        oncall_services.MemberSpec(
            ProfileFactory(user=UserFactory(username=username)).user, username in experienced
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
