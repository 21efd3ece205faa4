"""The staff page that plans, applies and verifies an on-call import (alerts_review.views)."""

import io
import shutil
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from oncall.models import Rotation

from .support import edit
from .timelines import NOW

FIXTURES = Path(__file__).parent / "fixtures" / "pagerduty"
URL = reverse("alerts_review:import-oncall")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def zipped(folder: Path) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for file in folder.rglob("*.json"):
            bundle.write(file, Path("export") / file.relative_to(folder))
    return SimpleUploadedFile("export.zip", buffer.getvalue(), content_type="application/zip")


def test_staff_see_the_plan_and_its_verification_then_import(client, staff):
    client.force_login(staff)
    answer = client.post(URL, {"source": "pagerduty", "weeks": 8, "archive": zipped(FIXTURES)})
    # Post/Redirect/Get: the result has its own address, so reloading it runs nothing again.
    assert answer.status_code == 302
    result_url = answer["Location"]
    assert result_url.startswith(URL) and result_url != URL
    page = client.get(result_url).content.decode()
    assert "Plan: nothing was written" in page
    assert "would create team US Primary" in page
    assert "Verified:</strong> no difference from PagerDuty" in page
    assert not Rotation.objects.exists()
    assert "would create team US Primary" in client.get(result_url).content.decode()  # a reload only shows it
    assert not Rotation.objects.exists()

    answer = client.post(URL, {"source": "pagerduty", "weeks": 8, "apply": "on", "archive": zipped(FIXTURES)})
    page = client.get(answer["Location"]).content.decode()
    assert "Imported from PagerDuty" in page
    assert "this migration is verified" in page
    assert Rotation.objects.count() == 9


def test_a_file_that_is_not_a_zip_is_a_sentence_in_place(client, staff):
    client.force_login(staff)
    bad = SimpleUploadedFile("export.zip", b"not a zip")
    answer = client.post(URL, {"source": "pagerduty", "weeks": 8, "archive": bad})
    assert answer.status_code == 400
    assert "The file is not a zip. Nothing was imported." in answer.content.decode()


def test_blocking_records_are_shown_on_the_result_page_and_nothing_is_imported(client, staff, tmp_path):
    copy = tmp_path / "pagerduty"
    shutil.copytree(FIXTURES, copy)
    edit(
        copy / "schedules" / "PSCHLH3.json",
        lambda data: data["schedule"]["schedule_layers"][0].update(rotation_turn_length_seconds=5400),
    )
    client.force_login(staff)
    answer = client.post(URL, {"source": "pagerduty", "weeks": 8, "apply": "on", "archive": zipped(copy)})
    page = client.get(answer["Location"]).content.decode()
    assert "1 records cannot be expressed in Morgue" in page
    assert (
        "a turn of 5400 seconds is not a whole number of hours <strong>(blocks the import)</strong>" in page
    )
    assert not Rotation.objects.exists()


def test_a_result_that_is_not_kept_is_not_found(client, staff):
    client.force_login(staff)
    assert client.get(reverse("alerts_review:import-oncall-result", args=["0123abcd"])).status_code == 404


def test_people_who_are_not_staff_cannot_import(client, person):
    client.force_login(person)
    assert client.get(URL).status_code == 403
    assert client.get(reverse("alerts_review:import-oncall-result", args=["0123abcd"])).status_code == 403
