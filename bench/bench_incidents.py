"""Incident list and search over 100,000 incidents (400,000 timeline events) vs a bare 50-row SELECT.

Subjects: the list page's queries (count, 50 rows with team, facilitator and
tags), the same through the API, and a ranked full-text search; each against
the floor of a bare `SELECT` of 50 rows from the same table. The whole HTTP
requests (middleware, serialising, template rendering) are printed too,
against the same floor, for information.
"""

import time

from django.db import connection
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from bench.harness import Result, median_seconds, throwaway_database

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


def run() -> list[Result]:
    from django.contrib.auth import get_user_model

    from incidents.models import Incident
    from incidents.models.incident import search_vector_expression
    from incidents.selectors.incident import IncidentFilters, incident_list

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
            queryset = incident_list(filters=IncidentFilters())
            queryset.count()
            list(queryset[:50])

        def search_queries(words: str):
            def measure():
                queryset = incident_list(filters=IncidentFilters(search=words))
                queryset.count()
                list(queryset[:50])

            return measure

        floor = median_seconds(bare_select, repeat=200)
        listing = median_seconds(list_queries, repeat=50)
        # A broad query (two common words, about 7% of all incidents match and are
        # ranked) and a selective one (an incident number in the title).
        broad = median_seconds(search_queries("database failover"), repeat=30)
        selective = median_seconds(search_queries("incident 4242"), repeat=30)

        user = get_user_model().objects.create_user("bench", password="x")
        browser = Client()
        browser.force_login(user)
        api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        page = median_seconds(lambda: browser.get("/incidents/"), repeat=20, warmup=3)
        api_list = median_seconds(lambda: api.get("/api/v1/incidents/"), repeat=20, warmup=3)
        api_search = median_seconds(
            lambda: api.get("/api/v1/incidents/?search=database+failover"), repeat=20, warmup=3
        )
        floor_name = "bare SELECT of 50 rows"
        return [
            Result(
                "list queries, 50 rows of 100k (count + page + tags)", listing, floor, floor_name, target=5
            ),
            Result("search queries, broad (7,400 matches ranked)", broad, floor, floor_name, target=20),
            Result("search queries, selective (1 match)", selective, floor, floor_name, target=20),
            Result("GET /incidents/ (whole request, rendered)", page, floor, floor_name),
            Result("GET /api/v1/incidents/ (whole request)", api_list, floor, floor_name),
            Result("GET /api/v1/incidents/?search= (whole request)", api_search, floor, floor_name),
        ]
