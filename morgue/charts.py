"""Server-rendered SVG charts: the one module every page draws with.

Charts are inline SVG styled by the page's CSS variables (`--chart-1` …,
`--fg`, `--line`), so they follow the light and dark themes; each has a
<title> and <desc> for screen readers, and its numbers as a table and CSV.
"""

import io
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from django.conf import settings
from django.utils import numberformat
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from .spreadsheets import SafeWriter

WIDTH = 720
HEIGHT = 260
MARGIN_LEFT = 60
MARGIN_RIGHT = 30
MARGIN_TOP = 16
MARGIN_BOTTOM = 48
PALETTE_SIZE = 5
_ids = itertools.count(1)


# One cell of a chart's table and CSV: a label, a number, or None for a gap.
Cell = str | float | None


@dataclass
class Series:
    name: str
    values: Sequence[float | None]
    # When `values` is a sample: how many values it was drawn from (see sample_note).
    total: int | None = None

    @property
    def count(self) -> int:
        """How many values the series stands for: its total when sampled, else its values."""
        if self.total is not None:
            return self.total
        return sum(1 for value in self.values if value is not None)


@dataclass
class Chart:
    title: str
    svg: SafeString
    headers: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    # Shown under the chart: for example that its points are a sample.
    note: str = ""

    @property
    def table(self) -> "Chart":
        # Templates read chart.table.headers / chart.table.rows.
        return self

    @property
    def body_html(self) -> SafeString:
        """The table's rows as <tr><td>… HTML, as the template loop wrote them, built without it.

        Charts of samples carry hundreds of rows; the template engine spent more
        on them than the rest of the page, and so did `localize` reading the
        number formats again for every cell: they are read once per table here.
        """
        text = _cell_text()
        return mark_safe(  # every cell is escaped (_cell_text)
            "".join("<tr>" + "".join(f"<td>{text(cell)}</td>" for cell in row) + "</tr>" for row in self.rows)
        )

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(self.headers)
        writer.writerows(self.rows)
        return buffer.getvalue()

    def __html__(self) -> str:
        return str(self.svg)

    def __str__(self) -> str:
        return str(self.svg)


def _cell_text() -> Callable[[Cell], str]:
    """`{{ cell|default_if_none:"—" }}` for a table cell, with the active number formats read once."""
    decimal_separator = get_format("DECIMAL_SEPARATOR")
    grouping = get_format("NUMBER_GROUPING")
    thousand_separator = get_format("THOUSAND_SEPARATOR")
    plain = not settings.USE_THOUSAND_SEPARATOR
    point = escape(decimal_separator)

    def text(cell: Cell) -> str:
        if cell is None:
            return "\u2014"
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            written = str(cell)
            if plain and "e" not in written and "n" not in written:
                # What number_format() gives for an ungrouped int or float, without its Decimal detour.
                return written.replace(".", point)
            return escape(numberformat.format(cell, decimal_separator, None, grouping, thousand_separator))
        if isinstance(cell, str):
            # conditional_escape, without its lazy-string wrapper: safe text stays, other text is escaped.
            return cell.__html__() if hasattr(cell, "__html__") else escape(cell)
        return str(conditional_escape(localize(cell)))

    return text


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `maximum`."""
    if maximum <= 0:
        return [0, 1]
    raw_step = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    ticks = [0.0]
    while ticks[-1] < maximum:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


NICE_DURATION_STEPS = [
    1,
    5,
    10,
    30,
    60,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    30 * 86400,
]


def nice_duration_ticks(maximum: float, count: int = 5) -> list[float]:
    """Ticks at round durations (5m, 30m, 1h, 6h, 1d …) from 0 to at least `maximum` seconds."""
    if maximum <= 0:
        return [0, 60]
    step = next((s for s in NICE_DURATION_STEPS if s * count >= maximum), None)
    if step is None:
        return nice_ticks(maximum, count)
    ticks = [0.0]
    while ticks[-1] < maximum:
        ticks.append(ticks[-1] + step)
    return ticks


def format_number(value: float) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_duration(seconds: float) -> str:
    """Compact duration for axis labels: 30s, 5m, 2h, 3d."""
    seconds = float(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.0f}{unit}" if value >= 10 or value.is_integer() else f"{value:.1f}{unit}"
    return f"{seconds:.0f}s"


@dataclass(frozen=True)
class DurationUnit:
    """The unit a chart's duration axis counts in."""

    name: str
    seconds: float

    def of(self, seconds: float | None) -> float | None:
        """Seconds in this unit, to two decimals (None stays a gap)."""
        return None if seconds is None else round(seconds / self.seconds, 2)


