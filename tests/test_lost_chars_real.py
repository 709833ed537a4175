"""Lost characters restored from the evidence a text carries, in shapes seen on real
scrapes whose non-ASCII characters were turned into ``?`` (fixtures written here)."""
from __future__ import annotations

import pytest

from newsclean.clean.lost_chars import restore_lost_characters

NBSP = "\u00a0"


def test_quotes_inside_a_quote_are_single():
    text = (
        "It?s what she told reporters: ?He came in and said, ?Is anyone here?? Nobody answered, "
        "and then a man said, ?Yes, two of us,? and he left. We were lucky.?"
    )
    out = restore_lost_characters(text)
    assert "“He came in and said, ‘Is anyone here?’ Nobody" in out
    assert "said, ‘Yes, two of us,’ and he left. We were lucky.”" in out


def test_a_quote_followed_by_who_said_it_is_not_nested():
    # the first quote is never closed (a typo of the page); the next ones are quotes of their own
    text = (
        "It?s a song called ?Home (?No Place Like This?). ?It got me the moment I heard it,? he said. "
        "?It just worked.? She had a similar view: ?It was that feeling of ?this is the one.??"
    )
    out = restore_lost_characters(text)
    assert "“It got me the moment I heard it,” he said." in out


def test_a_long_quote_closes_where_the_sentence_goes_on_in_lowercase():
    text = "It?s in the ?Ten Point Plan To Reform The Veterans Agency? in July, he said. Is it late? Yes."
    out = restore_lost_characters(text)
    assert "“Ten Point Plan To Reform The Veterans Agency” in July" in out
    assert "Is it late? Yes." in out


def test_a_question_in_a_long_quote_is_kept_before_a_capital():
    text = "It?s as he put it: ?They will bomb and destroy the whole state of the country? There will be more."
    assert "country? There" in restore_lost_characters(text)


def test_plural_possessive_inside_an_open_quote():
    text = "It?s in the plan: ?The agency wants to keep the veterans? health money,? the plan says."
    assert "the veterans’ health money,” the plan says" in restore_lost_characters(text)


def test_a_word_and_a_number_are_joined_as_the_text_joins_words():
    # non-breaking spaces after "the" and "a": the text's joins are spaces, so is "from?2010"
    text = "It?s up. Enrollment rose from?2010 to 2013, a?long climb to the?top, with 25?new schools."
    out = restore_lost_characters(text)
    assert f"from{NBSP}2010" in out and f"25{NBSP}new" in out


def test_runs_of_holes_shaped_like_spaced_dashes_and_list_markers():
    text = (
        "It?s late. The rules???and the platform???are set. Rates may rise ??and perhaps soon.\n\n"
        "??Smith said the plan was late.\n\n??Jones said it was not.\n\n"
        "He became, as he put it, ??a fixer? for the stars."
    )
    out = restore_lost_characters(text)
    assert f"rules{NBSP}–{NBSP}and the platform{NBSP}–{NBSP}are set" in out
    assert f"rise –{NBSP}and perhaps" in out
    assert f"?{NBSP}Smith said" in out and f"?{NBSP}Jones said" in out  # which bullet: unknown
    assert "put it, “‘a fixer’ for" in out  # after a comma: no dash


def test_holes_next_to_straight_quotes_are_spaces():
    text = (
        'It?s a text typed with straight quotes. He said it in a report.?"This is over," he added. '
        '"He was shot when he did not comply,"?New York police said.'
    )
    out = restore_lost_characters(text)
    assert f'report.{NBSP}"This' in out and f'comply,"{NBSP}New York' in out


def test_a_closing_and_an_opening_quote_never_touch():
    text = "It?s her district, the North Shore.??She knows what it?s like,? she said."
    assert f"Shore.{NBSP}“She knows" in restore_lost_characters(text)


def test_handles_parentheses_and_colons_joined_as_the_text_joins_words():
    text = (
        "It?s in the?report. Follow us on Twitter?@SomeDesk for more. Small producers?(farmers, "
        "artisans) and the?rest. Note:? This is an opinion."
    )
    out = restore_lost_characters(text)
    assert f"Twitter{NBSP}@SomeDesk" in out and f"producers{NBSP}(farmers" in out
    assert f"Note:{NBSP} This" in out


def test_a_spaced_hole_before_lowercase_is_a_lost_dash_even_in_typed_text():
    # apostrophes typed in ASCII, two dashes lost: the one before "insist" shows the loss,
    # and the one before "Russia" is then a dash too, not a question
    text = "It's agreed. The nations at the talks ? Russia, China and France ? insist on a vote."
    out = restore_lost_characters(text)
    assert "talks — Russia" in out and "France — insist" in out


def test_a_comma_glued_to_a_word_by_a_hole_shows_the_loss():
    text = "It was sent to Bosnia,?Estonia, Ghana,?Kuwait and the?Office of the Chairman."
    out = restore_lost_characters(text)
    assert f"Bosnia,{NBSP}Estonia" in out and f"Ghana,{NBSP}Kuwait" in out


def test_no_plural_possessive_where_the_writer_typed_apostrophes_right_there():
    # a reply quoted into a thread whose other post lost its apostrophes
    text = "The video won?t work. Same id? No errors? link I'm not sure what to think, it's odd."
    assert "No errors? link I'm" in restore_lost_characters(text)


