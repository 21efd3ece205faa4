"""The floor each measured request is compared with: a minimal view serving the same rows.

A floor is what any Django view pays to answer with those rows: the session
and user lookups (the same middleware as every page), one SELECT, and a
trivial template (a page) or JSON (an API list). A page more than 5× its
floor spends its time on something other than its rows.
"""

from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.template import Context, Template

# name -> (SQL with %(name)s parameters from the query string and `user`, "html" or "json")
FLOORS: dict[str, tuple[str, str]] = {
    # The home page's rows: open incidents, those awaiting review, who is on
    # call now, and this day's incidents in earlier years (by index ranges).
    "home": (
        """(SELECT i.id::text, i.title, i.severity::text, i.status, i.impact_started_at::text, t.name
              FROM incidents_incident i LEFT JOIN oncall_team t ON t.id = i.team_id
             WHERE i.deleted_at IS NULL AND i.status = 'open'
             ORDER BY i.severity, i.impact_started_at LIMIT 10)
           UNION ALL
           (SELECT i.id::text, i.title, i.severity::text, i.status, i.resolved_at::text, u.username
              FROM incidents_incident i LEFT JOIN auth_user u ON u.id = i.facilitator_id
             WHERE i.deleted_at IS NULL AND i.status IN ('resolved', 'review-scheduled')
             ORDER BY i.resolved_at, i.id LIMIT 10)
           UNION ALL
           (SELECT r.slug, t.name, s.level, u.username, s.ends_at::text, u.first_name
              FROM oncall_shift s JOIN oncall_rotation r ON r.id = s.rotation_id
              JOIN oncall_team t ON t.id = r.team_id JOIN auth_user u ON u.id = s.user_id
             WHERE s.starts_at <= now() AND s.ends_at > now() ORDER BY t.name, r.name, s.level LIMIT 12)
           UNION ALL
           (SELECT i.id::text, i.title, i.severity::text, i.status, i.impact_started_at::text, ''
              FROM generate_series(1, 30) AS earlier(years) CROSS JOIN LATERAL (
                   SELECT * FROM incidents_incident
                    WHERE deleted_at IS NULL
                      AND impact_started_at >= date_trunc('day', now()) - make_interval(years => years)
                      AND impact_started_at < date_trunc('day', now()) - make_interval(years => years)
                          + interval '1 day'
                    LIMIT 10) AS i
             ORDER BY i.impact_started_at DESC LIMIT 10)""",
        "html",
    ),
    "incidents": (
        """SELECT i.id, i.title, i.severity, i.status, i.impact_started_at, t.name
             FROM incidents_incident i LEFT JOIN oncall_team t ON t.id = i.team_id
            WHERE i.deleted_at IS NULL ORDER BY i.impact_started_at DESC, i.id DESC LIMIT 50""",
        "html",
    ),
    "search": (
        """SELECT i.id, i.title, i.severity, i.status, i.impact_started_at
             FROM incidents_incident i, websearch_to_tsquery('english', %(q)s) query
            WHERE i.deleted_at IS NULL AND i.search_vector @@ query
            ORDER BY ts_rank(i.search_vector, query) DESC, i.id DESC LIMIT 50""",
        "html",
    ),
    "review-queue": (
        """SELECT i.id, i.title, i.severity, i.status, i.resolved_at, u.username
             FROM incidents_incident i LEFT JOIN auth_user u ON u.id = i.facilitator_id
            WHERE i.deleted_at IS NULL AND i.status IN ('resolved', 'review-scheduled')
            ORDER BY i.resolved_at""",
        "html",
    ),
    "incident-report": (
        """SELECT team_id, severity, count(*),
                  avg(extract(epoch FROM detected_at - impact_started_at)),
                  avg(extract(epoch FROM resolved_at - impact_started_at))
             FROM incidents_incident
            WHERE deleted_at IS NULL AND impact_started_at >= %(since)s AND impact_started_at < %(until)s
            GROUP BY team_id, severity ORDER BY team_id, severity""",
        "html",
    ),
    "alerts-report": (
        """SELECT check_name, count(*), count(*) FILTER (WHERE out_of_hours),
                  count(*) FILTER (WHERE woke_me_up), count(category_id)
             FROM alerts_review_alert WHERE fired_at >= %(since)s AND fired_at < %(until)s
            GROUP BY check_name ORDER BY 2 DESC""",
        "html",
    ),
    "alerts-report-api": (
        """SELECT check_name, count(*), count(*) FILTER (WHERE out_of_hours),
                  count(*) FILTER (WHERE woke_me_up), count(category_id)
             FROM alerts_review_alert WHERE fired_at >= %(since)s AND fired_at < %(until)s
            GROUP BY check_name ORDER BY 2 DESC""",
        "json",
    ),
    "shift-alerts": (
        """SELECT id, check_name, host, summary, fired_at, resolved_at, category_id, woke_me_up
             FROM alerts_review_alert
            WHERE team_id = %(team)s AND fired_at >= %(since)s AND fired_at < %(until)s
            ORDER BY check_name, fired_at""",
        "html",
    ),
    "alerts-api": (
        """SELECT id, source, check_name, host, state, severity, labels, summary, fired_at, resolved_at,
                  team_id, paged_id, out_of_hours, category_id, note, woke_me_up
             FROM alerts_review_alert ORDER BY fired_at DESC, id DESC LIMIT 50""",
        "json",
    ),
    "incidents-api": (
        """SELECT id, title, severity, status, team_id, affected_service, impact_started_at, detected_at,
                  resolved_at, tldr
             FROM incidents_incident WHERE deleted_at IS NULL
            ORDER BY impact_started_at DESC, id DESC LIMIT 50""",
        "json",
    ),
    "remediation-board": (
        """SELECT id, title, status, kind, due_date, owner_id, team_id FROM (
               SELECT *, row_number() OVER (PARTITION BY status ORDER BY due_date, id) AS place
                 FROM incidents_remediationitem) AS items
            WHERE place <= 25 ORDER BY status, place""",
        "html",
    ),
    "deploys": (
        """SELECT id, stack, environment, deployer, old_revision, new_revision, started_at, finished_at
             FROM incidents_deploy ORDER BY started_at DESC, id DESC LIMIT 100""",
        "html",
    ),
    "deploys-api": (
        """SELECT id, stack, environment, deployer, old_revision, new_revision, started_at, finished_at,
                  diff_url, log_url, message
             FROM incidents_deploy ORDER BY started_at DESC, id DESC LIMIT 50""",
        "json",
    ),
    "remediations-api": (
        """SELECT id, incident_id, title, description, kind, category, owner_id, team_id, priority, due_date,
                  status, origin_title, origin_url
             FROM incidents_remediationitem ORDER BY due_date, id LIMIT 50""",
        "json",
    ),
    "oncall": (
        """SELECT r.slug, t.slug, s.level, u.username, s.ends_at
             FROM oncall_shift s JOIN oncall_rotation r ON r.id = s.rotation_id
             JOIN oncall_team t ON t.id = r.team_id JOIN auth_user u ON u.id = s.user_id
            WHERE s.starts_at <= now() AND s.ends_at > now() ORDER BY t.slug, r.slug, s.level""",
        "html",
    ),
    "oncall-api": (
        """SELECT r.slug, t.slug, s.level, u.username, s.ends_at
             FROM oncall_shift s JOIN oncall_rotation r ON r.id = s.rotation_id
             JOIN oncall_team t ON t.id = r.team_id JOIN auth_user u ON u.id = s.user_id
            WHERE s.starts_at <= now() AND s.ends_at > now() ORDER BY t.slug, r.slug, s.level""",
        "json",
    ),
}

TABLE = Template(
    "<!doctype html><title>floor</title><table>{% for row in rows %}<tr>{% for value in row %}"
    "<td>{{ value }}</td>{% endfor %}</tr>{% endfor %}</table>"
)


def floor(request, name: str) -> HttpResponse:
    try:
        sql, kind = FLOORS[name]
    except KeyError:
        raise Http404(name) from None
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": request.user.pk, **request.GET.dict()})
        rows = cursor.fetchall()
    if kind == "json":
        return JsonResponse({"results": rows})
    return HttpResponse(TABLE.render(Context({"rows": rows})))


class QueryCountMiddleware:
    """Counts the database queries of each request into the X-Bench-Queries response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counted(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(count)
        return response
