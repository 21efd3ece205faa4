import xml.etree.ElementTree as ElementTree

import pytest

from morgue import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(chart):
    return ElementTree.fromstring(str(chart.svg))


def test_bar_chart_is_valid_accessible_svg_with_its_numbers_as_a_table():
    chart = charts.bar_chart(
        "Incidents per month",
        ["2026-01", "2026-02"],
        [charts.Series("sev 1", [2, 0]), charts.Series("sev 2", [5, 3])],
        y_label="incidents",
        x_label="month",
        stacked=True,
        faded=[1],
    )

    root = _parse(chart)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Incidents per month"
    assert len(root.findall(f"{SVG}rect")) == 4 + 2  # bars plus legend swatches
    assert chart.table.headers == ["month", "sev 1", "sev 2", "note"]
    assert chart.table.rows[1] == ["2026-02", 0, 3, "fewer than 10: read with care"]
    assert chart.csv().splitlines()[0] == "month,sev 1,sev 2,note"


def test_text_is_escaped():
    chart = charts.bar_chart("<script>", ["<b>"], [charts.Series("x&y", [1])], y_label="n")

    assert "<script>" not in str(chart.svg)
    _parse(chart)


def test_line_heatmap_strip_and_ecdf_render():
    line = charts.line_chart("Median", ["a", "b", "c"], [charts.Series("ttd", [60, None, 120])], "seconds")
    heat = charts.heatmap(
        "Pages", ["Mon", "Tue"], [f"{h:02d}" for h in range(24)], [[1] * 24, [0] * 24], "pages"
    )
    strip = charts.strip_plot(
        "Durations", [charts.Series("ttd", [5, 60, 3600]), charts.Series("ttr", [])], "time"
    )
    cumulative = charts.ecdf("ECDF", [charts.Series("ttr", [30, 300, 3000])], "time to resolve")

    for chart in (line, heat, strip, cumulative):
        _parse(chart)
    assert "median" in str(strip.svg)
    assert cumulative.table.rows[-1] == ["ttr", 50.0, 1.0], "50 minutes"


def test_nice_ticks_cover_the_maximum():
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(0) == [0, 1]


def test_duration_axes_use_round_durations():
    assert charts.nice_duration_ticks(7000) == [0, 1800, 3600, 5400, 7200]
    assert [charts.format_duration(t) for t in charts.nice_duration_ticks(250)] == [
        "0s",
        "1m",
        "2m",
        "3m",
        "4m",
        "5m",
    ]


def test_long_category_names_are_slanted_and_keep_their_full_name():
    names = [f"VeryLongCheckName{index}WithMoreWords" for index in range(12)]
    chart = charts.bar_chart("Checks", names, [charts.Series("alerts", list(range(12)))], y_label="alerts")

    svg = str(chart.svg)
    assert svg.count("rotate(-40") == 12
    assert "<title>VeryLongCheckName0WithMoreWords</title>" in svg
    _parse(chart)


def test_durations_under_two_hours_are_drawn_in_minutes_and_longer_ones_in_hours():
    assert charts.duration_unit([30, 5400, None, 7199]) == charts.MINUTES
    assert charts.duration_unit([30, 7200]) == charts.HOURS
    assert charts.duration_unit([]) == charts.MINUTES


def test_a_duration_line_chart_labels_its_axis_with_the_unit_and_tables_in_it():
    short = charts.duration_line_chart(
        "Medians", ["2026-01", "2026-02"], [charts.Series("ttd", [600, 1800])], what="median"
    )
    long = charts.duration_line_chart(
        "Medians", ["2026-01", "2026-02"], [charts.Series("ttr", [5400, 36000])], what="median"
    )

    assert "median (minutes)" in str(short.svg) and "seconds" not in str(short.svg)
    assert [text for text in _axis_texts(short) if text.isdigit()] == ["0", "10", "20", "30"]
    assert short.table.rows == [["2026-01", 10.0], ["2026-02", 30.0]]
    assert "median (hours)" in str(long.svg)
    assert long.table.rows == [["2026-01", 1.5], ["2026-02", 10.0]]


def test_log_duration_axes_count_in_the_unit_they_name():
    strip = charts.strip_plot("Durations", [charts.Series("ttr", [3600, 7200, 36000])], "duration")
    cumulative = charts.ecdf("ECDF", [charts.Series("ttd", [60, 600, 1200])], "duration")

    assert "duration (hours, log scale)" in str(strip.svg)
    assert strip.table.headers == ["group", "hours"]
    assert {"1", "2", "5", "10"} <= set(_axis_texts(strip))
    assert "duration (minutes, log scale)" in str(cumulative.svg)
    assert {"1", "2", "5", "10", "20", "50", "100"} <= set(_axis_texts(cumulative))


def _axis_texts(chart) -> list[str]:
    return [element.text for element in _parse(chart).iter(f"{SVG}text")]


@pytest.mark.parametrize("thousands", [False, True], ids=["plain", "thousand separators"])
def test_the_table_body_is_what_the_template_loop_wrote(settings, thousands):
    from django.template import Context, Template

    settings.USE_THOUSAND_SEPARATOR = thousands

    chart = charts.Chart(
        "t",
        charts.mark_safe("<svg></svg>"),
        ["a", "b", "c"],
        [
            ["<b>x</b> & y", 1.5, None],
            ["plain", 12345678.25, 3],
            ["", 0.0, -2],
            ["1e-07", 1e-07, 2.5e16],
            ["big", -1234567, 0.1 + 0.2],
            [charts.mark_safe("<i>kept</i>"), float("inf"), 'O\'Brien "quoted"'],
        ],
    )
    loop = Template(
        '{% for row in chart.table.rows %}<tr>{% for cell in row %}<td>{{ cell|default_if_none:"—" }}</td>'
        "{% endfor %}</tr>{% endfor %}"
    )

    assert str(chart.body_html) == loop.render(Context({"chart": chart}))
    assert "&lt;b&gt;" in chart.body_html
