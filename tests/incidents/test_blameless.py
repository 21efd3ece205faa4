from incidents.blameless import Phrase, check


def test_each_default_phrase_is_found_with_a_reason_and_reframing():
    text = "It was human error: Dana should have checked, and failed to roll back. Obviously careless."

    found = [finding.phrase for finding in check(text)]

    assert found == ["human error", "should have", "failed to", "obviously", "careless"]
    assert all(finding.reason and finding.suggestion for finding in check(text))


def test_matches_whole_words_only_and_any_case():
    assert check("The shoulder haveli was fine") == []
    assert [f.matched for f in check("He FORGOT   TO restart")] == ["FORGOT   TO"]


def test_curly_apostrophes_are_matched():
    assert [f.phrase for f in check("They didn’t follow the runbook")] == ["didn't follow"]


def test_a_person_named_as_the_cause_is_flagged():
    findings = check("Dana broke the deploy. The deploy broke Dana's tooling.", names=["Dana", "d"])

    assert [(f.phrase, f.matched) for f in findings] == [("person as the cause", "Dana broke")]
    assert "Dana" in findings[0].reason


def test_positions_and_lines_point_at_the_phrase():
    text = "Line one.\nWe should have paged."

    (finding,) = check(text)

    assert text[finding.start : finding.end] == "should have"
    assert finding.line == 2


def test_a_team_can_extend_the_list():
    extra = Phrase("root cause was Bob", "Names a person.", "Describe the system.")

    assert [f.phrase for f in check("the root cause was Bob", phrases=[extra])] == ["root cause was Bob"]