MINUTES = DurationUnit("minutes", 60)
HOURS = DurationUnit("hours", 3600)
# Below this every duration reads well in minutes; from it on, in hours.
MINUTES_BELOW = 2 * 3600


def duration_unit(values: Sequence[float | None]) -> DurationUnit:
    """Minutes when every duration (in seconds) is under two hours, hours otherwise."""
    longest = max((value for value in values if value is not None), default=0.0)
    return MINUTES if longest < MINUTES_BELOW else HOURS


def _in_unit(groups: Sequence[Series], unit: DurationUnit) -> list[Series]:
    return [Series(group.name, [unit.of(value) for value in group.values], group.total) for group in groups]


def _open(title: str, description: str, height: int = HEIGHT) -> tuple[list[str], str]:
    chart_id = f"chart-{next(_ids)}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    return parts, chart_id


def _colour(index: int) -> str:
    return f"var(--chart-{index % PALETTE_SIZE + 1})"


def _y_axis(
    parts: list[str],
    ticks: list[float],
    scale: Callable[[float], float],
    label: str,
    formatter: Callable[[float], str] = format_number,
) -> None:
    right = WIDTH - MARGIN_RIGHT
    parts.append('<g class="grid">')
    for tick in ticks:
        y = scale(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="var(--line)"/>'
        )
    parts.append('</g><g class="axis">')
    for tick in ticks:
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{scale(tick) + 4:.1f}" text-anchor="end">'
            f"{escape(formatter(tick))}</text>"
        )
    middle = MARGIN_TOP + (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) / 2
    parts.append(
        f'<text x="14" y="{middle:.1f}" text-anchor="middle" transform="rotate(-90 14 {middle:.1f})">'
        f"{escape(label)}</text></g>"
    )


def _x_label(parts: list[str], label: str, height: int = HEIGHT) -> None:
    if label:
        x = MARGIN_LEFT + (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / 2
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>')


def _legend(parts: list[str], series: Sequence[Series]) -> None:
    if len(series) < 2:
        return
    x = MARGIN_LEFT
    for index, item in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="2" width="10" height="10" fill="{_colour(index)}"/>'
            f'<text x="{x + 14}" y="11">{escape(item.name)}</text>'
        )
        x += 24 + 7 * len(item.name)


