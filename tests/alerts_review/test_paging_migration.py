"""Alerts stored before paging existed are recorded, not left for the paging sweep to page now."""

import datetime as dt

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("alerts_review", "0010_hour_counts_and_deltas")]
AFTER = [("alerts_review", "0011_paging_policies_maintenance_heartbeats")]


@pytest.mark.django_db(transaction=True)
def test_alerts_from_before_paging_are_recorded_and_new_ones_start_undecided():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_alert = executor.loader.project_state(BEFORE).apps.get_model("alerts_review", "Alert")
    stored = old_alert.objects.create(
        source="alertmanager",
        identity="old",
        check_name="DiskSpaceLow",
        state="firing",
        severity="critical",
        fired_at=dt.datetime.now(dt.UTC),
        fired_quarter=0,
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    emit_post_migrate_signal(
        verbosity=0, interactive=False, db="default"
    )  # the count triggers, as after migrate

    new_alert = executor.loader.project_state(AFTER).apps.get_model("alerts_review", "Alert")
    assert new_alert.objects.get(pk=stored.pk).paging == "recorded"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from alerts_review.models import Alert
    from tests.factories import AlertFactory

    assert (
        AlertFactory(identity="new").paging == "" and Alert.objects.get(identity="old").paging == "recorded"
    )
