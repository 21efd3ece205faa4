"""Template helpers for remediation items: the incident panel's data and a person's open items."""

from django import template
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import RemediationCategory, RemediationKind, RemediationPriority, RemediationStatus
from incidents.selectors import remediation as selectors
from incidents.selectors.incident import blameless_phrases, people_names
from incidents.services.remediation import default_due_date
from morgue.markdown import render_markdown
from morgue.models import Team

register = template.Library()


@register.simple_tag
def remediation_panel(incident) -> dict:
    """Everything `_remediations.html` shows: Dev and Ops columns with findings, and form choices."""
    phrases, names = blameless_phrases(), people_names()
    columns = selectors.items_for_incident(incident)
    for items in columns.values():
        for item in items:
            item.findings = selectors.blameless_findings(item, phrases=phrases, names=names)
            item.description_html = render_markdown(item.description)
    today = timezone.localdate()
    blocking = [item for items in columns.values() for item in items if item.is_unfinished]
    return {
        "blocking": blocking,
        "columns": [(kind, RemediationKind(kind).label, columns[kind]) for kind in RemediationKind.values],
        "today": today,
        "default_due": default_due_date(severity=incident.severity, written_on=today),
        **remediation_choices(),
    }


@register.simple_tag
def remediation_choices() -> dict:
    """What the item forms offer: people, teams, kinds, categories, priorities and statuses."""
    return {
        "usernames": list(
            get_user_model()
            .objects.filter(is_active=True)
            .order_by("username")
            .values_list("username", flat=True)
        ),
        "teams": list(Team.objects.order_by("name")),
        "kinds": RemediationKind.choices,
        "categories": RemediationCategory.choices,
        "priorities": RemediationPriority.choices,
        "statuses": RemediationStatus.choices,
    }


@register.simple_tag
def open_remediation_items(person) -> list:
    """A person's items still to do (for their profile)."""
    return selectors.open_items_for(person)


@register.filter
def overdue_on(item, today) -> bool:
    return item.is_overdue(today)
