from django.contrib.auth.decorators import login_not_required
from django.urls import path

from .api.metrics import IncidentMetricsView
from .feeds import PublishedPostmortemsFeed
from .views.export import postmortem_markdown_view
from .views.report import incident_report_page

app_name = "incidents"

# HTML pages, included at the site root by morgue/urls.py.
urlpatterns: list = [
    path("reports/incidents/", incident_report_page, name="report"),
    path("incidents/<int:pk>/postmortem.md", postmortem_markdown_view, name="postmortem-markdown"),
    path(
        "feeds/postmortems.atom",
        login_not_required(PublishedPostmortemsFeed()),
        name="postmortems-feed",
    ),
]

# REST endpoints, included under /api/v1/ by morgue/urls.py.
api_urlpatterns: list = [
    path("metrics/incidents/", IncidentMetricsView.as_view(), name="incident-metrics"),
]

# --- Incidents and postmortems ---------------------------------------------------
from rest_framework.routers import SimpleRouter  # noqa: E402

from incidents.api.incident import IncidentViewSet  # noqa: E402
from incidents.views import incident as incident_views  # noqa: E402

incident_router = SimpleRouter()
incident_router.register("incidents", IncidentViewSet, basename="incident")
api_urlpatterns += [
    # Exactly `review.ics`, no trailing slash: calendar clients fetch it as a file.
    path(
        "incidents/<int:pk>/review.ics",
        IncidentViewSet.as_view({"get": "review_ics"}),
        name="incident-review-ics",
    ),
    *incident_router.urls,
]

from .views import chat as chat_views  # noqa: E402
from .views import running as running_views  # noqa: E402

# Slack and Mattermost: signed requests, no session (README "Slack and Mattermost").
urlpatterns += [
    path("integrations/slack/commands/", chat_views.slack_command, name="slack-command"),
    # The issue's address for interactive buttons; the older one stays for apps already configured with it.
    path("integrations/slack/actions/", chat_views.slack_interaction, name="slack-actions"),
    path("integrations/slack/interactions/", chat_views.slack_interaction, name="slack-interaction"),
    path("integrations/mattermost/commands/", chat_views.mattermost_command, name="mattermost-command"),
]

urlpatterns += [
    path("incidents/declare/", running_views.declare, name="declare"),
    path("incidents/<int:pk>/roles/", running_views.role_assign, name="roles"),
    path("incidents/<int:pk>/status-updates/", running_views.status_update_post, name="status-update"),
    path("incidents/<int:pk>/subscription/", running_views.subscription, name="subscription"),
    path("incidents/<int:pk>/public/", running_views.public_toggle, name="public-toggle"),
    path("incidents/<int:pk>/timeline/<int:event_pk>/star/", running_views.event_star, name="event-star"),
    path("status/<str:token>/", running_views.public_page, name="public"),
    path(
        "status/<str:token>/updates.atom",
        login_not_required(running_views.StatusUpdatesFeed()),
        name="public-feed",
    ),
]

urlpatterns += [
    path("incidents/", incident_views.incident_list, name="list"),
    path("incidents/new/", incident_views.incident_create, name="create"),
    path("incidents/review-queue/", incident_views.review_queue, name="review-queue"),
    path("incidents/<int:pk>/", incident_views.incident_detail, name="detail"),
    path("incidents/<int:pk>/edit/", incident_views.incident_edit, name="edit"),
    path("incidents/<int:pk>/editing/", incident_views.incident_editing, name="editing"),
    path("incidents/<int:pk>/timeline/", incident_views.timeline_add, name="timeline-add"),
    path("incidents/<int:pk>/history/", incident_views.incident_history, name="history"),
    path(
        "incidents/<int:pk>/history/<int:number>/restore/",
        incident_views.revision_restore,
        name="revision-restore",
    ),
    path("incidents/<int:pk>/review/", incident_views.review_schedule, name="review"),
    path("incidents/<int:pk>/review/invite/", incident_views.review_invite, name="review-invite"),
    path("incidents/<int:pk>/review/unschedule/", incident_views.review_unschedule, name="review-unschedule"),
    path("incidents/<int:pk>/review.ics", incident_views.review_ics, name="review-ics"),
    path("incidents/<int:pk>/delete/", incident_views.incident_delete, name="delete"),
    path("incidents/<int:pk>/deleted/", incident_views.incident_deleted, name="deleted"),
    path("incidents/<int:pk>/restore/", incident_views.incident_restore, name="restore"),
]