def _label_step(count: int, width: float) -> int:
    """Show every nth category label so labels do not overlap."""
    return max(1, math.ceil(count * 42 / width))


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    x_label: str = "",
    stacked: bool = False,
    faded: Sequence[int] = (),
    faded_note: str = "fewer than 10: read with care",
) -> Chart:
    """Vertical bars per category; several series side by side or stacked.

    Categories whose index is in `faded` are drawn faded (small samples).
    """
    faded_indexes = set(faded)
    totals = [
        sum((s.values[i] or 0) for s in series)
        if stacked
        else max([(s.values[i] or 0) for s in series] or [0])
        for i in range(len(categories))
    ]
    ticks = nice_ticks(max(totals or [0]))
    top = ticks[-1] or 1
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT

    def scale(value: float) -> float:
        return MARGIN_TOP + plot_height * (1 - value / top)

    description = f"Bar chart of {y_label} by {x_label or 'category'}"
    if faded:
        description += f"; faded bars have {faded_note}"
    band = plot_width / max(len(categories), 1)
    longest = max((len(category) for category in categories), default=0)
    # Long names (check names, people) are drawn slanted below the axis, with
    # the canvas grown to hold them, instead of overlapping.
    slanted = longest * 6.5 > band
    step = 1 if slanted else _label_step(len(categories), plot_width)
    extra = min(longest, 28) * 5 if slanted else 0
    parts, _ = _open(title, description + ".", HEIGHT + extra)
    _y_axis(parts, ticks, scale, y_label)
    inner = band * 0.8
    bar_width = inner if stacked else inner / max(len(series), 1)
    for index, category in enumerate(categories):
        x0 = MARGIN_LEFT + band * index + band * 0.1
        opacity = ' opacity="0.35"' if index in faded_indexes else ""
        base = 0.0
        for series_index, item in enumerate(series):
            value = item.values[index] or 0
            if stacked:
                y_top, y_bottom = scale(base + value), scale(base)
                x = x0
                base += value
            else:
                y_top, y_bottom = scale(value), scale(0)
                x = x0 + bar_width * series_index
            note = f" ({faded_note})" if index in faded_indexes else ""
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{max(bar_width - 1, 1):.1f}" '
                f'height="{max(y_bottom - y_top, 0):.1f}" fill="{_colour(series_index)}"{opacity}>'
                f"<title>{escape(category)} – {escape(item.name)}: {format_number(value)}{escape(note)}"
                "</title></rect>"
            )
        label_x, label_y = x0 + inner / 2, HEIGHT - MARGIN_BOTTOM + 14
        if slanted:
            shown = category if len(category) <= 28 else category[:27] + "…"
            parts.append(
                f'<text x="{label_x:.1f}" y="{label_y}" text-anchor="end" '
                f'transform="rotate(-40 {label_x:.1f} {label_y})"><title>{escape(category)}</title>'
                f"{escape(shown)}</text>"
            )
        elif index % step == 0:
            parts.append(
                f'<text x="{label_x:.1f}" y="{label_y}" text-anchor="middle">{escape(category)}</text>'
            )
    _legend(parts, series)
    _x_label(parts, x_label, HEIGHT + extra)
    parts.append("</svg>")
    headers = [x_label or "category", *[s.name for s in series]]
    rows = [[category, *[s.values[i] for s in series]] for i, category in enumerate(categories)]
    if faded:
        headers.append("note")
        for index, row in enumerate(rows):
            row.append(faded_note if index in faded_indexes else "")
    return Chart(title, mark_safe("".join(parts)), headers, rows)


def line_chart(
    title: str,
    x_values: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    x_label: str = "",
    y_formatter: Callable[[float], str] = format_number,
) -> Chart:
    """Lines over ordered categories (months, days); gaps where a value is None."""
    values = [v for s in series for v in s.values if v is not None]
    tick_maker = nice_duration_ticks if y_formatter is format_duration else nice_ticks
    ticks = tick_maker(max(values or [0]))
    top = ticks[-1] or 1
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT

    def scale(value: float) -> float:
        return MARGIN_TOP + plot_height * (1 - value / top)

    parts, _ = _open(title, f"Line chart of {y_label} by {x_label or 'period'}.")
    _y_axis(parts, ticks, scale, y_label, y_formatter)
    count = max(len(x_values), 1)
    step_x = plot_width / max(count - 1, 1)

    def x_of(index: int) -> float:
        return MARGIN_LEFT + (step_x * index if count > 1 else plot_width / 2)

    for series_index, item in enumerate(series):
        path: list[str] = []
        for index, value in enumerate(item.values):
            if value is None:
                path.append("")
                continue
            command = "L" if path and path[-1] else "M"
            path.append(f"{command}{x_of(index):.1f},{scale(value):.1f}")
            parts.append(
                f'<circle cx="{x_of(index):.1f}" cy="{scale(value):.1f}" r="2.5" '
                f'fill="{_colour(series_index)}"><title>{escape(x_values[index])} – {escape(item.name)}: '
                f"{escape(y_formatter(value))}</title>"
                "</circle>"
            )
        parts.append(
            f'<path d="{" ".join(p for p in path if p)}" fill="none" stroke="{_colour(series_index)}" '
            'stroke-width="2"/>'
        )
    label_step = _label_step(count, plot_width)
    for index, label in enumerate(x_values):
        if index % label_step == 0:
            parts.append(
                f'<text x="{x_of(index):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    _legend(parts, series)
    _x_label(parts, x_label)
    parts.append("</svg>")
    headers = [x_label or "period", *[s.name for s in series]]
    rows = [[label, *[s.values[i] for s in series]] for i, label in enumerate(x_values)]
    return Chart(title, mark_safe("".join(parts)), headers, rows)


def duration_line_chart(
    title: str, x_values: Sequence[str], series: Sequence[Series], what: str, x_label: str = ""
) -> Chart:
    """A line chart of durations given in seconds, drawn and tabled in minutes or hours (duration_unit)."""
    unit = duration_unit([value for item in series for value in item.values])
    return line_chart(title, x_values, _in_unit(series, unit), f"{what} ({unit.name})", x_label)


def heatmap(
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[float]],
    value_label: str,
) -> Chart:
    """A grid (for example day of week × hour) shaded by value."""
    cell_width = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(column_labels), 1)
    cell_height = 22
    height = MARGIN_TOP + cell_height * len(row_labels) + 40
    highest = max((v for row in values for v in row), default=0) or 1
    parts, _ = _open(title, f"Heat map of {value_label}; darker cells have more.", height)
    for row_index, row_label in enumerate(row_labels):
        y = MARGIN_TOP + row_index * cell_height
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{y + 15}" text-anchor="end">{escape(row_label)}</text>')
        for column_index, column_label in enumerate(column_labels):
            value = values[row_index][column_index]
            x = MARGIN_LEFT + column_index * cell_width
            opacity = 0.06 + 0.94 * (value / highest) if value else 0.03
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell_width - 1:.1f}" height="{cell_height - 1}" '
                f'fill="var(--chart-2)" fill-opacity="{opacity:.2f}">'
                f"<title>{escape(row_label)} {escape(column_label)}: {format_number(value)} "
                f"{escape(value_label)}</title></rect>"
            )
    label_step = _label_step(len(column_labels), WIDTH - MARGIN_LEFT - MARGIN_RIGHT)
    for column_index, column_label in enumerate(column_labels):
        if column_index % label_step == 0:
            x = MARGIN_LEFT + column_index * cell_width + cell_width / 2
            y = MARGIN_TOP + cell_height * len(row_labels) + 14
            parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{escape(column_label)}</text>')
    parts.append("</svg>")
    headers = ["", *column_labels]
    rows: list[list[Cell]] = [[label, *values[index]] for index, label in enumerate(row_labels)]
    return Chart(title, mark_safe("".join(parts)), headers, rows)


