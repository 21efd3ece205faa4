"""Counts kept by the database: a small table of sums that triggers keep equal to a grouping of a big one.

A report that groups a million rows costs as much as reading them; the same
figures summed from a table of grouped counts cost a few thousand rows.
Triggers (not application code) keep the counts, so every way a row changes
is seen: the ORM's save and bulk_create, queryset updates, cascades from a
deleted team or person, the admin, and raw SQL. On PostgreSQL they are
statement-level triggers with transition tables, so a bulk insert of a
million rows is summed in one grouped pass; SQLite has only row-level
triggers, which suits its small databases.

A `Counts` names the source table, the counts table, the key columns with
the expression of a source row that fills each, and the measured columns
with theirs. Expressions are SQL written against `{row}`, the same text on
both databases (`COALESCE({row}.team_id, 0)`, `{row}.fired_quarter / 96`).
Keys must never be NULL (use 0 for "none"): a unique constraint on the keys
is what the upsert targets, and NULLs would not collide.

Counts with a `deltas` table (PostgreSQL only) are kept without locking:
the triggers append each statement's grouped, signed changes to the deltas
table, where no two writers ever touch the same row, and `compact` (run by
beat) moves them into the counts in one statement. Counts read straight into
the counts table make concurrent writers of the same keys wait for each
other's commit; a busy source table wants deltas. A reader sums the counts
and the deltas (`Counts.sources`); both are grouped by the same keys.
On SQLite, a single writer at a time, the triggers always add to the counts.

PostgreSQL's TRUNCATE empties the counts with the rows. SQLite fires delete
triggers for rows that `INSERT OR REPLACE` removes only with
`recursive_triggers` on, which Morgue's settings turn on.

A migration installs the triggers. SQLite rebuilds a table to alter one of
its columns, which drops the table's triggers; `keep_after_migrate`, called
by the apps that keep counts, has post_migrate put them back and recount, so
a later migration cannot silently stop the counting. post_migrate also runs
after `flush`, and recounts counts that drifted (see `Counts.drifted`).

What a later change must keep in mind:
- A migration that alters a counts table on SQLite must uninstall the
  triggers first and install them after (`install_operation` run in
  reverse, then forward): while SQLite rebuilds the table, triggers that
  write to it break every write to the source.
- Changing a `Counts` definition needs a migration that uninstalls and
  installs it again: `ensure` checks that the triggers exist, not what they say.
- Counts with an `age_key` may outlive their rows before a floor (rows pruned
  on purpose, see `keep_sql`): a recount or drift check of them must be given
  the floor, or it recounts those days from rows no longer there.
- `dumpdata` of the whole project includes the counts tables, and loading
  them on top of rows the triggers already counted collides: dump with
  `--exclude` for each counts model (the README names them).
"""

from dataclasses import dataclass

ROW_EVENTS = ("insert", "update", "delete")


