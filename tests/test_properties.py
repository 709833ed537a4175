"""Property tests: cleaning never raises, is idempotent, and leaves clean prose alone."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsclean import Cleaner, clean_text
from newsclean.clean.pipeline import STAGES

WORDS = (
    "the council said on tuesday that its budget would rise by four percent next year while "
    "officials in the city warned of delays to road works and new homes near the river police "
    "arrested two men after a crash minister promised more money for schools hospitals farmers "
    "company shares fell sharply analysts expected profits voters election campaign court judge"
).split()
NAMES = ["London", "Paris", "Smith", "Microsoft", "Amazon", "IBM", "Congress", "Brad", "Monday"]

word = st.sampled_from(WORDS)
name = st.sampled_from(NAMES)


@st.composite
def sentence(draw):
    words = draw(st.lists(st.one_of(word, word, word, name), min_size=4, max_size=16))
    words[0] = words[0][:1].upper() + words[0][1:]
    middle = draw(st.sampled_from(["", ",", ";"]))
    if middle and len(words) > 5:
        words[2] += middle
    return " ".join(words) + draw(st.sampled_from([".", ".", ".", "!"]))


@st.composite
def prose(draw):
    paragraphs = draw(st.lists(st.lists(sentence(), min_size=1, max_size=4), min_size=1, max_size=4))
    return "\n\n".join(" ".join(p) for p in paragraphs)


DAMAGE = [
    "?", "? ", " ?", "?s", "n?t", "\ufffd", "[]", " []", "\n[]", "[] []", "&amp;", "&#8217;", "&nbsp;",
    "<p>", "</p>", "<br>", "<a href='x'>", "</a>", "fromAmazon", "andIBM", "Smithto", "\n", "\n\n",
    "> ", "\n> ", "\u2014 City Desk (@citydesk) June 3, 2015", "pic.twitter.com/abc123",
    "Advertisement", "Read more: ", "â€™", "Ã©", "\u00a0", "  ", "\t", "\r\n", "\u201c", "\u201d",
    "\u2019", "(", ")", ",", ".", ":", "-", "'", '"', "\x00", "\x85",
]


@st.composite
def damaged(draw):
    parts = draw(st.lists(st.one_of(word, name, st.sampled_from(DAMAGE), st.just(" ")), max_size=60))
    return "".join(parts)


# derandomize: CI sees the same examples every run, so a failure is reproducible, never flaky.
settings_ = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@settings_
@given(prose())
def test_clean_ascii_prose_is_unchanged(text):
    assert clean_text(text) == text


@settings_
@given(damaged())
def test_never_raises_and_is_idempotent(text):
    once = clean_text(text)
    assert isinstance(once, str)
    assert clean_text(once) == once


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=300))
def test_arbitrary_unicode_never_raises(text):
    out = clean_text(text)
    assert isinstance(out, str)
    # Cleaning removes and repairs; it does not blow text up.
    assert len(out) <= 2 * len(text) + 4
    assert clean_text(out) == out


@settings(max_examples=100, deadline=None, derandomize=True)
@given(damaged())
def test_each_stage_alone_is_idempotent_and_bounded(text):
    for name in STAGES:
        c = Cleaner(stages=[name])
        once = c.clean_text(text)
        assert c.clean_text(once) == once, name
        assert len(once) <= 2 * len(text) + 4, name


@settings(max_examples=100, deadline=None, derandomize=True)
@given(damaged())
def test_edits_describe_the_change(text):
    # Replaying each stage's edits on that stage's input gives that stage's output.
    current = text
    for name, fn in STAGES.items():
        out, edits = fn(current)
        assert (out == current) == (not edits), name
        current = out


@settings(max_examples=200, deadline=None, derandomize=True)
@given(damaged())
def test_removal_stages_never_empty_a_text(text):
    # tweets, furniture and site boilerplate go; a text with words keeps some
    from newsclean.clean.boilerplate import learn_boilerplate, remove_boilerplate
    from newsclean.clean.embeds import remove_embeds

    if not any(c.isalnum() for c in text):
        return
    assert any(c.isalnum() for c in remove_embeds(text))
    table = learn_boilerplate([("site", text)] * 5, min_pages=1)
    assert any(c.isalnum() for c in remove_boilerplate(text, table, "site"))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(damaged(), min_size=1, max_size=8))
def test_boilerplate_edits_rebuild_the_text(texts):
    from newsclean.clean.boilerplate import learn_boilerplate, remove_boilerplate_and_explain

    table = learn_boilerplate([("site", t) for t in texts], min_pages=2, min_share=0.0)
    for text in texts:
        out, edits = remove_boilerplate_and_explain(text, table, "site")
        rebuilt, pos_out, pos_in = [], 0, 0
        for e in edits:
            keep = e.start - pos_in
            rebuilt.append(out[pos_out : pos_out + keep] + e.before)
            pos_out += keep + len(e.after)
            pos_in = e.end
        assert "".join(rebuilt) + out[pos_out:] == text