def sample_note(groups: Sequence[Series], what: str = "incidents") -> str:
    """What a chart of sampled series says under it; "" when every value is drawn."""
    sampled = [g for g in groups if g.total is not None and g.total > len(g.values)]
    if not sampled:
        return ""
    parts = ", ".join(f"{len(g.values):,} of {g.total:,} for {g.name}" for g in sampled)
    return (
        f"Drawn from a sample of {what} evenly spaced by rank ({parts}); "
        "the figures above and the CSV export have every one."
    )


def _log_scale(low: float, high: float, start: float, end: float) -> Callable[[float], float]:
    low_log, high_log = math.log10(low), math.log10(high)
    span = (high_log - low_log) or 1

    def scale(value: float) -> float:
        return start + (end - start) * (math.log10(max(value, low)) - low_log) / span

    return scale


def _log_range(values: Sequence[float]) -> tuple[float, float]:
    """Whole decades around the positive values (in a chart's unit)."""
    positive = [v for v in values if v and v > 0]
    if not positive:
        return 1, 100
    low = 10 ** math.floor(math.log10(min(positive)))
    high = 10 ** math.ceil(math.log10(max(positive)))
    return low, max(high, low * 10)


def _log_ticks(low: float, high: float) -> list[float]:
    """1, 10, 100 … between low and high; with 2 and 5 too when the axis spans two decades or less."""
    decades = round(math.log10(high / low))
    multiples = (1, 2, 5) if decades <= 2 else (1,)
    start = round(math.log10(low))
    ticks = []
    for power in range(start, start + decades + 1):
        for multiple in multiples:
            tick = round(multiple * 10.0**power, 10)
            if low <= tick <= high:
                ticks.append(tick)
    return ticks


def _axis_label(x_label: str, unit: DurationUnit, log: bool) -> str:
    return f"{x_label} ({unit.name}{', log scale' if log else ''})"


