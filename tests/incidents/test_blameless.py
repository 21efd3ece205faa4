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


def test_among_a_whole_organisations_names_the_longest_one_present_is_named_in_any_case():
    names = [f"person{index}" for index in range(1500)] + ["Dana", "Dana Scully", "Ed"]
    text = "dana scully accidentally deleted the table, then PERSON1499 dropped it."

    findings = check(text, names=names)

    assert [f.matched for f in findings] == ["dana scully accidentally deleted", "PERSON1499 dropped"]
    assert "PERSON1499" in findings[1].reason


def test_checking_hundreds_of_texts_against_a_whole_organisations_names_is_quick():
    import time

    names = [f"Firstname{index} Lastname{index}" for index in range(1500)]
    texts = [
        f"Item {index}: the deploy broke the cache; Firstname{index} restarted it." for index in range(300)
    ]

    started = time.perf_counter()
    found = [check(text, names=names) for text in texts]

    assert time.perf_counter() - started < 1.5  # compiling every name for every text took ~10 s
    assert found == [[]] * 300


def test_a_teams_phrase_is_found_in_any_case_and_any_apostrophe():
    phrases = [
        Phrase("Erreur de Léa", "Names a person.", "Describe the system."),
        Phrase("o'clock blunder", "Blames the hour.", "Describe the schedule."),
    ]

    found = check("ERREUR DE LÉA, then an o’clock   blunder", phrases=phrases)

    assert [f.matched for f in found] == ["ERREUR DE LÉA", "o’clock   blunder"]


def test_a_phrase_with_a_turkish_i_is_found_in_either_case():
    phrases = [
        Phrase("hatalı yapılandırma", "Blames a setting.", "Describe the system."),
        Phrase("dikkatsiz", "Blames a person.", "Describe the system."),
        Phrase("İhmal", "Blames a person.", "Describe the system."),
    ]

    found = check("HATALI YAPILANDIRMA; operatör DİKKATSİZ; ihmal", phrases=phrases)

    assert [f.phrase for f in found] == ["hatalı yapılandırma", "dikkatsiz", "İhmal"]
    assert [f.phrase for f in check("A MİSTAKE BY ops")] == ["mistake by"]
