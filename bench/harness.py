"""Timing helpers for benchmarks: medians of repeated runs, and ratios to a floor."""

import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def median_seconds(function: Callable[[], object], *, repeat: int = 50, warmup: int = 5) -> float:
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@dataclass
class Result:
    name: str
    subject_seconds: float
    floor_seconds: float
    floor_name: str
    target: float | None = None
    unit: str = "s"

    @property
    def ratio(self) -> float:
        return self.subject_seconds / self.floor_seconds if self.floor_seconds else float("inf")

    @property
    def missed_target(self) -> bool:
        return self.target is not None and self.ratio > self.target

    def __str__(self) -> str:
        target = ""
        if self.target is not None:
            target = f" (target ≤ {self.target:g}×: {'MISSED' if self.missed_target else 'met'})"
        return (
            f"{self.name}: {self.ratio:.2f}× {self.floor_name} "
            f"[{self.subject_seconds * 1000:.3f} ms vs {self.floor_seconds * 1000:.3f} ms]{target}"
        )


@dataclass
class Rate:
    """A throughput compared with a floor's throughput (higher is better)."""

    name: str
    subject_per_second: float
    floor_per_second: float
    floor_name: str
    target: float | None = None  # the subject must reach at least this share of the floor

    @property
    def ratio(self) -> float:
        return self.subject_per_second / self.floor_per_second if self.floor_per_second else 0.0

    @property
    def missed_target(self) -> bool:
        return self.target is not None and self.ratio < self.target

    def __str__(self) -> str:
        target = ""
        if self.target is not None:
            target = f" (target ≥ {self.target:g}: {'MISSED' if self.missed_target else 'met'})"
        return (
            f"{self.name}: {self.subject_per_second:,.0f}/s = {self.ratio:.3f} of {self.floor_name} "
            f"({self.floor_per_second:,.0f}/s){target}"
        )


class Skipped(Exception):
    """A benchmark that cannot run here (for example it needs PostgreSQL)."""


@contextlib.contextmanager
def throwaway_database(*, postgres_only: bool = True):
    """A fresh test database for the benchmark, dropped afterwards.

    Benchmarks load hundreds of thousands of rows; they never touch the
    database named in DATABASE_URL itself, only `test_<name>` beside it.
    """
    from django.db import connection

    if postgres_only and connection.vendor != "postgresql":
        raise Skipped("needs PostgreSQL: run with DATABASE_URL=postgres://…")
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