@dataclass(frozen=True)
class Counts:
    name: str  # prefix for the trigger and function names
    source: str  # the table whose rows are counted
    table: str  # the counts table; its keys carry a unique constraint
    keys: dict[str, str]  # column -> expression over {row}
    measures: dict[str, str]  # column -> expression over {row}, summed
    deltas: str | None = None  # a table of the same columns, without the unique constraint
    # The key that says when (e.g. "day"), and the seconds one unit of it spans:
    # counts before a floor outlive the rows they counted (see `keep_sql`).
    age_key: str | None = None
    age_seconds: int = 1

    @property
    def sources(self) -> list[str]:
        """The tables whose rows, summed by key, are the counts."""
        return [self.table, self.deltas] if self.deltas else [self.table]

    def _columns(self) -> str:
        return ", ".join([*self.keys, *self.measures])

    def _select(self, row: str, sign: str = "") -> str:
        keys = [f"{expression.format(row=row)} AS {column}" for column, expression in self.keys.items()]
        measures = [
            f"{sign}({expression.format(row=row)}) AS {column}"
            for column, expression in self.measures.items()
        ]
        return f"SELECT {', '.join(keys + measures)} FROM {row}"

    def _upsert_tail(self, excluded: str) -> str:
        keys = ", ".join(self.keys)
        sets = ", ".join(
            f"{column} = {self.table}.{column} + {excluded}.{column}" for column in self.measures
        )
        return f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"

    def _grouped_upsert(self, changes: str) -> str:
        """Add grouped, signed changes to the counts, skipping groups whose changes cancel out."""
        keys = ", ".join(self.keys)
        sums = ", ".join(f"SUM({column})" for column in self.measures)
        changed = " OR ".join(f"SUM({column}) <> 0" for column in self.measures)
        # Sorted so two transactions lock the same counts rows in the same order.
        return (
            f"INSERT INTO {self.table} ({self._columns()}) "
            f"SELECT {keys}, {sums} FROM ({changes}) AS changes "
            f"GROUP BY {keys} HAVING {changed} ORDER BY {keys} "
            f"{self._upsert_tail('EXCLUDED')}"
        )

    def _appended(self, changes: str) -> str:
        """Append grouped, signed changes to the deltas: a plain INSERT that waits for no one."""
        keys = ", ".join(self.keys)
        sums = ", ".join(f"SUM({column})" for column in self.measures)
        changed = " OR ".join(f"SUM({column}) <> 0" for column in self.measures)
        return (
            f"INSERT INTO {self.deltas} ({self._columns()}) "
            f"SELECT {keys}, {sums} FROM ({changes}) AS changes GROUP BY {keys} HAVING {changed}"
        )

    def compact_sql(self) -> str:
        """Move the committed deltas into the counts, in one statement.

        The DELETE takes only rows committed before it started: a writer's
        deltas still in flight stay for the next run. Two runs at once are
        safe: the second waits on the rows the first deleted and then skips them.
        """
        columns = self._columns()
        moved = f"WITH moved AS (DELETE FROM {self.deltas} RETURNING {columns}) "
        return moved + self._grouped_upsert(f"SELECT {columns} FROM moved")

    def _floor_key(self, floor: int | None) -> int | None:
        """The age key's value at `floor` (seconds since the epoch), None without a floor."""
        if floor is None or self.age_key is None:
            return None
        return -(-int(floor) // self.age_seconds)

    def _since(self, floor: int | None, row: str) -> str:
        """A condition on `row` (the counts, or the source when row is the source) for keys from the floor."""
        key = self._floor_key(floor)
        if key is None or self.age_key is None:
            return "1 = 1"
        if row == self.source:
            return f"{self.keys[self.age_key].format(row=row)} >= {key}"
        return f"{row}.{self.age_key} >= {key}"

    def rebuild_sql(self, floor: int | None = None) -> list[str]:
        """Statements that recount everything from the source table (same on both databases).

        With a `floor` (seconds since the epoch), the counts before it are
        kept as they are: their rows were pruned on purpose (`keep_sql`).
        """
        keys = ", ".join(self.keys)
        sums = ", ".join(f"SUM({column})" for column in self.measures)
        if self._floor_key(floor) is None:
            emptied = [f"DELETE FROM {self.deltas}"] if self.deltas else []
            return [
                *emptied,
                f"DELETE FROM {self.table}",
                f"INSERT INTO {self.table} ({self._columns()}) "
                f"SELECT {keys}, {sums} FROM ({self._select(self.source)}) AS source GROUP BY {keys}",
            ]
        # The deltas before the floor are folded into the counts first, so none is lost.
        folded = [self.compact_sql()] if self.deltas else []
        recent = f"(SELECT * FROM {self.source} WHERE {self._since(floor, self.source)})"
        return [
            *folded,
            *(f"DELETE FROM {table} WHERE {self._since(floor, table)}" for table in self.sources),
            f"WITH recent AS {recent} "
            f"INSERT INTO {self.table} ({self._columns()}) "
            f"SELECT {keys}, {sums} FROM ({self._select('recent')}) AS source GROUP BY {keys}",
        ]

    def keep_sql(self, where: str) -> str:
        """A statement that counts once more the source rows matching `where`, about to be deleted.

        Run just before deleting those rows in the same transaction: the
        delete triggers then take back what this added, and the counts stay
        as they were. That is how rows past retention go while the reports
        of their months stay identical.
        """
        write = self._appended if self.deltas else self._grouped_upsert
        return f"WITH doomed AS (SELECT * FROM {self.source} WHERE {where}) {write(self._select('doomed'))}"

    def postgresql_install(self) -> list[str]:
        write = self._appended if self.deltas else self._grouped_upsert
        inserted = write(self._select("new_rows"))
        deleted = write(self._select("old_rows", "-"))
        updated = write(f"{self._select('new_rows')} UNION ALL {self._select('old_rows', '-')}")
        function = f"""
            CREATE OR REPLACE FUNCTION {self.name}_count() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {inserted};
                ELSIF TG_OP = 'DELETE' THEN
                    {deleted};
                ELSE
                    {updated};
                END IF;
                RETURN NULL;
            END
            $body$
        """
        # A trigger with transition tables handles one kind of event, hence three.
        tables = {
            "INSERT": "NEW TABLE AS new_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
        }
        triggers = [
            f"CREATE TRIGGER {self.name}_{event.lower()} AFTER {event} ON {self.source} "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {self.name}_count()"
            for event, transition in tables.items()
        ]
        # TRUNCATE fires no row or transition-table triggers: the counts go with the rows.
        emptied = f"""
            CREATE OR REPLACE FUNCTION {self.name}_emptied() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                {"".join(f"DELETE FROM {table}; " for table in self.sources)}
                RETURN NULL;
            END
            $body$
        """
        truncate = (
            f"CREATE TRIGGER {self.name}_truncate AFTER TRUNCATE ON {self.source} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {self.name}_emptied()"
        )
        return [function, *triggers, emptied, truncate]

    def postgresql_uninstall(self) -> list[str]:
        return [
            *(
                f"DROP TRIGGER IF EXISTS {self.name}_{event} ON {self.source}"
                for event in (*ROW_EVENTS, "truncate")
            ),
            f"DROP FUNCTION IF EXISTS {self.name}_count()",
            f"DROP FUNCTION IF EXISTS {self.name}_emptied()",
        ]

    def _sqlite_upsert(self, row: str, sign: str = "") -> str:
        keys = [expression.format(row=row) for expression in self.keys.values()]
        measures = [f"{sign}({expression.format(row=row)})" for expression in self.measures.values()]
        return (
            f"INSERT INTO {self.table} ({self._columns()}) VALUES ({', '.join(keys + measures)}) "
            f"{self._upsert_tail('excluded')};"
        )

    def sqlite_install(self) -> list[str]:
        bodies = {
            "INSERT": self._sqlite_upsert("NEW"),
            "UPDATE": self._sqlite_upsert("OLD", "-") + " " + self._sqlite_upsert("NEW"),
            "DELETE": self._sqlite_upsert("OLD", "-"),
        }
        return [
            f"CREATE TRIGGER {self.name}_{event.lower()} AFTER {event} ON {self.source} BEGIN {body} END"
            for event, body in bodies.items()
        ]

    def sqlite_uninstall(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.name}_{event}" for event in ROW_EVENTS]

    def install(self, connection, floor: int | None = None) -> None:
        """Create the triggers and count what the source table already holds (from `floor` on)."""
        statements = self.postgresql_install() if connection.vendor == "postgresql" else self.sqlite_install()
        self._execute(connection, [*statements, *self._rebuild_statements(connection, floor)])

    def _rebuild_statements(self, connection, floor: int | None) -> list[str]:
        statements = self.rebuild_sql(floor)
        if connection.vendor != "postgresql" and self.deltas and self._floor_key(floor) is not None:
            # SQLite never writes the deltas, and has no DELETE … RETURNING in a WITH.
            statements = [each for each in statements if not each.startswith("WITH moved")]
        return statements

    def uninstall(self, connection) -> None:
        statements = (
            self.postgresql_uninstall() if connection.vendor == "postgresql" else self.sqlite_uninstall()
        )
        self._execute(connection, statements)

    def installed(self, connection) -> bool:
        """Whether every trigger exists (SQLite drops them when a migration remakes the table)."""
        events = (*ROW_EVENTS, "truncate") if connection.vendor == "postgresql" else ROW_EVENTS
        names = [f"{self.name}_{event}" for event in events]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s)", [names])
            else:
                marks = ", ".join(["%s"] * len(names))
                cursor.execute(
                    f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", names
                )
            return cursor.fetchone()[0] == len(names)

    def drifted(self, connection, floor: int | None = None) -> bool:
        """Whether the counts visibly disagree with the rows: a negative count, or a total that is off.

        Cheap enough to ask after every migrate and flush. SQLite's flush
        empties tables one by one in no fixed order; when it empties the
        counts before the rows, the rows' delete triggers leave negative counts.
        Deltas may be negative (a deleted row); the counts, which hold only
        whole committed changes, never are. With a `floor`, only the counts
        from the floor on are compared with the rows (those before outlive them).
        """
        measures = list(self.measures)
        negative = " OR ".join(f"{column} < 0" for column in measures)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {self.table} WHERE {negative} LIMIT 1")
            if cursor.fetchone():
                return True
            # A measure of 1 per row sums to the number of rows.
            for column, expression in self.measures.items():
                if expression.strip() == "1":
                    kept = " + ".join(
                        f"(SELECT COALESCE(SUM({column}), 0) FROM {table} WHERE {self._since(floor, table)})"
                        for table in self.sources
                    )
                    rows = f"SELECT COUNT(*) FROM {self.source} WHERE {self._since(floor, self.source)}"
                    cursor.execute(f"SELECT {kept}, ({rows})")
                    kept_total, counted = cursor.fetchone()
                    return kept_total != counted
        return False

    def ensure(self, connection, floor: int | None = None) -> bool:
        """Install missing triggers and recount, or recount counts that drifted; True when it had to.

        Counts before `floor` (seconds since the epoch) are left alone: their rows were pruned.
        """
        if not self.installed(connection):
            self.uninstall(connection)
            self.install(connection, floor)
            return True
        if self.drifted(connection, floor):
            self.rebuild(connection, floor)
            return True
        return False

    def rebuild(self, connection, floor: int | None = None) -> None:
        self._execute(connection, self._rebuild_statements(connection, floor))

    def compact(self, connection) -> None:
        """Fold the deltas into the counts (a no-op for counts kept without deltas)."""
        if self.deltas and connection.vendor == "postgresql":
            self._execute(connection, [self.compact_sql()])

    @staticmethod
    def _execute(connection, statements: list[str]) -> None:
        if connection.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(
                f"counts kept by triggers need PostgreSQL or SQLite, not {connection.vendor}"
            )
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def month_of_day_sql(day: str) -> str:
    """SQL for the calendar month (year × 12 + month − 1) of `day`, days since 1970-01-01.

    Integer arithmetic only (Howard Hinnant's days-to-civil algorithm), so the
    same text runs on PostgreSQL and SQLite, in a trigger or a query; `month_of_day`
    is its definition in Python. Years counted from March put February last,
    so the month is (March-based year) × 12 + months since March + 2, with no CASE.
    """
    era_days = f"(({day}) + 719468)"  # days since 0000-03-01, positive from year 1 on
    # No `%`: a statement run with parameters would take it for a placeholder.
    doe = f"({era_days} - {era_days} / 146097 * 146097)"  # day of the 400-year era
    yoe = f"(({doe} - {doe} / 1460 + {doe} / 36524 - {doe} / 146096) / 365)"  # year of the era
    doy = f"({doe} - (365 * {yoe} + {yoe} / 4 - {yoe} / 100))"  # day of the March-based year
    months_since_march = f"((5 * {doy} + 2) / 153)"
    return f"((({yoe}) + ({era_days} / 146097) * 400) * 12 + {months_since_march} + 2)"


