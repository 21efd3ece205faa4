import pytest
from playwright.sync_api import expect

from tests.factories import IncidentFactory, ProfileFactory, UserFactory, responder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _add(page, kind: str, title: str, owner: str) -> None:
    column = page.locator(f".remediation-column[data-kind={kind}]")
    column.locator("summary", has_text="New").click()
    form = column.locator(f"form[data-kind={kind}]")
    form.locator("input[name=title]").fill(title)
    form.locator("input[name=owner]").fill(owner)
    form.locator("button[type=submit]").click()


def test_add_dev_and_ops_items_mark_one_done_and_see_the_board_update(page, live_server, login):
    responder(ProfileFactory(user=UserFactory(username="robin"), display_name="Robin Park").user)
    incident = IncidentFactory(title="Checkout outage")
    login("robin")

    # Written while writing the postmortem: on the incident page itself.
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    _add(page, "dev", "Feature-flag the new checkout path", "robin")
    _add(page, "ops", "Alert on payment error rate", "robin")
    expect(page.locator(".remediation-column[data-kind=dev] .remediation-item")).to_have_count(1)
    expect(page.locator(".remediation-column[data-kind=ops] .remediation-item")).to_have_count(1)

    page.goto(f"{live_server.url}/remediations/")
    open_column = page.locator(".board-column[data-status=open]")
    done_column = page.locator(".board-column[data-status=done]")
    expect(open_column.locator(".count")).to_have_text("2")
    expect(done_column.locator(".count")).to_have_text("0")

    open_column.locator(".board-item", has_text="Alert on payment error rate").get_by_role(
        "button", name="Mark done"
    ).click()

    expect(open_column.locator(".count")).to_have_text("1")
    expect(done_column.locator(".count")).to_have_text("1")
    expect(done_column).to_contain_text("Alert on payment error rate")
    expect(page).to_have_url(f"{live_server.url}/remediations/")

    # The incident page names the item that still keeps the incident from closing.
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.locator(".remediation-column[data-kind=ops]")).to_contain_text("Done")
    expect(page.locator(".remediation-blocking")).to_contain_text("Feature-flag the new checkout path")
