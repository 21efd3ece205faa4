"""The staff page that plans, applies and verifies an on-call import (alerts_review.views)."""

import io
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from oncall.models import Rotation

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
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Plan: nothing was written" in page
    assert "would create team US Primary" in page
    assert "Verified:" in page
    assert not Rotation.objects.exists()
    answer = client.post(URL, {"source": "pagerduty", "weeks": 8, "apply": "on", "archive": zipped(FIXTURES)})
    assert "Imported" in answer.content.decode()
    assert Rotation.objects.count() == 9


def test_a_file_that_is_not_a_zip_is_a_sentence_in_place(client, staff):
    client.force_login(staff)
    bad = SimpleUploadedFile("export.zip", b"not a zip")
    answer = client.post(URL, {"source": "pagerduty", "weeks": 8, "archive": bad})
    assert "The file is not a zip. Nothing was imported." in answer.content.decode()


def test_people_who_are_not_staff_cannot_import(client, person):
    client.force_login(person)
    assert client.get(URL).status_code == 403