def month_of_day(day: int) -> int:
    """The calendar month (year × 12 + month − 1) of `day`, days since 1970-01-01 (UTC)."""
    import datetime as dt

    date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
    return date.year * 12 + date.month - 1


def rebuild_all(connection, *counts: Counts, floor: int | None = None) -> None:
    """Recount `counts` from their source tables, in one transaction that writers wait for.

    Counts before `floor` (seconds since the epoch) are kept: their rows were pruned.
    """
    from django.db import transaction

    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            # Writers wait, so no row changes between the recount and the commit.
            with connection.cursor() as cursor:
                for source in sorted({each.source for each in counts}):
                    cursor.execute(f"LOCK TABLE {source} IN SHARE MODE")
        for each in counts:
            each.rebuild(connection, floor)


def install_operation(*counts: Counts):
    """The migration operation that installs `counts` (and counts what is stored), or removes them."""
    from django.db import migrations

    def install(apps, schema_editor) -> None:
        for each in counts:
            each.install(schema_editor.connection)

    def uninstall(apps, schema_editor) -> None:
        for each in counts:
            each.uninstall(schema_editor.connection)

    return migrations.RunPython(install, uninstall)


def keep_after_migrate(app_config, *counts: Counts, floor=None) -> None:
    """Have post_migrate reinstall any of `counts` whose triggers a migration of the app dropped.

    `floor(connection)`, when given, says (in seconds since the epoch, or None)
    before when the counts outlive their pruned rows and must not be recounted.
    """
    from django.db.models.signals import post_migrate

    def receiver(*, using: str = "default", **kwargs) -> None:
        from django.db import connections

        connection = connections[using]
        if connection.vendor not in ("postgresql", "sqlite"):
            return
        tables = set(connection.introspection.table_names())
        since = floor(connection, tables) if floor is not None else None
        for each in counts:
            if each.source in tables and each.table in tables:
                each.ensure(connection, since)

    app_config.ensure_counts = receiver  # a strong reference: signals hold receivers weakly
    post_migrate.connect(receiver, sender=app_config)
