"""The remediation board among 200,000 items: its parts and whole requests, against a bare indexed SELECT.

What a person waits for is the whole request (session, middleware, every
query, the template), so the board page is timed whole, unfiltered and with
the common filters, beside the API's list; its two costly parts, the column
counts and pages and the monthly figures, are timed alone too. The floor is
a raw indexed SELECT of one page of overdue dev items' own columns, through
the same connection, with no counts or joins.
"""

import datetime as dt
import statistics
import time
from functools import partial

from django.contrib.auth import get_user_model
from django.db import connection, reset_queries
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.harness import Result, median_seconds, throwaway_database

ITEMS = 200_000
INCIDENTS = 5_000
PEOPLE = 200

LOAD_ITEMS = """
INSERT INTO incidents_remediationitem (
    incident_id, title, description, kind, category, owner_id, team_id, priority, ticket_url,
    due_date, status, wont_do_reason, completed_at, reminders_muted, created_by_id, created_at, updated_at,
    origin_title, origin_url
)
SELECT incident_id, 'Follow-up ' || n, '', kind, category, owner_id, team_id, 'normal', '',
       due_date, status,
       CASE WHEN status = 'wont-do' THEN 'Superseded by the new pipeline.' ELSE '' END,
       CASE WHEN status = 'done' THEN created_at + (r * 50 + 1) * interval '1 day' END,
       false, NULL, created_at, created_at,
       (SELECT title FROM incidents_incident WHERE id = incident_id),
       '/remediations/incident/' || incident_id || '/'
FROM (
    SELECT n, r, incident_id, kind, category, owner_id, team_id, created_at,
           (created_at::date + CASE WHEN n %% 3 = 0 THEN 28 ELSE 56 END) AS due_date,
           CASE WHEN age < 60 THEN
                CASE WHEN r < 0.5 THEN 'open' WHEN r < 0.8 THEN 'in-progress' ELSE 'done' END
           ELSE
                CASE WHEN r < 0.04 THEN 'open' WHEN r < 0.06 THEN 'in-progress'
                     WHEN r < 0.12 THEN 'wont-do' ELSE 'done' END
           END AS status
    FROM (
        SELECT n, random() AS r, n %% 1095 AS age,
               %(incident_min)s + (n %% %(incidents)s) AS incident_id,
               CASE WHEN n %% 2 = 0 THEN 'dev' ELSE 'ops' END AS kind,
               (ARRAY['detect', 'mitigate', 'prevent', 'process'])[1 + n %% 4] AS category,
               %(owner_min)s + (n * 7 %% %(people)s) AS owner_id,
               CASE WHEN n %% 5 = 0 THEN NULL ELSE %(team_min)s + n %% 4 END AS team_id,
               now() - (n %% 1095) * interval '1 day' - (n %% 17) * interval '1 hour' AS created_at
        FROM generate_series(1, %(items)s) AS n
    ) AS raw
) AS shaped
"""

FLOOR = """
SELECT id, incident_id, title, kind, category, owner_id, team_id, priority, ticket_url, due_date,
       status, completed_at, reminders_muted
FROM incidents_remediationitem
WHERE kind = 'dev' AND status = %s AND due_date < %s
ORDER BY due_date, id
LIMIT %s
"""


def _load() -> None:
    from incidents.models import Incident
    from morgue.models import Profile, Team

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"bench{number}", email=f"bench{number}@example.com") for number in range(PEOPLE)]
    )
    Profile.objects.bulk_create([Profile(user=user, display_name=user.username) for user in users])
    slugs = ("ops", "dev", "pay", "web")
    teams = Team.objects.bulk_create([Team(name=f"Team {slug}", slug=slug) for slug in slugs])
    now = timezone.now()
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                title=f"Incident {number}",
                severity=1 + number % 5,
                impact_started_at=now - dt.timedelta(days=1100),
                detected_at=now - dt.timedelta(days=1100),
                # One incident in a hundred is soft-deleted: its items must stay hidden.
                deleted_at=now if number % 100 == 99 else None,
            )
            for number in range(INCIDENTS)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            LOAD_ITEMS,
            {
                "incident_min": min(incident.pk for incident in incidents),
                "incidents": INCIDENTS,
                "owner_min": min(user.pk for user in users),
                "people": PEOPLE,
                "team_min": min(team.pk for team in teams),
                "items": ITEMS,
            },
        )
        cursor.execute("VACUUM ANALYZE incidents_remediationitem")
        cursor.execute("VACUUM ANALYZE incidents_incident")


