from django import template

from morgue.models import display_name

register = template.Library()


@register.filter
def person(user) -> str:
    """A person's display name, or an em dash when there is nobody."""
    return display_name(user) if user else "—"
