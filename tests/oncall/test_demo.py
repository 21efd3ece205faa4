from oncall.models import Override, Page, PageStatus, Rotation, Shift


def test_demo_has_four_rotations_a_year_of_history_overrides_and_pages_in_each_state(demo):
    assert set(Rotation.objects.values_list("slug", flat=True)) == {
        "ops-weekly",
        "dev",
        "payments",
        "support",
    }
    dev = Rotation.objects.get(slug="dev")
    assert dev.everyone_else and dev.shift_length_days == 3 and dev.has_l2
    assert dev.members.count() >= 10
    assert Override.objects.count() >= 3
    assert set(Page.objects.values_list("status", flat=True)) == set(PageStatus.values)
    oldest = Shift.objects.order_by("starts_at").first().starts_at
    newest = Shift.objects.order_by("-ends_at").first().ends_at
    assert (newest - oldest).days >= 365 + 180
