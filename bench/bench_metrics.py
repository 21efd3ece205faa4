"""Incident metrics over 100,000 incidents in PostgreSQL, against a bare SELECT of their three durations."""

import datetime as dt

from django.test import Client

from bench.harness import Result, median_seconds, throwaway_database

INCIDENTS = 100_000

LOAD_SQL = """
INSERT INTO incidents_incident
    (title, severity, status, affected_service, problem_type, impact_type,
     impact_started_at, impact_started_source, detected_at, detected_source,
     acknowledged_source, status_posted_source, mitigated_source, resolved_at, resolved_source,
     tldr, what_happened, why_surprised, went_well, got_lucky, contributing_factors,
     version, created_at, updated_at)
SELECT 'Incident ' || n, 1 + mod(n, 5), CASE WHEN mod(n, 50) = 0 THEN 'open' ELSE 'resolved' END, '', '', '',
       start, '', start + (60 + mod(n * 7919, 3600)) * interval '1 second', '',
       '', '', '',
       CASE WHEN mod(n, 50) = 0 THEN NULL
            ELSE start + (600 + mod(n * 104729, 86400)) * interval '1 second' END, '',
       '', '', '', '', '', '', 1, now(), now()
FROM (SELECT n, timestamptz '2024-01-01' + mod(n, 700) * interval '1 day' + mod(n, 1440) * interval '1 minute'
      AS start FROM generate_series(1::bigint, %s) AS n) AS generated
"""


def run() -> list[Result]:
    with throwaway_database() as connection:
        from django.contrib.auth import get_user_model

        with connection.cursor() as cursor:
            cursor.execute(LOAD_SQL, [INCIDENTS])
            cursor.execute("ANALYZE incidents_incident")
        user = get_user_model().objects.create_user("bench", password="bench")
        client = Client()
        client.force_login(user)
        since, until = dt.date(2024, 1, 1), dt.date(2026, 1, 1)

        def floor():
            # The durations as the metrics compute them (Incident.objects.with_durations),
            # selected bare: no percentiles, no HTTP.
            from incidents.durations import NAMES
            from incidents.models import Incident

            start, end = (dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) for day in (since, until))
            durations = (
                Incident.objects.visible()
                .started_between(start, end)
                .with_durations()
                .order_by()
                .values_list(*NAMES)
            )
            sql, params = durations.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        def report():
            response = client.get(
                "/api/v1/metrics/incidents/", {"since": since.isoformat(), "until": until.isoformat()}
            )
            assert response.status_code == 200, response.content

        floor_seconds = median_seconds(floor, repeat=15, warmup=2)
        report_seconds = median_seconds(report, repeat=15, warmup=2)
    return [
        Result(
            f"metrics API over {INCIDENTS:,} incidents",
            report_seconds,
            floor_seconds,
            "bare SELECT of the three durations",
            target=3,
        )
    ]
