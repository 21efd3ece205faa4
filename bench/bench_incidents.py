"""Incident list and search over 100,000 incidents (400,000 timeline events) vs a bare 50-row SELECT.

Subjects: the list page's queries (its count, which IncidentCount keeps, and
50 rows with team, facilitator and tags), the same through the API, and a
ranked full-text search; each against the floor of a bare `SELECT` of 50
rows from the same table. The whole HTTP requests (middleware, serialising,
template rendering) are printed too, against the same floor, for information.
"""

import datetime
import statistics
import time
from collections.abc import Callable

from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from bench.harness import Result, throwaway_database

INCIDENTS = 100_000
EVENTS_PER_INCIDENT = 4

WORDS = [
    "database", "failover", "checkout", "payment", "timeout", "cache", "deploy", "rollback", "certificate",
    "queue", "backlog", "dns", "network", "latency", "memory", "disk", "search", "login", "vendor", "cdn",
]  # fmt: skip


def _load(cursor) -> None:
    words = "ARRAY[" + ", ".join(f"'{word}'" for word in WORDS) + "]"
    cursor.execute("INSERT INTO oncall_team (name, slug, pageable, email, webhook_url) VALUES "
                   "('Ops', 'ops', true, '', ''), ('Dev', 'dev', true, '', '')")  # fmt: skip
    cursor.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
        "is_staff, is_active, date_joined) "
        "SELECT '!', false, 'person' || n, 'First' || n, 'Last', '', false, true, now() "
        "FROM generate_series(1, 50) AS n"
    )
    cursor.execute(
        f"""
        INSERT INTO incidents_incident (
            title, severity, status, team_id, affected_service, problem_type, impact_type, facilitator_id,
            impact_started_at, impact_started_source, detected_at, detected_source,
            acknowledged_at, acknowledged_source, status_posted_at, status_posted_source,
            mitigated_at, mitigated_source, resolved_at, resolved_source,
            tldr, what_happened, why_surprised, went_well, got_lucky, contributing_factors,
            version, created_at, updated_at)
        SELECT
            initcap(({words})[1 + n % 20]) || ' ' || ({words})[1 + (n / 20) % 20] || ' incident ' || n,
            1 + n % 5,
            (ARRAY['open', 'resolved', 'review-scheduled', 'reviewed', 'closed'])[1 + n % 5],
            (SELECT id FROM oncall_team ORDER BY id LIMIT 1 OFFSET n % 2),
            'service-' || (n % 30), 'internal', 'customer',
            (SELECT id FROM auth_user ORDER BY id LIMIT 1 OFFSET n % 50),
            now() - (n || ' minutes')::interval * 5, '',
            now() - (n || ' minutes')::interval * 5 + interval '4 minutes', '',
            NULL, '', NULL, '', NULL, '',
            now() - (n || ' minutes')::interval * 5 + interval '2 hours', '',
            'The ' || ({words})[1 + (n / 7) % 20] || ' was slow for some customers.',
            repeat('We saw errors from the ' || ({words})[1 + (n / 3) % 20] || ' and rolled back. ', 20),
            'We believed the ' || ({words})[1 + (n / 11) % 20] || ' could not fail this way.',
            'Fast rollback.', 'Quiet time of day.', '- No alert on the ' || ({words})[1 + (n / 13) % 20],
            1, now(), now()
        FROM generate_series(1, {INCIDENTS}) AS n
        """
    )
    cursor.execute(
        f"""
        INSERT INTO incidents_timelineevent (incident_id, occurred_at, kind, text, link, speaker, created_at)
        SELECT incident.id, incident.detected_at + (step || ' minutes')::interval,
               (ARRAY['detection', 'action', 'communication', 'note'])[step], 'Step ' || step, '', '', now()
        FROM incidents_incident AS incident, generate_series(1, {EVENTS_PER_INCIDENT}) AS step
        """
    )
    cursor.execute("INSERT INTO incidents_tag (name) SELECT unnest(" + words + ")")
    cursor.execute(
        "INSERT INTO incidents_incident_tags (incident_id, tag_id) "
        "SELECT incident.id, tag.id FROM incidents_incident AS incident "
        "JOIN incidents_tag AS tag ON tag.name = (" + words + ")[1 + incident.id % 20]"
    )


def interleaved(
    floor: Callable[[], object], subject: Callable[[], object], *, rounds: int = 15, each: int = 3
):
    """Medians of the floor and the subject, measured in alternating small batches.

    The machine is shared: measuring one after the other lets a burst of
    someone else's work land on only one side of the ratio.
    """
    for _ in range(2):
        floor()
        subject()
    floor_samples: list[float] = []
    subject_samples: list[float] = []
    for _ in range(rounds):
        for function, samples in ((floor, floor_samples), (subject, subject_samples)):
            for _ in range(each):
                started = time.perf_counter()
                function()
                samples.append(time.perf_counter() - started)
    return statistics.median(floor_samples), statistics.median(subject_samples)


def run() -> list[Result]:
    from django.contrib.auth import get_user_model

    from incidents.models import Incident
    from incidents.models.incident import search_vector_expression
    from incidents.selectors.incident import IncidentFilters, count_incidents, incident_list

    with throwaway_database() as db, override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        started = time.perf_counter()
        with db.cursor() as cursor:
            _load(cursor)
        # Filling the vectors is faster without the GIN index; it is rebuilt in one pass after.
        with db.cursor() as cursor:
            cursor.execute("DROP INDEX incident_search_vector_gin")
        Incident.objects.update(search_vector=search_vector_expression())
        with db.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX incident_search_vector_gin ON incidents_incident USING gin (search_vector)"
            )
            cursor.execute("VACUUM ANALYZE")
        print(f"   loaded {INCIDENTS:,} incidents in {time.perf_counter() - started:.0f} s", flush=True)

        def bare_select():
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM incidents_incident LIMIT 50")
                cursor.fetchall()

        def list_queries():
            filters = IncidentFilters()
            count_incidents(filters=filters)
            list(incident_list(filters=filters)[:50])

        def search_queries(words: str):
            def measure():
                filters = IncidentFilters(search=words)
                count_incidents(filters=filters)
                list(incident_list(filters=filters)[:50])

            return measure

        user = get_user_model().objects.create_user("bench", password="x")
        browser = Client()
        browser.force_login(user)
        from morgue.services import create_api_token

        made = create_api_token(
            owner=user, name="bench", scope="write", expires_at=timezone.now() + datetime.timedelta(days=1)
        )
        api = Client(HTTP_AUTHORIZATION=f"Bearer {made.token}")
        # A broad search (two common words: about 7% of all incidents match and are
        # ranked) and a selective one (an incident number in the title).
        subjects = {
            ("list queries, 50 rows of 100k (count + page + tags)", 5): list_queries,
            ("search queries, broad (7,400 matches ranked)", 20): search_queries("database failover"),
            ("search queries, selective (1 match)", 20): search_queries("incident 4242"),
            ("GET /incidents/ (whole request, rendered)", None): lambda: browser.get("/incidents/"),
            ("GET /api/v1/incidents/ (whole request)", None): lambda: api.get("/api/v1/incidents/"),
            ("GET /api/v1/incidents/?search= (whole request)", None): lambda: api.get(
                "/api/v1/incidents/?search=database+failover"
            ),
        }
        results = []
        for (label, target), subject in subjects.items():
            floor, measured = interleaved(bare_select, subject)
            results.append(Result(label, measured, floor, "bare SELECT of 50 rows", target=target))
        return results
