"""What the incident page's evidence panel shows."""

from typing import Any

from incidents.models import Incident
from incidents.selectors import deploy as deploy_selectors


def evidence_panel(*, incident: Incident) -> dict[str, Any]:
    """Suggested and linked deploys (each suggestion marked when linked) and the graph snapshots."""
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