PAGES = {
    "the whole board page, unfiltered": "/remediations/",
    "the whole board page, overdue dev items": "/remediations/?kind=dev&overdue=on",
    "the whole board page, one team's detect items": "/remediations/?team=ops&category=detect",
    "the whole board page, one person's items (mine)": "/remediations/?mine=on",
    "the API list, overdue dev items (count and first page)": "/api/v1/remediations/?kind=dev&overdue=true",
}


def run() -> list[Result]:
    from incidents.selectors.board import BOARD_COLUMN_SIZE, board_columns
    from incidents.selectors.remediation import BoardFilters, monthly_figures
    from incidents.views.remediation import FIGURE_MONTHS, _months_ago

    with throwaway_database():
        _load()
        today = timezone.localdate()
        filters = BoardFilters(kind="dev", overdue=True)

        def subject():
            return board_columns(filters, today=today)

        with CaptureQueriesContext(connection) as queries:
            columns = subject()
        shown = [(column.status, len(column.items)) for column in columns if column.items]
        overdue = sum(column.count for column in columns)

        def floor():
            with connection.cursor() as cursor:
                for status, _ in shown:
                    cursor.execute(FLOOR, [status, today, BOARD_COLUMN_SIZE])
                    cursor.fetchall()

        zone = timezone.get_current_timezone()
        since = dt.datetime.combine(_months_ago(today, FIGURE_MONTHS - 1), dt.time.min, tzinfo=zone)
        until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)

        def figures():
            return monthly_figures(since=since, until=until, today=today)

        floor_seconds = median_seconds(floor, repeat=60)
        subject_seconds = median_seconds(subject, repeat=60)
        figures_seconds = median_seconds(figures, repeat=15)
        print(
            f"   {ITEMS:,} items; {overdue:,} overdue dev; board selector: {len(queries)} queries, "
            f"columns {shown}",
            flush=True,
        )
        results = [
            Result(
                "board columns, overdue dev items (counts + column pages)",
                subject_seconds,
                floor_seconds,
                "bare indexed SELECT of the same rows",
            ),
            Result(
                "the board's monthly figures (twelve months)",
                figures_seconds,
                floor_seconds,
                "bare indexed SELECT of the same rows",
            ),
        ]

        # What a person waits for: the whole request (session, middleware, queries, template).
        person = get_user_model().objects.get(username="bench0")
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            client = Client()
            client.force_login(person)
            for name, url in PAGES.items():
                # Each request empties the query log as it starts (django.db.reset_queries).
                reset_queries()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                seconds = median_seconds(partial(client.get, url), repeat=15, warmup=2)
                # On a shared machine the wall clock includes waiting for a core;
                # this process's own CPU time is the steadier half of the figure.
                cpu_seconds = _median_cpu_seconds(partial(client.get, url), repeat=15)
                print(
                    f"   {url}: {len(queries)} queries, {cpu_seconds * 1000:.1f} ms of this process's CPU",
                    flush=True,
                )
                results.append(Result(name, seconds, floor_seconds, "bare indexed SELECT of the same rows"))
        return results


def _median_cpu_seconds(function, *, repeat: int) -> float:
    """The median CPU time this process spent in `function` (the database's own work is not in it)."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        function()
        samples.append(time.process_time() - started)
    return statistics.median(samples)
