"""Alerts review in PostgreSQL: the monthly report over 1,000,000 alerts, and Alertmanager ingest.

- Report: GET /api/v1/reports/alerts/ for a month holding 1,000,000 alerts,
  in UTC and in New York, against a bare `SELECT check, count(*) … GROUP BY
  check` over the same rows (target: within 2×). The report sums the counts
  the database keeps (alerts_review.models.AlertDayCount and
  AlertHourCount), which the load below fills through their triggers.
- Ingest: Alertmanager payloads of 100 new alerts POSTed through the test
  client, in alerts per second, against a bare `bulk_create` of the same rows
  (target: at least a third of that floor).
"""

import datetime as dt
import itertools
import json

from django.test import Client

from bench.harness import Rate, Result, median_seconds, throwaway_database

ALERTS = 1_000_000
CHECKS = 60
PEOPLE = 20
BATCH = 100
MONTH = dt.date(2026, 10, 1)

# One month of alerts: 60 checks, 80% classified across the default categories,
# paged to whoever holds a three-day shift of 20 people, 7 in 24 hours out of hours.
LOAD_SQL = """
INSERT INTO alerts_review_alert
    (source, identity, check_name, host, state, severity, labels, summary, fired_at, fired_quarter,
     resolved_at, team_id, paged_id, out_of_hours, category_id, note, woke_me_up, created_at, updated_at)
SELECT 'alertmanager', 'fp-' || n, 'Check' || mod(n * 7, %(checks)s), 'host' || mod(n, 300),
       'resolved', 'warning', '{}'::jsonb, '', at, floor(extract(epoch FROM at) / 900),
       at + interval '10 minutes',
       %(team)s, (%(people)s)[1 + mod(floor(extract(epoch FROM at - timestamptz '2026-10-01 00:00+00')
                                            / 259200)::int, %(people_count)s)],
       extract(hour FROM at) < 7, CASE WHEN mod(n, 5) = 0 THEN NULL
                                       ELSE (%(categories)s)[1 + mod(n * 13, %(category_count)s)] END,
       '', extract(hour FROM at) < 7 AND mod(n, 3) = 0, now(), now()
FROM (SELECT n, timestamptz '2026-10-01 00:00+00' + ((n - 1) * 2.6784) * interval '1 second' AS at
      FROM generate_series(1::bigint, %(alerts)s) AS n) AS generated
"""


def run() -> list[Result | Rate]:
    with throwaway_database() as connection:
        from django.contrib.auth import get_user_model

        from alerts_review.models import Category
        from morgue.models import Team

        team = Team.objects.create(name="Bench", slug="bench")
        people = [get_user_model().objects.create_user(f"bench{n}") for n in range(PEOPLE)]
        categories = list(Category.objects.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(
                LOAD_SQL,
                {
                    "checks": CHECKS,
                    "team": team.pk,
                    "people": [person.pk for person in people],
                    "people_count": PEOPLE,
                    "categories": categories,
                    "category_count": len(categories),
                    "alerts": ALERTS,
                },
            )
            # What autovacuum does to a table this size soon after loading.
            cursor.execute("VACUUM ANALYZE alerts_review_alert")
        results: list[Result | Rate] = [
            report_result(connection, people[0]),
            # Outside UTC the month starts and ends inside a UTC day: those hours are counted from the alerts.
            report_result(connection, people[0], zone="America/New_York"),
        ]
        results.append(ingest_rate(connection, team))
    return results


def report_result(connection, person, zone: str = "UTC") -> Result:
    client = Client()
    client.force_login(person)
    since = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    until = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT check_name, count(*) FROM alerts_review_alert "
                "WHERE fired_at >= %s AND fired_at < %s GROUP BY check_name",
                [since, until],
            )
            cursor.fetchall()

    def report():
        response = client.get("/api/v1/reports/alerts/", {"month": f"{MONTH:%Y-%m}", "tz": zone})
        assert response.status_code == 200, response.content
        assert zone != "UTC" or response.json()["total"] == ALERTS

    floor_seconds = median_seconds(floor, repeat=7, warmup=1)
    report_seconds = median_seconds(report, repeat=7, warmup=1)
    return Result(
        f"alerts report over {ALERTS:,} alerts in a month ({zone})",
        report_seconds,
        floor_seconds,
        "bare GROUP BY check",
        target=2,
    )


def ingest_rate(connection, team) -> Rate:
    from alerts_review.models import Alert, AlertSource

    source = AlertSource(name="bench", kind="alertmanager", team=team)
    source.issue_token()  # the plain token stays on this instance; only its hash is saved
    source.save()
    client = Client()
    numbers = itertools.count()
    started = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

    def payload() -> str:
        batch = next(numbers)
        return json.dumps(
            {
                "version": "4",
                "status": "firing",
                "commonLabels": {"team": "bench"},
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {
                            "alertname": f"Check{n % 7}",
                            "instance": f"host{n}:9100",
                            "team": "bench",
                        },
                        "annotations": {"summary": f"Check{n % 7} on host{n}"},
                        "startsAt": (started + dt.timedelta(seconds=batch)).isoformat(),
                        "endsAt": "0001-01-01T00:00:00Z",
                        "fingerprint": f"ingest-{batch}-{n}",
                    }
                    for n in range(BATCH)
                ],
            }
        )

    def ingest():
        response = client.post(
            "/api/v1/alerts/alertmanager/",
            payload(),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {source.token}",
        )
        assert response.status_code == 200 and response.json()["created"] == BATCH, response.content

    def floor():
        batch = next(numbers)
        at = started + dt.timedelta(seconds=batch)
        Alert.objects.bulk_create(
            [
                Alert(
                    source="alertmanager",
                    alert_source=source,
                    identity=f"floor-{batch}-{n}",
                    check_name=f"Check{n % 7}",
                    host=f"host{n}:9100",
                    state="firing",
                    labels={"alertname": f"Check{n % 7}", "instance": f"host{n}:9100", "team": "bench"},
                    summary=f"Check{n % 7} on host{n}",
                    fired_at=at,
                    team=team,
                )
                for n in range(BATCH)
            ]
        )

    floor_seconds = median_seconds(floor, repeat=40, warmup=3)
    ingest_seconds = median_seconds(ingest, repeat=40, warmup=3)
    return Rate(
        f"Alertmanager ingest, payloads of {BATCH} alerts",
        BATCH / ingest_seconds,
        BATCH / floor_seconds,
        "bare bulk_create",
        target=1 / 3,
    )