def test_a_spaced_question_mark_ending_a_question_is_kept():
    text = "It?s late. PILGER : Didn?t the bank supply a list? ? ASSANGE : Yes, and the list ? long ? was ready."
    out = restore_lost_characters(text)
    assert "list… ? ASSANGE" in out or "list? ? ASSANGE" in out


def test_editorial_brackets_open_a_quote_and_mark_what_was_left_out():
    text = "It?s in the plan: she will ?[b]uild a new agency,? it says, and ?[m]any wait too long.? [?] More."
    out = restore_lost_characters(text)
    assert "she will “[b]uild a new agency,”" in out and "“[m]any wait" in out and "[…] More" in out


def test_a_site_style_learned_from_its_intact_records_picks_the_spaced_dash():
    from newsclean.clean.lost_chars import EN, EM, HouseStyle, HouseStyleCounts

    counts = HouseStyleCounts()
    counts.add("blog.example", "The plan – if it passes – will help. Rates – and fees – rise.")
    counts.add("paper.example", "The plan — if it passes — will help. Rates — and fees — rise.")
    counts = counts + HouseStyleCounts()  # shards merge by addition
    damaged = "The color of the center?s program ? and its labor ? was set, Sen. Smith said."
    assert f"program {EM} and" in restore_lost_characters(damaged)  # American spelling: em
    blog = counts.style("blog.example")
    assert blog == HouseStyle(EN) and counts.style("paper.example") == HouseStyle(EM)
    assert f"program {EN} and its labor {EN} was" in restore_lost_characters(damaged, blog)
    assert counts.style("unknown.example") == HouseStyle()  # no record tells: the text decides


def test_a_quote_in_a_headline_is_single_and_one_in_prose_double():
    # headlines quote in single marks (fake_or_real_news: related-story headlines glued
    # into the page); prose with a name in capitals before a quote is no headline
    out = restore_lost_characters("It?s over. Ex-Marine Supporter For Protester, Calls Him A ?Thug? (VIDEO)\n"
                                  "HOMESCHOOL FAMILIES TARGETED IN DISTRICT?S ?OPERATION ROUND UP?\n"
                                  "He was mocked by The New York Post as the ?Deleter of the Free World.?\n"
                                  "He told The New York Times ?We will win.?")
    assert "Calls Him A ‘Thug’ (VIDEO)" in out and "DISTRICT’S ‘OPERATION ROUND UP’" in out
    assert "as the “Deleter of the Free World.”" in out and "Times “We will win.”" in out


def test_runs_of_replacement_characters_are_not_read_by_shape():
    # U+FFFD may stand for each byte of one character: three of them may be one dash
    out = restore_lost_characters("The rules\ufffd\ufffd\ufffdand the platform\ufffd\ufffd\ufffdare set. It\ufffds late.")
    assert NBSP not in out


def test_a_text_with_straight_quotes_loses_spaces_not_quotes():
    text = (
        'It\'s not some sort of "only in Washington" thing. ?The partisanship of Congress grew. '
        'Don\'t believe it. ?We have the Congress we want, he said, a ?"bombshell."'
    )
    out = restore_lost_characters(text)
    assert f"thing. {NBSP}The partisanship" in out and f"believe it. {NBSP}We have" in out
    assert f'a {NBSP}"bombshell."' in out


def test_a_range_of_percentages_and_a_dropped_g_inside_a_quote():
    out = restore_lost_characters("It?s regularly 97%?98%, he said. After ?Takin? It to the Streets,? they left.")
    assert "97%–98%" in out and "“Takin’ It to the Streets,”" in out


@pytest.mark.parametrize(
    "text",
    [
        'He asked "Why?" and left. "Really?" she said, "are you sure?"',
        "Charts: the comedy Shall We Dance? at number two, and Who is Sylvia? by Edward Albee.",
        "Muffin the Mule perhaps ? After all, grannies are fond of him. Is it over? Yes.",
        "Did they go? They did. (Was it late?) It was: 97% of them, in 2016? No, 2015.",
        "“Are you in?” he asked. ‘Yes,’ she said. “Is it “fake news”?” Who knows?",
        "See www.example.com/page?id=3 and story?id=9, or https://t.co/x?y ? pic.twitter.com/z",
    ],
)
def test_clean_text_with_question_marks_is_unchanged(text):
    assert restore_lost_characters(text) == text


@pytest.mark.parametrize("unit", ["It?s ?a. ?b ", "it's \"a\" ?b ", "a???b "])
def test_paragraph_reading_stays_linear_in_one_long_paragraph(unit):
    # every quote opened looks ahead in its paragraph: finding the paragraph's end must
    # not cost a search to the end of the text per hole
    import time

    small, big = unit * (20_000 // len(unit)), unit * (160_000 // len(unit))
    restore_lost_characters(small)
    t0 = time.perf_counter()
    restore_lost_characters(small)
    t_small = max(time.perf_counter() - t0, 1e-3)
    t0 = time.perf_counter()
    restore_lost_characters(big)
    assert time.perf_counter() - t0 < 24 * t_small + 0.5  # 8x the text: quadratic would be 64x
