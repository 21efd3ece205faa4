"""The remediation due-date counts as migrations 0007 (installed) and 0009 (removed) knew them.

No longer kept: the board counts overdue items from their rows. Kept here,
not in the models, so those migrations run the same on every database. The
migration loader skips modules whose names start with an underscore.
"""

from morgue.counters import Counts

REMEDIATION_DUE_COUNTS = Counts(
    name="incidents_remediation_due_counts",
    source="incidents_remediationitem",
    table="incidents_remediationduecount",
    keys={"kind": "{row}.kind", "status": "{row}.status", "due_date": "{row}.due_date"},
    measures={"total": "1"},
)