def strip_plot(title: str, groups: Sequence[Series], x_label: str, log: bool = True) -> Chart:
    """One row of dots per group along a (log) duration axis, medians marked.

    Durations come in seconds and are drawn in minutes or hours (duration_unit).
    """
    from .stats import median

    unit = duration_unit([v for g in groups for v in g.values])
    groups = _in_unit(groups, unit)
    all_values = [v for g in groups for v in g.values if v is not None]
    low, high = _log_range(all_values)
    row_height = 36
    height = MARGIN_TOP + row_height * max(len(groups), 1) + 40
    left, right = MARGIN_LEFT + 60, WIDTH - MARGIN_RIGHT
    if log:
        scale = _log_scale(low, high, left, right)
    else:

        def scale(value: float) -> float:
            return left + (right - left) * value / (high or 1)

    axis_label = _axis_label(x_label, unit, log)
    parts, _ = _open(title, f"Strip plot of {axis_label}; bars mark medians.", height)
    axis_y = MARGIN_TOP + row_height * len(groups)
    for tick in _log_ticks(low, high):
        x = scale(tick)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN_TOP}" y2="{axis_y}" stroke="var(--line)"/>'
            f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">{format_number(tick)}</text>'
        )
    jitter = itertools.cycle([-9, -5, -1, 3, 7, 11, -7, -3, 1, 5, 9])
    for index, group in enumerate(groups):
        centre = MARGIN_TOP + row_height * index + row_height / 2
        values = [v for v in group.values if v is not None]
        parts.append(
            f'<text x="{MARGIN_LEFT + 54}" y="{centre + 4:.1f}" text-anchor="end">'
            f"{escape(group.name)} (n={group.count:,})</text>"
        )
        for value in values:
            parts.append(
                f'<circle cx="{scale(max(value, low)):.1f}" cy="{centre + next(jitter) * 0.8:.1f}" r="2.5" '
                f'fill="{_colour(index)}" fill-opacity="0.6">'
                f"<title>{format_duration(value * unit.seconds)}</title></circle>"
            )
        middle = median(values)
        if middle is not None:
            x = scale(max(middle, low))
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{centre - 14:.1f}" y2="{centre + 14:.1f}" '
                f'stroke="var(--fg)" stroke-width="2">'
                f"<title>median {format_duration(middle * unit.seconds)}</title></line>"
            )
    _x_label(parts, axis_label, height)
    parts.append("</svg>")
    headers = ["group", unit.name]
    rows: list[list[Cell]] = [
        [group.name, value] for group in groups for value in group.values if value is not None
    ]
    return Chart(title, mark_safe("".join(parts)), headers, rows, note=sample_note(groups))


def ecdf(title: str, groups: Sequence[Series], x_label: str, log: bool = True) -> Chart:
    """Empirical cumulative distribution per group: share of values at or below each duration.

    Durations come in seconds and are drawn in minutes or hours (duration_unit).
    """
    from .stats import ecdf as ecdf_points

    unit = duration_unit([v for g in groups for v in g.values])
    groups = _in_unit(groups, unit)
    all_values = [v for g in groups for v in g.values if v is not None]
    low, high = _log_range(all_values)
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    scale_x = _log_scale(low, high, left, right) if log else (lambda v: left + (right - left) * v / high)

    def scale_y(share: float) -> float:
        return bottom - (bottom - top) * share

    axis_label = _axis_label(x_label, unit, log)
    parts, _ = _open(title, f"Cumulative share of incidents by {axis_label}.")
    _y_axis(parts, [0, 0.25, 0.5, 0.75, 1.0], scale_y, "share ≤ x", lambda v: f"{v:.0%}")
    for tick in _log_ticks(low, high):
        parts.append(
            f'<text x="{scale_x(tick):.1f}" y="{bottom + 14}" text-anchor="middle">'
            f"{format_number(tick)}</text>"
        )
    rows: list[list[Cell]] = []
    for index, group in enumerate(groups):
        points = ecdf_points(group.values)
        path = [f"M{scale_x(max(points[0][0], low)):.1f},{scale_y(0):.1f}"] if points else []
        previous = 0.0
        for value, share in points:
            x = scale_x(max(value, low))
            path.append(f"L{x:.1f},{scale_y(previous):.1f} L{x:.1f},{scale_y(share):.1f}")
            previous = share
            rows.append([group.name, value, round(share, 4)])
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{_colour(index)}" stroke-width="2">'
            f"<title>{escape(group.name)} (n={group.count:,})</title></path>"
        )
    _legend(parts, groups)
    _x_label(parts, axis_label)
    parts.append("</svg>")
    headers = ["group", unit.name, "share at or below"]
    return Chart(title, mark_safe("".join(parts)), headers, rows, note=sample_note(groups))
