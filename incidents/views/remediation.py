"""Remediation pages: the board, its CSV export, and inline add/edit/status forms."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from incidents.forms_remediation import BoardFilterForm, RemediationItemForm, RemediationStatusForm
from incidents.models import Incident, RemediationItem
from incidents.selectors import remediation as selectors
from incidents.selectors.board import BOARD_COLUMN_SIZE, board_columns
from incidents.services import remediation as services
from morgue.auth import SignedInRequest
from morgue.charts import Series, bar_chart, line_chart
from morgue.models import Team
from morgue.permissions import requires
from morgue.spreadsheets import SafeWriter
from morgue.submissions import submit_once

FIGURE_MONTHS = 12


def _next_url(request: SignedInRequest, fallback: str) -> str:
    """Where a form goes back to: the page it was on, never a form's own POST-only address."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
        and target.split("?")[0].split("#")[0] != request.path
    ):
        return target
    return fallback


def _months_ago(today: dt.date, months: int) -> dt.date:
    month_index = today.year * 12 + today.month - 1 - months
    return dt.date(month_index // 12, month_index % 12 + 1, 1)


def _month_starts(first: dt.date, count: int) -> list[dt.date]:
    return [_months_ago(first, -offset) for offset in range(count)]


def figure_charts(months: list[selectors.MonthRow], *, first: dt.date) -> list:
    """Opened, completed (on time or late) and median open age per month, Dev beside Ops."""
    starts = _month_starts(first, FIGURE_MONTHS)
    labels = [start.strftime("%b %Y") for start in starts]
    by_key = {(row.month, row.kind): row for row in months}

    def values(kind: str, read) -> list:
        return [read(by_key[(start, kind)]) if (start, kind) in by_key else None for start in starts]

    def count(kind: str, read) -> list:
        return [value or 0 for value in values(kind, read)]

    return [
        bar_chart(
            "Remediation items opened per month",
            labels,
            [
                Series("Dev", count("dev", lambda row: row.opened)),
                Series("Ops", count("ops", lambda row: row.opened)),
            ],
            "items opened",
            "month",
        ),
        bar_chart(
            "Remediation items completed per month, on time and late",
            labels,
            [
                Series("Dev on time", count("dev", lambda row: row.completed_on_time)),
                Series("Dev late", count("dev", lambda row: row.completed - row.completed_on_time)),
                Series("Ops on time", count("ops", lambda row: row.completed_on_time)),
                Series("Ops late", count("ops", lambda row: row.completed - row.completed_on_time)),
            ],
            "items completed",
            "month completed",
        ),
        line_chart(
            "Median age of items still open, by month opened",
            labels,
            [
                Series("Dev", values("dev", lambda row: row.median_open_age_days)),
                Series("Ops", values("ops", lambda row: row.median_open_age_days)),
            ],
            "days open",
            "month opened",
        ),
    ]


@require_GET
def board(request: SignedInRequest) -> HttpResponse:
    form = BoardFilterForm(request.GET)
    filters = form.filters(request.user)
    today = timezone.localdate()
    page = form.cleaned_data.get("page") or 1
    columns = board_columns(filters, today=today, page=page)
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(_months_ago(today, FIGURE_MONTHS - 1), dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    months = selectors.monthly_figures(since=since, until=until, today=today)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "columns": columns,
        "total": sum(column.count for column in columns),
        "today": today,
        "page": page,
        "page_size": BOARD_COLUMN_SIZE,
        "query": query.urlencode(),
        "teams": Team.objects.order_by("name"),
        "figures": selectors.summarise(months),
        "charts": figure_charts(months, first=since.date()),
        "months": months,
        "since": since.date(),
        "refusals": form.refusals(),
    }
    # A refused filter is named on the page, which shows the others applied.
    status = 400 if form.errors else 200
    return render(request, "incidents/remediation_board.html", context, status=status)


class _Echo:
    def write(self, value: str) -> str:
        return value


# "from" names the alerts review for items without an incident.
CSV_HEADERS = [
    "id", "incident_id", "incident", "severity", "title", "kind", "category", "owner", "team",
    "priority", "status", "due_date", "overdue", "completed_at", "ticket_url", "ticket_key",
    "reminders_muted", "wont_do_reason", "from",
]  # fmt: skip


def _csv_row(item: RemediationItem, today: dt.date) -> list:
    incident = item.incident if item.incident_id else None
    return [
        item.pk, item.incident_id or "", incident.title if incident else "",
        incident.severity if incident else "", item.title, item.kind, item.category,
        item.owner.username, item.team.slug if item.team else "",
        item.priority, item.status, item.due_date.isoformat(), item.is_overdue(today),
        item.completed_at.isoformat() if item.completed_at else "", item.ticket_url,
        item.ticket_key, item.reminders_muted, item.wont_do_reason, item.origin_title,
    ]  # fmt: skip


@require_GET
def board_csv(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    form = BoardFilterForm(request.GET)
    today = timezone.localdate()
    filters = form.filters(request.user)
    if form.errors:
        # An export must hold what was asked for, not everything.
        refused = " ".join(form.refusals())
        return HttpResponse(f"The export was refused. {refused}\n", status=400, content_type="text/plain")
    items = selectors.filtered_items(filters, today=today).with_people()
    writer = SafeWriter(_Echo())

    def rows():
        yield writer.writerow(CSV_HEADERS)
        for item in items.iterator(chunk_size=2000):
            yield writer.writerow(_csv_row(item, today))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="remediations-{today.isoformat()}.csv"'
    return response


def _incident_page(
    request: SignedInRequest, incident: Incident, *, status: int = 200, **extra
) -> HttpResponse:
    panel = selectors.incident_panel(incident=incident, today=timezone.localdate())
    context = {"incident": incident, "remediation_panel": panel, **extra}
    if request.method == "POST":
        # A refused form is shown again at its own (POST) address; its forms must
        # still go back to the page they came from once they are saved.
        fallback = reverse("incidents:remediation-incident", args=[incident.pk])
        context["back_url"] = _next_url(request, fallback)
    return render(request, "incidents/remediation_incident.html", context, status=status)


def _add_errors(form, error: ValidationError) -> None:
    for name, errors in error.message_dict.items():
        # The status form calls the won't-do reason plain `reason`.
        field = "reason" if name == "wont_do_reason" and "reason" in form.fields else name
        form.add_error(field if field in form.fields else None, errors)


@require_GET
def incident_items(request: SignedInRequest, incident_id: int) -> HttpResponse:
    return _incident_page(request, get_object_or_404(Incident.objects.visible(), pk=incident_id))


def _save(request: SignedInRequest, form, fallback: str, write) -> HttpResponse | None:
    """Call `write(cleaned_data)` for a valid form and go back; None when the form shows errors."""
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect(_next_url(request, fallback))
    return None


def _back(item: RemediationItem) -> str:
    if item.incident_id:
        return reverse("incidents:remediation-incident", args=[item.incident_id])
    return item.get_absolute_url()


def _refused(request: SignedInRequest, item: RemediationItem, form, **extra) -> HttpResponse:
    """Show why a form was refused: on the incident's page, or as a message where the item came from."""
    if item.incident is not None:
        return _incident_page(request, item.incident, status=400, remediation_edit_item=item.pk, **extra)
    messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect(_next_url(request, _back(item)))


@require_http_methods(["GET", "POST"])
@requires("edit", Incident, "incident_id")
def add_item(request: SignedInRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.visible(), pk=incident_id)
    back = reverse("incidents:remediation-incident", args=[incident.pk])
    if request.method == "GET":
        # The address of a refused form, opened again from history or the address bar.
        return redirect(back)
    form = RemediationItemForm(request.POST)
    if form.is_valid():

        def write() -> str:
            services.create_item(incident=incident, created_by=request.user, **form.cleaned_data)
            return _next_url(request, back)

        try:
            return submit_once(request, write)
        except ValidationError as error:
            _add_errors(form, error)
    return _incident_page(request, incident, status=400, remediation_add_form=form)


def _item(item_id: int) -> RemediationItem:
    items = RemediationItem.objects.visible().select_related("incident")
    return get_object_or_404(items, pk=item_id)


@require_http_methods(["GET", "POST"])
@requires("edit", RemediationItem, "item_id")
def edit_item(request: SignedInRequest, item_id: int) -> HttpResponse:
    item = _item(item_id)
    if request.method == "GET":
        return redirect(_back(item))
    form = RemediationItemForm(request.POST)
    done = _save(request, form, _back(item), lambda data: services.update_item(item=item, changes=data))
    return done or _refused(request, item, form, remediation_edit_form=form)


@require_http_methods(["GET", "POST"])
@requires("edit", RemediationItem, "item_id")
def change_status(request: SignedInRequest, item_id: int) -> HttpResponse:
    item = _item(item_id)
    if request.method == "GET":
        return redirect(_back(item))
    form = RemediationStatusForm(request.POST)
    done = _save(
        request,
        form,
        _back(item),
        lambda data: services.change_status(item=item, status=data["status"], reason=data["reason"]),
    )
    return done or _refused(request, item, form, remediation_status_form=form)
