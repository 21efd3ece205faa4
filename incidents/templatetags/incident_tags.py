from django import template

from incidents.models.incident import revision_field_label
from morgue.models import display_name

register = template.Library()


@register.filter
def person(user) -> str:
    """A person's display name, or an em dash when there is nobody."""
    return display_name(user) if user else "—"


@register.filter
def field_labels(names) -> str:
    """A revision's changed fields as people call them (`team_id` reads "Team"), or an em dash."""
    return ", ".join(revision_field_label(name) for name in names or ()) or "—"
