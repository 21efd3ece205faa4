"""The alert counts as migrations 0004 to 0009 installed them, frozen here (models.py has moved on).

Loaded by those migrations only; the leading underscore keeps Django's
migration loader from taking this module for a migration.
"""

from morgue.counters import Counts

DAY_KEYS = {
    "day": "{row}.fired_quarter / 96",
    "team_key": "COALESCE({row}.team_id, 0)",
    "check_name": "{row}.check_name",
    "category_key": "COALESCE({row}.category_id, 0)",
}
QUARTER_KEYS = {
    "fired_quarter": "{row}.fired_quarter",
    "team_key": "COALESCE({row}.team_id, 0)",
    "paged_key": "COALESCE({row}.paged_id, 0)",
}


def counts_0004(measures: dict[str, str]) -> list[Counts]:
    """Day and quarter-hour counts, kept in place by the triggers (no deltas)."""
    return [
        Counts(
            name="alerts_review_day_counts",
            source="alerts_review_alert",
            table="alerts_review_alertdaycount",
            keys=DAY_KEYS,
            measures=measures,
        ),
        Counts(
            name="alerts_review_quarter_counts",
            source="alerts_review_alert",
            table="alerts_review_alertquartercount",
            keys=QUARTER_KEYS,
            measures=measures,
        ),
    ]


MEASURES_0009 = {
    "total": "CASE WHEN {row}.is_test THEN 0 ELSE 1 END",
    "out_of_hours": "CASE WHEN {row}.out_of_hours AND NOT {row}.is_test THEN 1 ELSE 0 END",
    "woke": "CASE WHEN {row}.woke_me_up AND NOT {row}.is_test THEN 1 ELSE 0 END",
}


def counts_0010() -> list[Counts]:
    """Day and hour counts, appended to deltas on PostgreSQL."""
    return [
        Counts(
            name="alerts_review_day_counts",
            source="alerts_review_alert",
            table="alerts_review_alertdaycount",
            deltas="alerts_review_alertdaydelta",
            keys=DAY_KEYS,
            measures=MEASURES_0009,
            # The age keys (for pruning, 0013) change no trigger: they only bound recounts.
            age_key="day",
            age_seconds=86400,
        ),
        Counts(
            name="alerts_review_hour_counts",
            source="alerts_review_alert",
            table="alerts_review_alerthourcount",
            deltas="alerts_review_alerthourdelta",
            keys={
                "hour": "{row}.fired_quarter / 4",
                "team_key": "COALESCE({row}.team_id, 0)",
                "paged_key": "COALESCE({row}.paged_id, 0)",
            },
            measures=MEASURES_0009,
            age_key="hour",
            age_seconds=3600,
        ),
    ]


def counts_0014() -> list[Counts]:
    """Monthly rollups of the day and hour counts, kept by triggers on those tables."""
    from morgue.counters import month_of_day_sql

    measures = {column: f"{{row}}.{column}" for column in ("total", "out_of_hours", "woke")}
    return [
        Counts(
            name="alerts_review_month_counts",
            source="alerts_review_alertdaycount",
            table="alerts_review_alertmonthcount",
            keys={
                "month": month_of_day_sql("{row}.day"),
                "team_key": "{row}.team_key",
                "check_name": "{row}.check_name",
                "category_key": "{row}.category_key",
            },
            measures=measures,
        ),
        Counts(
            name="alerts_review_month_paged_counts",
            source="alerts_review_alerthourcount",
            table="alerts_review_alertmonthpagedcount",
            keys={
                "month": month_of_day_sql("{row}.hour / 24"),
                "team_key": "{row}.team_key",
                "paged_key": "{row}.paged_key",
            },
            measures=measures,
        ),
    ]
