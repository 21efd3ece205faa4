"""CSV exports never hand a spreadsheet a formula (CSV injection): morgue.spreadsheets."""

import csv
import io

import pytest

from morgue.charts import Chart
from morgue.spreadsheets import SafeWriter, safe_cell


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_that_a_spreadsheet_would_run_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["disk full", "", "a=b", 42, -7, 3.5, None, True])
def test_other_values_are_written_as_they_are(value):
    assert safe_cell(value) == value


def test_the_writer_quotes_every_cell_of_every_row():
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(["check", "count"])
    writer.writerows([["=cmd|' /C calc'!A0", -3], ["Disk", 4]])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["check", "count"], ["'=cmd|' /C calc'!A0", "-3"], ["Disk", "4"]]


def test_chart_data_downloads_are_neutralised():
    chart = Chart(title="Alerts", svg="", headers=["check", "alerts"], rows=[["@evil", 3]])
    assert chart.csv().splitlines()[1] == "'@evil,3"
