"""What every importer's tests do: run the command, count what it wrote, edit a fixture."""

import io
import json
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command

from alerts_review.models import Alert
from morgue.models import Team
from oncall.models import Override, Rotation, Shift


def run_import(source: str, *args: str) -> tuple[int, str]:
    """`manage.py import_oncall SOURCE ARGS`: its exit code and what it printed."""
    out = io.StringIO()
    try:
        call_command("import_oncall", source, *args, stdout=out)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    return 0, out.getvalue()


def counts() -> tuple[int, ...]:
    """Rows of every kind an import writes, to show that a run wrote nothing or changed nothing."""
    return (
        get_user_model().objects.count(),
        Team.objects.count(),
        Rotation.objects.count(),
        Shift.all_pieces.count(),
        Override.objects.count(),
        Alert.objects.count(),
    )


def edit(path: Path, change: Callable[[dict], object]) -> None:
    """Change a JSON fixture in place."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