# --- Evidence: deploys, graph snapshots, chat logs ----------------------------
from rest_framework.routers import SimpleRouter  # noqa: E402

from .api import chatlog as chatlog_api  # noqa: E402
from .api import deploy as deploy_api  # noqa: E402
from .api import graph as graph_api  # noqa: E402
from .views import evidence as evidence_views  # noqa: E402

evidence_router = SimpleRouter()
evidence_router.register("deploys", deploy_api.DeployViewSet, basename="deploy")

urlpatterns += [
    path("deploys/", evidence_views.deploy_log, name="deploy-log"),
    path(
        "incidents/<int:incident_id>/evidence/deploys/", evidence_views.link_deploy_view, name="link-deploy"
    ),
    path(
        "incidents/<int:incident_id>/evidence/deploys/<int:deploy_id>/unlink/",
        evidence_views.unlink_deploy_view,
        name="unlink-deploy",
    ),
    path("incidents/<int:incident_id>/evidence/graphs/", evidence_views.add_graph_view, name="add-graph"),
    path("incidents/<int:incident_id>/evidence/chatlog/", evidence_views.chatlog_view, name="chatlog"),
    path("graphs/<int:snapshot_id>/image", evidence_views.graph_image, name="graph-image"),
]

api_urlpatterns += [
    *evidence_router.urls,
    path(
        "incidents/<int:incident_id>/suggested-deploys/",
        deploy_api.SuggestedDeploysView.as_view(),
        name="incident-suggested-deploys",
    ),
    path(
        "incidents/<int:incident_id>/deploys/",
        deploy_api.IncidentDeploysView.as_view(),
        name="incident-deploys",
    ),
    path(
        "incidents/<int:incident_id>/deploys/<int:deploy_id>/",
        deploy_api.IncidentDeployView.as_view(),
        name="incident-deploy",
    ),
    path(
        "incidents/<int:incident_id>/graphs/", graph_api.IncidentGraphsView.as_view(), name="incident-graphs"
    ),
    path(
        "incidents/<int:incident_id>/graphs/<int:snapshot_id>/",
        graph_api.IncidentGraphView.as_view(),
        name="incident-graph",
    ),
    path(
        "incidents/<int:incident_id>/chatlog/",
        chatlog_api.IncidentChatLogView.as_view(),
        name="incident-chatlog",
    ),
    path("metrics/deploys/", deploy_api.DeployMetricsView.as_view(), name="deploy-metrics"),
]

# --- Remediation items ----------------------------------------------------------
from incidents.api import remediation as remediation_api  # noqa: E402
from incidents.views import remediation as remediation_views  # noqa: E402

remediation_router = SimpleRouter()
remediation_router.register("remediations", remediation_api.RemediationItemViewSet, basename="remediation")

urlpatterns += [
    path("remediations/", remediation_views.board, name="remediation-board"),
    path("remediations/export.csv", remediation_views.board_csv, name="remediation-board-csv"),
    path(
        "remediations/incident/<int:incident_id>/",
        remediation_views.incident_items,
        name="remediation-incident",
    ),
    path(
        "remediations/incident/<int:incident_id>/add/",
        remediation_views.add_item,
        name="remediation-add",
    ),
    path("remediations/<int:item_id>/edit/", remediation_views.edit_item, name="remediation-edit"),
    path("remediations/<int:item_id>/status/", remediation_views.change_status, name="remediation-status"),
]

api_urlpatterns += [
    path(
        "incidents/<int:incident_id>/remediations/",
        remediation_api.IncidentRemediationListView.as_view(),
        name="incident-remediations",
    ),
    path(
        "metrics/remediations/",
        remediation_api.RemediationMetricsView.as_view(),
        name="remediation-metrics",
    ),
    *remediation_router.urls,
]

# --- Trackers: an item's issue, and the trackers' webhooks ------------------------------
from incidents.views import trackers as tracker_views  # noqa: E402

urlpatterns += [
    path("remediations/<int:item_id>/tracker/", tracker_views.create_issue, name="remediation-tracker"),
    path("integrations/github/", tracker_views.github_webhook, name="github-webhook"),
    path("integrations/github/webhook/", tracker_views.github_webhook),
    path("integrations/gitlab/", tracker_views.gitlab_webhook, name="gitlab-webhook"),
    path("integrations/gitlab/webhook/", tracker_views.gitlab_webhook),
    path("integrations/jira/", tracker_views.jira_webhook, name="jira-webhook"),
    path("integrations/jira/webhook/", tracker_views.jira_webhook),
]
