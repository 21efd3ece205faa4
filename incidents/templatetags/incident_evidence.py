from django import template

from ..models import Incident
from ..selectors import deploy as deploy_selectors

register = template.Library()


@register.simple_tag
def incident_evidence(incident: Incident) -> dict:
    """What the evidence panel shows: suggested and linked deploys, graph snapshots (four queries)."""
    linked = list(deploy_selectors.linked_deploys(incident=incident))
    linked_ids = {deploy.pk for deploy in linked}
    suggested = [
        (deploy, deploy.pk in linked_ids) for deploy in deploy_selectors.suggested_deploys(incident=incident)
    ]
    return {
        "window_minutes": deploy_selectors.suggestion_window_minutes(),
        "suggested": suggested,
        "linked": linked,
        "snapshots": list(incident.graph_snapshots.all()),
    }
