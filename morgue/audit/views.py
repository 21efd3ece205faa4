"""Staff reading the audit trail: /audit/ (filterable, paged), its CSV, and one object's history."""

import json
from collections.abc import Iterator
from urllib.parse import urlencode

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from morgue import permissions
from morgue.auth import SignedInRequest
from morgue.paging import log_page
from morgue.spreadsheets import SafeWriter

from .forms import AuditFilterForm
from .selectors import AuditFilters, audit_entries, known_kinds

PAGE_SIZE = 50
CSV_HEADERS = [
    "When (UTC)", "Who", "Address", "Request", "Action", "Kind", "Object id", "Object", "Changes (JSON)",
]  # fmt: skip


def _staff(request: SignedInRequest) -> None:
    permissions.require(request.user, "read", None, kind="audit")


def _trail_page(
    request: SignedInRequest, form: AuditFilterForm, filters: AuditFilters, *, template_context: dict
) -> HttpResponse:
    page = log_page(request, audit_entries(filters), position="at", size=PAGE_SIZE)
    context = {
        "form": form,
        "entries": page["rows"],
        "older": page["older"],
        "newest": page["newest"],
        "csv_query": urlencode(page["query"]),
        **template_context,
    }
    return render(request, "morgue/audit.html", context, status=200 if form.is_valid() else 400)


@require_GET
def audit_list(request: SignedInRequest) -> HttpResponse:
    """Every change across the site, newest first, a page at a time."""
    _staff(request)
    form = AuditFilterForm(request.GET)
    filters = form.filters() if form.is_valid() else AuditFilters(kind="-")
    return _trail_page(request, form, filters, template_context={"kinds": known_kinds(), "subject": None})


@require_GET
def object_history(request: SignedInRequest, kind: str, object_id: str) -> HttpResponse:
    """One object's entries (its "History" tab), found by kind and id so a deleted one still has its own."""
    _staff(request)
    form = AuditFilterForm({**request.GET.dict(), "kind": kind, "object_id": object_id})
    filters = form.filters() if form.is_valid() else AuditFilters(kind=kind, object_id=object_id)
    subject = audit_entries(AuditFilters(kind=kind, object_id=object_id)).values_list(
        "object_label", flat=True
    )
    return _trail_page(
        request,
        form,
        filters,
        template_context={"kinds": [], "subject": {"kind": kind, "id": object_id, "label": subject.first()}},
    )


@require_GET
def audit_csv(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered trail as CSV, streamed: an export of a year's entries never sits in memory."""
    _staff(request)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        refused = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(f"The export was refused. {refused}\n", status=400, content_type="text/plain")
    entries = audit_entries(form.filters())
    writer = SafeWriter(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_HEADERS)
        for entry in entries.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    entry.at.isoformat(), entry.actor_label or "system", entry.ip or "", entry.request_id,
                    entry.action, entry.kind, entry.object_id, entry.object_label,
                    json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
                ]
            )  # fmt: skip

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate().isoformat()}.csv"'
    return response


class _Echo:
    """A file-like object whose write() returns the line, for streaming CSV."""

    def write(self, text: str) -> str:
        return text
