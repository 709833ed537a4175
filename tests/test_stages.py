"""Each stage on realistic before/after cases, including text that must not change."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsclean.clean.embeds import is_furniture, remove_embeds, remove_embeds_and_explain
from newsclean.clean.encoding import fix_encoding, fix_encoding_and_explain
from newsclean.clean.glued import split_glued_words
from newsclean.clean.layout import fix_layout
from newsclean.clean.lost_chars import looks_lossy, restore_lost_characters
from newsclean.clean.markup import decode_entities, strip_markup, strip_markup_and_explain

NBSP = "\u00a0"

# ---------------------------------------------------------------- encoding


@pytest.mark.parametrize(
    "before, after",
    [
        ("The cafÃ© is open", "The café is open"),
        ("Microsoftâ€™s announcement", "Microsoft’s announcement"),
        ("â€œWe will not sell,â€\x9d Smith said", "“We will not sell,” Smith said"),
        ("Beyonc\u00c3\u00a9 and Pok\u00c3\u00a9mon", "Beyoncé and Pokémon"),
    ],
)
def test_encoding_fixes_mojibake(before, after):
    assert fix_encoding(before) == after


@pytest.mark.parametrize(
    "text",
    [
        "“Curly” quotes and ‘single’ ones stay curly",
        "Ｆｕｌｌｗｉｄｔｈ letters are not the encoding stage's business",
        "ﬁ ligatures stay",
        "Plain ASCII text.",
        "Café, naïve, São Paulo, Zürich — already fine.",
        "Math: x ≤ y ≥ z and 10 °C",
    ],
)
def test_encoding_leaves_clean_text_alone(text):
    assert fix_encoding_and_explain(text) == (text, [])


def test_encoding_explains_where():
    text, edits = fix_encoding_and_explain("ok\nItâ€™s here")
    assert text == "ok\nIt’s here"
    assert edits and all(e.stage == "encoding" for e in edits)
    assert edits[0].start >= 3  # on the second line


# ---------------------------------------------------------------- lost characters


@pytest.mark.parametrize(
    "before, after",
    [
        ("Microsoft?s announcement", "Microsoft’s announcement"),
        ("it doesn?t already sell", "it doesn’t already sell"),
        ("?We will not sell,? Smith said.", "“We will not sell,” Smith said."),
        ("regulations ?grounded in human rights.? However", "regulations “grounded in human rights.” However"),
        ("the players? union said it?s over", "the players’ union said it’s over"),
        ("from 1990?2000 on, it?s said", "from 1990–2000 on, it’s said"),
        ("the caf? on the corner and the caf?s nearby", "the café on the corner and the cafés nearby"),
        ("Richard von Weizs?cker said it?s true", "Richard von Weizsäcker said it’s true"),
        ("O?Brien said it?s fine", "O’Brien said it’s fine"),
        ("rock from the ?90s, it?s back", "rock from the ’90s, it’s back"),
    ],
)
def test_lost_characters_restored(before, after):
    assert restore_lost_characters(before) == after


def test_lost_nbsp_around_links_and_tweet_dash():
    text = (
        "which it has?vehemently defended?as just. It?s a?long history?of it.\n"
        "? Washington Post Live (@postlive) June 11, 2020"
    )
    out = restore_lost_characters(text)
    assert f"has{NBSP}vehemently defended{NBSP}as" in out
    assert f"a{NBSP}long history{NBSP}of" in out
    assert out.endswith("— Washington Post Live (@postlive) June 11, 2020")


def test_em_dash_between_words_in_american_text():
    text = "The center said it?s a program?and the behavior of Sen. Smith?was odd. It?s done."
    out = restore_lost_characters(text)
    assert "program—and" in out and "Smith—was" in out


def test_real_question_marks_are_kept():
    text = "Is it?s fate? Nobody knows. ?Why?? he asked. Where next?\n\nWho knows?"
    out = restore_lost_characters(text)
    assert out == "Is it’s fate? Nobody knows. “Why?” he asked. Where next?\n\nWho knows?"


def test_replacement_character_is_always_damage():
    assert restore_lost_characters("\ufffdWe agree,\ufffd she said") == "“We agree,” she said"
    assert restore_lost_characters("Trump\ufffds plan") == "Trump’s plan"


@pytest.mark.parametrize(
    "text",
    [
        "Why? Because it works. Is it? Yes.",
        "What did he say? Nothing at all?",
        "See https://example.com/search?q=news&s=1 and www.site.org/?p=12 for more",
        "Who? What? Where? When?",
        "“Already curly,” she said. Isn’t it?",
        "A 50?-50 split? Unclear.",
    ],
)
def test_question_marks_in_clean_text_untouched(text):
    assert restore_lost_characters(text) == text


def test_looks_lossy_needs_unambiguous_holes():
    assert looks_lossy("Microsoft?s")
    assert looks_lossy("He said ?yes.? Then ?no.?")
    assert not looks_lossy("Why? Because. Really?")


# ---------------------------------------------------------------- markup


@pytest.mark.parametrize(
    "before, after",
    [
        ("with the\nWashington Post\n[] Thursday that", "with the\nWashington Post Thursday that"),
        ("similar statements [] from Amazon []. Then", "similar statements from Amazon. Then"),
        ("#postlive\n[] []\n\nNext", "#postlive\n\nNext"),
        ("Trump&#8217;s &quot;deal&quot; &amp; more", "Trump’s \"deal\" & more"),
        ("double &amp;amp; escaped &amp;#8217;", "double & escaped ’"),
        ("See [the report](https://example.com/report) here", "See the report here"),
        ("![a chart](https://example.com/c.png)Rates rose", "Rates rose"),
        ('[caption id="attachment_1" width="300"]A photo[/caption]Police said', "Police said"),
        ("Text [embed]https://youtu.be/x[/embed] more", "Text  more"),
        ("<p>First.</p><p>Second &amp; last.</p>", "\n\nFirst.\n\n\n\nSecond & last.\n\n"),
        ("Hi <script>var x = 1 < 2;</script>there", "Hi there"),
        ("An <a href=\"https://x.com\">anchor</a> word", "An anchor word"),
    ],
)
def test_markup_removed(before, after):
    assert strip_markup(before) == after


@pytest.mark.parametrize(
    "text",
    [
        "AT&T and R&D; Johnson & Johnson",
        "If x < y and y > z then [sic] it holds",
        "The Palace: Jang Noksu> and <Korean title>",
        "Scores [1] and [2] cited; the [redacted] memo",
        "Use &foo; literally",
    ],
)
def test_markup_leaves_prose_alone(text):
    assert strip_markup_and_explain(text) == (text, [])


def test_entities_decoded_once():
    assert decode_entities("&amp;lt;p&amp;gt;") == "<p>"


# ---------------------------------------------------------------- glued words


@pytest.mark.parametrize(
    "before, after",
    [
        ("statements fromAmazonandIBM. Amazon said", "statements from Amazon and IBM. Amazon said"),
        ("MicrosoftandAmazonhave previously called", "Microsoft and Amazon have previously called"),
        ("an interview byJohn Smithto the paper", "an interview by John Smith to the paper"),
        ("reported onTwitter that", "reported on Twitter that"),
        ("WhenCarlineowas approached", "When Carlineo was approached"),
    ],
)
def test_glued_words_split(before, after):
    assert split_glued_words(before) == after


@pytest.mark.parametrize(
    "text",
    [
        "Her iPhone, YouTube and McDonald's, LeBron and DeSantis",
        "GoBank and SoFi, FromSoftware and PlayStation, JavaScript and macOS",
        "McCririck, MacBride, DiCaprio, VanderMeer and O'Brien",
        "@BradSmi and #postLive and getElementById() and file.jsonFormat",
        "MarketAxess, PowderJect and miniMIXA",
        "DaimerChrysler's profits and AztraZeneca shares",
        "WiFi and WiMAX with eBay and PhD",
    ],
)
def test_glued_never_splits_names_and_code(text):
    assert split_glued_words(text) == text


# ---------------------------------------------------------------- embeds


SEED_TWEET = (
    "has vehemently defended as just and responsible in the past.\n\n"
    "> Microsoft president @BradSmi says the company does not sell facial recognition software to police depts. in\n"
    "the U.S. today and will not sell the tools to police until there is a national\n"
    "law in place “grounded in human rights.” #postlive\n\n"
    "— Washington Post Live (@postlive) June 11, 2020\n"
    "IBM, on the other hand, committed to getting out of the facial recognition game"
)


def test_quoted_tweet_and_signature_removed():
    out = remove_embeds(SEED_TWEET)
    assert "@BradSmi" not in out and "(@postlive)" not in out
    assert out.startswith("has vehemently defended")
    assert "IBM, on the other hand" in out


def test_wrapped_tweet_block_removed():
    text = (
        "First paragraph of the story.\n\n"
        "> Big news today from the capital. We will keep you posted on what happens\n"
        "next pic.twitter.com/abc123XYZ > > \u2014 City Desk (@citydesk) June 3, 2015\n\n"
        "Second paragraph."
    )
    out = remove_embeds(text)
    assert "City Desk" not in out and "Big news" not in out
    assert "First paragraph" in out and "Second paragraph." in out


def test_plain_tweet_removed_by_default_kept_with_embedded():
    text = (
        "Many reacted.\n\nWe must apply compassion. pic.twitter.com/s96jjh8AlD\n\n"
        "— Rep. Ilhan Omar (@Ilhan) November 19, 2019\n\nThe court agreed."
    )
    assert remove_embeds(text, tweets="embedded") == text
    out = remove_embeds(text)
    assert "Ilhan" not in out and "compassion" not in out and "The court agreed." in out


@pytest.mark.parametrize(
    "line, why",
    [
        ("Advertisement", "label"),
        ("ADVERTISEMENT", "label"),
        ("Story continues below advertisement", "label"),
        ("Share this article", "label"),
        ("Facebook Twitter Pinterest Email", "share bar"),
        ("Google Pinterest Digg Linkedin Reddit Stumbleupon Print Delicious Pocket Tumblr", "share bar"),
        ("Read more: Microsoft bans police from using its face recognition", "link label"),
        ("READ MORE: How the vote works", "link label"),
        ("Click here to subscribe to our newsletter", "newsletter prompt"),
        ("Sign up for our morning briefing", "newsletter prompt"),
        ("Get the latest headlines delivered to your inbox", "newsletter prompt"),
        ("Featured image via Getty Images", "image credit"),
        ("(Photo by Alex Wong/Getty Images)", "image credit"),
        ("A post shared by Jane Doe (@janedoe) on Jun 3, 2020 at 4:05pm PDT", "instagram embed"),
        ("Posted by City News on Friday, June 12, 2020", "facebook embed"),
        ("Video Player is loading.", "label"),
    ],
)
def test_furniture_recognised(line, why):
    assert is_furniture(line) == why


@pytest.mark.parametrize(
    "line",
    [
        "Microsoft said on Twitter that it would not sell the tools.",
        "Share prices fell sharply on Monday after the announcement.",
        "Readers can read more about the plan on the council website, officials said.",
        "The advertisement ran in three newspapers last week.",
        "Subscribers to the service pay $10 a month, the company said.",
        "Photo albums from the 1960s were found in the attic.",
        "Facebook, Twitter and Google executives testified on Tuesday.",
    ],
)
def test_article_sentences_are_not_furniture(line):
    assert is_furniture(line) is None


def test_furniture_lines_inside_paragraphs():
    text = "Police said the road was closed.\nAdvertisement\nIt reopened on Monday.\n\nRead more: Other news"
    out, edits = remove_embeds_and_explain(text)
    assert out == "Police said the road was closed.\nIt reopened on Monday.\n\n"
    assert [e.what for e in edits] == ["label", "link label"]


# ---------------------------------------------------------------- layout

WRAPPED = (
    "Microsoft President Brad Smith announced in a livestreamed conversation with the\n"
    "Washington Post Thursday that the company does not, and would not, sell facial\n"
    "recognition technology to police departments.\n"
    "\n"
    "There is, of course, a qualification: Microsoft will not sell facial recognition\n"
    "tech to police until Congress passes regulations around use of the technology to\n"
    "protect human rights.\n"
    "\n"
    "Key points\n"
    "- Amazon paused police use for a year\n"
    "- IBM left the business altogether and said so in a letter to Congress members\n"
    "> A quoted line that stays on its own line because it is a quotation block\n"
)


def test_layout_reflows_paragraphs_and_keeps_structure():
    out = fix_layout(WRAPPED)
    paragraphs = out.split("\n\n")
    assert paragraphs[0].startswith("Microsoft President") and "\n" not in paragraphs[0]
    assert paragraphs[0].endswith("police departments.")
    assert "\n" not in paragraphs[1]
    assert paragraphs[2].splitlines() == [
        "Key points",
        "- Amazon paused police use for a year",
        "- IBM left the business altogether and said so in a letter to Congress members",
        "> A quoted line that stays on its own line because it is a quotation block",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "One paragraph per line.\nAnother paragraph on the next line.\nAnd a third.",
        "Title\n\nA paragraph that is long enough to look like prose but is not wrapped at all, "
        "it simply goes on and on past any terminal width that a mail tool would use.\n\nEnd.",
        "Poem line one\nPoem line two\nPoem line three",
        "Table:  a   b   c\n        1   2   3",
    ],
)
def test_layout_leaves_unwrapped_text_alone(text):
    assert fix_layout(text) == text


def test_layout_whitespace_tidy():
    assert fix_layout("  Start\r\nline  \n\n\n\nEnd  ") == "Start\nline\n\nEnd"


# ---------------------------------------------------------------- whole HTML pages and the ftfy gate


def test_html_document_becomes_paragraphs():
    page = (
        "<!DOCTYPE html><html><head><title>x</title><style>p{}</style></head><body>"
        "<h1>Council backs plan</h1><p>The council&#8217;s vote was <b>7&ndash;2</b>.</p>"
        "<script>track()</script><p>Work starts in May.</p></body></html>"
    )
    assert strip_markup(page) == "Council backs plan\n\nThe council’s vote was 7–2.\n\nWork starts in May."


def test_deeply_nested_html_is_handled():
    page = "<html><body>" + "<div>" * 5000 + "deep text" + "</div>" * 5000 + "</body></html>"
    assert strip_markup(page) == "deep text"


def _mojibake(s: str, codec: str) -> str:
    return s.encode("utf-8").decode(codec, errors="replace")


@pytest.mark.parametrize("codec", ["cp1252", "latin-1", "mac_roman", "cp437", "cp1250", "cp1251"])
def test_encoding_fast_path_agrees_with_ftfy(codec):
    # The stage skips ftfy where mojibake is impossible; wherever ftfy would act,
    # the stage must give exactly ftfy's answer.
    import ftfy

    from newsclean.clean.encoding import _config

    originals = [
        "Microsoft’s “national law” — café, naïve, São Paulo, Zürich, £5, €10, 1–2, …",
        "Weizsäcker and Peña said: «très bien» ½ µ ° ±",
        "plain ascii with a € sign",
    ]
    for original in originals:
        broken = _mojibake(original, codec)
        assert fix_encoding(broken) == ftfy.fix_text(broken, _config())
        assert fix_encoding(original) == ftfy.fix_text(original, _config())


# ---------------------------------------------------------------- lost characters in other languages

ITALIAN = (
    "Il titolo della serie non ? ancora stato annunciato, ma la data di uscita ? una delle notizie "
    "che gli appassionati aspettano con ansia. Il remake sar? su Netflix, e l?originale degli anni ?80 "
    "resta il pi? amato: lo faranno i produttori de ?Il Signore degli Anelli??\n\nE per chi non lo "
    "sapesse, il film ? stato girato in Italia con una troupe che ha lavorato anche per la serie."
)


def test_italian_text_gets_italian_letters():
    out = restore_lost_characters(ITALIAN)
    assert "non è ancora" in out and "sarà su Netflix" in out and "il più amato" in out
    assert "l’originale degli anni ’80" in out
    # Outside English the question mark follows the closing quote.
    assert "“Il Signore degli Anelli”?" in out


def test_portuguese_words_from_the_portuguese_list():
    text = (
        "Viver uma verdadeira experi?ncia amorosa ? um dos maiores prazeres da vida. Queremos ser amados "
        "e n?o nos amamos, queremos ser compreendidos e n?o nos compreendemos. Cada um ? o ?nico "
        "respons?vel pelas suas pr?prias necessidades, mas isso tem um pre?o para todos os que querem."
    )
    out = restore_lost_characters(text)
    for word in ("experiência", "não", "único", "responsável", "próprias", "preço"):
        assert word in out, word


# derandomized and without a deadline: the same examples every run, none failing on a slow machine
@settings(deadline=None, derandomize=True, max_examples=300)
@given(st.text(alphabet=st.sampled_from("a?\ufffd /=&:.w \u00a0\n"), max_size=80))
@example("x a?b?c?d?e?f?g?h?i? y ?????????\ufffd" + "\ufffd" * 9)
@example("see www.x.org/a.php?q=1 or x.asp? x.htm? ftp://h a=b c&d e/f")
def test_link_and_crowded_tokens_are_the_whitespace_tokens_they_describe(text):
    # the regexes that find them must select exactly these whitespace-delimited tokens
    import re

    from newsclean.clean import lost_chars

    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]
    links = lost_chars._url_spans(text)
    assert list(zip(links.starts, links.ends)) == [
        (a, b) for a, b, t in tokens if any(marker in t for marker in lost_chars._URL_MARKERS)]
    for lost in ("?", "\ufffd"):
        crowded = lost_chars._TokenSpans(text, lost_chars._crowded_token(lost))
        assert list(zip(crowded.starts, crowded.ends)) == [
            (a, b) for a, b, t in tokens if t.count(lost) > lost_chars._MAX_TOKEN_HOLES]
