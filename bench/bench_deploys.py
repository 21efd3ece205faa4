"""Deploy ingest through the API against bare bulk_create; suggested deploys over 1,000,000 deploys."""

import datetime as dt
import time

from django.test import Client
from django.utils import timezone

from bench.harness import Rate, Result, median_seconds, throwaway_database

INGESTED = 10_000
LOADED = 1_000_000

LOAD_SQL = """
INSERT INTO incidents_deploy
    (stack, environment, deployer, old_revision, new_revision, started_at, finished_at,
     diff_url, log_url, message, created_at)
SELECT (ARRAY['web', 'web_config', 'search', 'api', 'payments'])[1 + mod(n, 5)],
       (ARRAY['production', 'production', 'production', 'staging', 'qa'])[1 + mod(n * 7, 5)],
       'person' || mod(n, 40), 'r' || (n - 1), 'r' || n, start, start + interval '4 minutes',
       'https://github.example.com/compare/' || n, '', '', now()
FROM (SELECT n, timestamptz '2025-01-01' + n * interval '63 seconds' AS start
      FROM generate_series(1::bigint, %s) AS n) AS generated
"""


def _payloads() -> list[dict]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        {
            "stack": "web",
            "environment": "production",
            "deployer": f"person{n % 40}",
            "old_revision": f"{n:010x}",
            "new_revision": f"{n + 1:010x}",
            "started_at": (start + dt.timedelta(minutes=n)).isoformat(),
            "finished_at": (start + dt.timedelta(minutes=n, seconds=200)).isoformat(),
            "diff_url": f"https://github.example.com/web/compare/{n}",
            "message": "bench",
        }
        for n in range(INGESTED)
    ]


def _ingest(connection) -> Rate:
    from django.contrib.auth import get_user_model

    from incidents.models import Deploy
    from morgue.services import create_api_token

    payloads = _payloads()
    rows = [
        Deploy(
            **{
                **payload,
                "started_at": dt.datetime.fromisoformat(payload["started_at"]),
                "finished_at": dt.datetime.fromisoformat(payload["finished_at"]),
            }
        )
        for payload in payloads
    ]
    started = time.perf_counter()
    Deploy.objects.bulk_create(rows, batch_size=1000)
    floor_seconds = time.perf_counter() - started
    Deploy.objects.all().delete()

    user = get_user_model().objects.create_user("bench-ingest", password="bench")
    token = create_api_token(
        owner=user, name="bench", scope="write", expires_at=timezone.now() + dt.timedelta(days=1)
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    started = time.perf_counter()
    for payload in payloads:
        response = client.post("/api/v1/deploys/", payload, content_type="application/json")
        assert response.status_code == 201, response.content
    subject_seconds = time.perf_counter() - started
    assert Deploy.objects.count() == INGESTED
    Deploy.objects.all().delete()
    return Rate(
        f"POST /api/v1/deploys/ ×{INGESTED:,} (deploys/second)",
        INGESTED / subject_seconds,
        INGESTED / floor_seconds,
        "bare bulk_create of the same rows",
    )


def _suggested(connection) -> list[Result]:
    from django.contrib.auth import get_user_model

    from incidents.models import Incident
    from incidents.selectors.deploy import suggested_deploys

    with connection.cursor() as cursor:
        cursor.execute(LOAD_SQL, [LOADED])
        cursor.execute("ANALYZE incidents_deploy")
    impact = dt.datetime(2025, 6, 1, 14, 0, tzinfo=dt.UTC)
    incident = Incident.objects.create(
        title="bench", impact_started_at=impact, detected_at=impact + dt.timedelta(minutes=10)
    )
    since, until = impact - dt.timedelta(minutes=60), impact + dt.timedelta(minutes=10)

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT * FROM incidents_deploy WHERE environment = %s AND started_at >= %s "
                "AND started_at <= %s ORDER BY started_at DESC",
                ["production", since, until],
            )
            assert cursor.fetchall()

    def query():
        assert list(suggested_deploys(incident=incident))

    user = get_user_model().objects.create_user("bench-suggest", password="bench")
    client = Client()
    client.force_login(user)

    def endpoint():
        response = client.get(f"/api/v1/incidents/{incident.pk}/suggested-deploys/")
        assert response.status_code == 200, response.content

    floor_seconds = median_seconds(floor, repeat=200, warmup=20)
    query_seconds = median_seconds(query, repeat=200, warmup=20)
    endpoint_seconds = median_seconds(endpoint, repeat=100, warmup=10)
    return [
        Result(
            f"suggested deploys over {LOADED:,} deploys",
            query_seconds,
            floor_seconds,
            "bare indexed range SELECT",
            target=3,
        ),
        Result(
            "GET /api/v1/incidents/{id}/suggested-deploys/",
            endpoint_seconds,
            floor_seconds,
            "bare indexed range SELECT",
        ),
    ]


def run() -> list[Result | Rate]:
    with throwaway_database() as connection:
        return [_ingest(connection), *_suggested(connection)]
