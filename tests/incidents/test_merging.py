"""The three-way merge of a stale edit, field by field (incidents.merging: no database)."""

from incidents.merging import Choice, keep_both, merge, resolve

BASE = {"tldr": "Checkout failed.", "why_surprised": "", "title": "Checkout 500s"}


def test_a_field_only_they_changed_keeps_their_value():
    theirs = {**BASE, "why_surprised": "We had no alert on queue depth."}
    mine = {"tldr": "Checkout failed.", "why_surprised": ""}  # the stale form resends the base

    result = merge(base=BASE, theirs=theirs, mine=mine)

    assert result.values["why_surprised"] == "We had no alert on queue depth."
    assert result.theirs == ("why_surprised",)
    assert result.mine == () and result.conflicts == ()


def test_a_field_only_i_changed_takes_my_value():
    mine = {"tldr": "Checkout failed for 40 minutes.", "why_surprised": ""}

    result = merge(base=BASE, theirs=BASE, mine=mine)

    assert result.values["tldr"] == "Checkout failed for 40 minutes."
    assert result.mine == ("tldr",)
    assert result.theirs == () and result.conflicts == ()


def test_both_changing_a_field_to_the_same_value_is_no_conflict():
    theirs = {**BASE, "title": "Checkout returns 500s"}

    result = merge(base=BASE, theirs=theirs, mine={"title": "Checkout returns 500s"})

    assert result.values == {"title": "Checkout returns 500s"}
    assert result.mine == result.theirs == result.conflicts == ()


def test_both_changing_a_field_differently_is_a_conflict_keeping_their_value_meanwhile():
    theirs = {**BASE, "tldr": "Theirs."}

    result = merge(base=BASE, theirs=theirs, mine={"tldr": "Mine.", "title": "Checkout down"})

    assert result.conflicts == ("tldr",)
    assert result.values["tldr"] == "Theirs."
    assert result.mine == ("title",)


def test_a_section_the_other_side_emptied_stays_empty_when_i_did_not_touch_it():
    theirs = {**BASE, "tldr": ""}

    result = merge(base=BASE, theirs=theirs, mine={"tldr": "Checkout failed."})

    assert result.values["tldr"] == "" and result.theirs == ("tldr",)


def test_a_section_i_emptied_is_emptied_when_they_did_not_touch_it():
    result = merge(base=BASE, theirs=BASE, mine={"tldr": ""})

    assert result.values["tldr"] == "" and result.mine == ("tldr",)


def test_emptying_a_section_the_other_side_rewrote_is_a_conflict():
    theirs = {**BASE, "tldr": "Checkout failed for 40 minutes."}

    result = merge(base=BASE, theirs=theirs, mine={"tldr": ""})

    assert result.conflicts == ("tldr",)
    assert result.values["tldr"] == "Checkout failed for 40 minutes."


def test_without_the_base_every_difference_is_a_conflict():
    theirs = {**BASE, "tldr": "Theirs."}

    result = merge(base={}, theirs=theirs, mine={"tldr": "Mine.", "title": "Checkout 500s"})

    assert result.conflicts == ("tldr",)
    assert result.values["title"] == "Checkout 500s" and result.mine == ()


def test_keeping_both_puts_their_text_first_then_mine_after_a_blank_line():
    assert keep_both(theirs="Their words.\n", mine="My words.") == "Their words.\n\nMy words."
    assert keep_both(theirs="", mine="My words.") == "My words."
    assert keep_both(theirs="Their words.", mine="  \n") == "Their words."
    assert keep_both(theirs="Same.", mine="Same.") == "Same."


def test_keeping_both_does_not_repeat_text_one_side_already_holds():
    # Merged by hand in the editor before choosing "keep both".
    merged = "Their words. And mine."
    assert keep_both(theirs="Their words.", mine=merged) == merged
    assert keep_both(theirs="Their words.\r\nMore.", mine="Their words.\nMore.\n\nMine.") == (
        "Their words.\nMore.\n\nMine."
    )
    assert keep_both(theirs="Their words, and mine.", mine="and mine") == "Their words, and mine."


def test_settling_a_conflict_never_empties_a_section_either_side_wrote():
    assert resolve(Choice.THEIRS, theirs="Theirs.", mine="Mine.") == "Theirs."
    assert resolve(Choice.MINE, theirs="Theirs.", mine="Mine.") == "Mine."
    assert resolve(Choice.BOTH, theirs="Theirs.", mine="Mine.") == "Theirs.\n\nMine."
    assert resolve(Choice.MINE, theirs="Theirs.", mine="") == "Theirs."
    assert resolve(Choice.THEIRS, theirs="", mine="Mine.") == "Mine."
    assert resolve(Choice.BOTH, theirs="", mine="") == ""


def test_line_endings_a_browser_changed_are_not_a_change():
    base = {"what_happened": "Line one\nLine two"}
    theirs = {"what_happened": "Line one\nLine two, corrected"}

    result = merge(base=base, theirs=theirs, mine={"what_happened": "Line one\r\nLine two"})

    assert result.conflicts == () and result.theirs == ("what_happened",)
    assert result.values["what_happened"] == "Line one\nLine two, corrected"
