"""Stage 4 — embeds and page furniture: what the page showed around the article.

Removed:

* embedded tweets — the ``> `` quoted body and its signature line
  ``— Name (@handle) Month D, YYYY`` (``tweets="all"`` also removes tweets
  rendered as plain paragraphs, and ``pic.twitter.com/...`` links; by default
  those are kept, as extractors and their benchmarks treat a tweet that an
  article quotes as part of the article);
* Instagram (``A post shared by Name (@handle) on ...``, ``View this post on
  Instagram``) and Facebook (``Posted by Name on Friday, June 12, 2020``) embeds;
* video placeholders, share bars, ``Advertisement``, ``Read more: ...`` and
  other link labels, newsletter prompts, image credits and captions.

Decisions are made per paragraph, or per line when the line stands on its own
(it starts a paragraph or follows a finished sentence), and every rule needs the
whole unit to look like furniture: a sentence that merely mentions Twitter, or
says "subscribers can read more", stays.
"""
from __future__ import annotations

import bisect
import re

from ..edits import Edit, Replacement, apply_replacements

STAGE = "embeds"

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = rf"{_MONTH} \d{{1,2}},? \d{{4}}"
# The handle-and-date end of a tweet signature: "(@postlive) June 11, 2020".
_TWEET_SIGNATURE_END = re.compile(rf"\(@\w{{1,30}}\) {{0,3}}{_DATE}")
_SIGNATURE_HEAD = re.compile(r"^\W{0,3}[^\n()@!?]{1,80}$")
_PIC_TWITTER = re.compile(r"(?:https?://)?pic\.twitter\.com/\w{4,30}")
_TWEET_LINK = re.compile(r"(?:pic\.twitter\.com/|https?://t\.co/|twitter\.com/\w+/status)")

_INSTAGRAM = re.compile(
    rf"^(?:A (?:post|photo|video) shared by .{{0,120}}?(?: on {_DATE}| on \w+ \d{{1,2}}, \d{{4}})"
    r"(?: at \d{1,2}:\d{2} ?[apAP]\.?[mM]\.? ?[A-Z]{0,4})?"
    r"|View this (?:post|photo|video|profile) on Instagram|View (?:more|all \d+) comments"
    r"|Add a comment\W*|Like(?:d by .{0,60})?)\s*$"
)
_FACEBOOK = re.compile(
    rf"^Posted by .{{1,80}}? on (?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,? )?{_DATE}"
    r"(?: at \d{1,2}:\d{2} ?[apAP]\.?[mM]\.?)?\s*$"
)

_LABELS = (
    r"advertisement|advertisements|advertising|ad|ads|sponsored|sponsored content|paid content|"
    r"promoted|promoted content|story continues below(?: advertisement)?|continue reading(?: below| the main story)?|"
    r"skip ad(?:vertisement)?|scroll to continue(?: with content)?|article continues below(?: advertisement)?|"
    r"related|related articles?|related stories|related content|related coverage|related posts|recommended|"
    r"recommended for you|recommended stories|trending|trending now|most popular|most read|more stories|"
    r"you may also like|you might also like|also on \w+|top stories|latest news|"
    r"share|share this|share this (?:article|story|post|page)|share on \w+|share via \w+|"
    r"print|print this (?:article|page|story)|email this (?:article|story)|comments?|\d+ comments?|"
    r"leave a comment|add comment|show comments|view comments|loading comments\W*|"
    r"video player is loading\W*|play video|watch video|loading video\W*|video|"
    r"this video (?:is unavailable|can ?not be played).*|your browser does not support .{0,40}|"
    r"image|photo|tweet|pin|whatsapp|copy link|link copied|back to top|getty images|"
    r"click to expand\W*|tap to expand\W*|close|open in app|"
    r"story continues|recommended video|more from [\w.&' -]{1,40}|comments are closed|leave a reply|"
    r"print friendly.{0,30}|previous (?:article|post|story)|next (?:article|post|story)|tweet this|pin it|"
    r"like this|loading\W*|this is a modal window\W*|now playing|up next|listen to this (?:article|story)|"
    r"join the conversation|report an error|editor'?s picks?|scroll down for (?:the )?video|"
    r"click here to read more|click to enlarge|click to share on \w+.{0,30}|"
    r"please enable javascript.{0,60}|already a subscriber\W{0,3} ?log ?in|support our journalism|"
    r"sponsored links|promoted stories|load more|show more|read the full (?:story|article)|read full article|"
    r"read more|keep reading|click here for more|(?:advertisement ?){2,3}"
)
_LABEL_LINE = re.compile(rf"^\W{{0,3}}(?:{_LABELS})\W{{0,3}}$", re.IGNORECASE)

_SOCIAL = frozenset(
    "facebook twitter x pinterest email e-mail mail linkedin reddit whatsapp print share tweet "
    "google google+ digg stumbleupon delicious pocket tumblr messenger telegram flipboard sms "
    "copy link comments comment save shares threads bluesky mastodon vk weibo wechat line "
    "instagram youtube tiktok snapchat".split()
)

_LINK_LABEL = re.compile(
    r"^(?:read more|read next|read also|also read|more|see also|related|related story|related article|"
    r"related coverage|recommended|watch|video|listen|photos|gallery|explainer|analysis|opinion|"
    r"most read|trending|editor'?s picks?|don't miss|must read|more on this story|more from [\w ]{1,30}|"
    r"click here|sponsored|advertisement)\s*(?::|›|»|>|\||\u2192|-|\u2014|\u2013)\s*\S",
    re.IGNORECASE,
)
_CALL_TO_ACTION = re.compile(
    r"^(?:click here|tap here|sign up|subscribe|join|get|register|follow|like us|download|"
    r"don'?t miss|never miss|enter your email|stay (?:informed|updated|up to date)|want more|"
    r"to get .{0,40}delivered|be the first|receive|we'll send|support (?:our|independent))\b",
    re.IGNORECASE,
)
_CALL_TOPIC = re.compile(
    r"newsletter|inbox|briefing|digest|alerts|updates|subscri|our app|podcast|(?:your|by|via) e-?mail|"
    r"e-?mail address|follow us|on (?:facebook|twitter|instagram|youtube|tiktok|telegram)|notifications",
    re.IGNORECASE,
)
# Credits in the "via"/"by" form that pages print under a picture.  Credit lines
# of the "Image credit: X" and "© 2019 AP" kind are left alone: extraction
# benchmarks (and their human gold) count them as part of the article.
_CAPTION = re.compile(
    r"^\(?(?:featured image|image|photo|picture|photograph|header image|top image|lead image|main image)"
    r"s? (?:via|by|courtesy of) \S.{0,150}$"
    r"|^(?:image copyright|image caption)\s+\S.{0,150}$"
    r"|^\((?:photo|image|picture|video)s? (?:by|via|courtesy of|credit:?) .{1,120}\)\s*$"
    r"|^\((?:AP|AFP|Reuters|EPA|PA|Getty) (?:Photo|Images?)(?:/[^()]{1,80})?\)\s*$",
    re.IGNORECASE,
)
# Every furniture pattern above starts with one of these words; checking the first
# word first lets ordinary paragraphs skip all the patterns.
_FIRST_WORDS = frozenset(
    (
        "advertisement advertisements advertising ad ads sponsored paid promoted story continue skip scroll "
        "article related recommended trending most more you also top latest share print email comments "
        "comment leave add show view loading video play watch this your image photo tweet pin whatsapp copy "
        "link back getty click tap close open a like liked posted read see listen photos gallery explainer "
        "analysis opinion editor editor's editors don't dont must sign subscribe join get register follow "
        "download never enter stay want to be receive we'll support featured picture photograph header lead "
        "main copyright credit source ap afp reuters epa pa getty recommended comments previous next pin "
        "loading now up listen join report editor's editors' scroll please already sponsored load keep"
    ).split()
) | _SOCIAL
_FIRST_WORD = re.compile(r"\W{0,3}([\w'+-]+)")
_MAX_FURNITURE_CHARS = 400
_SENTENCE_END = re.compile(r"[.!?\"”’)\]:…]\s*$")


def _words(s: str) -> list[str]:
    return s.split()


def is_furniture(unit: str) -> str | None:
    """Why a paragraph or stand-alone line is page furniture, or None if it is not.

    >>> is_furniture("Advertisement")
    'label'
    >>> is_furniture("Facebook Twitter Pinterest Email")
    'share bar'
    >>> is_furniture("Read more: Microsoft bans police use of facial recognition")
    'link label'
    >>> is_furniture("Click here to subscribe to our newsletter")
    'newsletter prompt'
    >>> is_furniture("Microsoft said on Twitter that it would not sell the tools.") is None
    True
    """
    if len(unit) > _MAX_FURNITURE_CHARS:
        return None
    first = _FIRST_WORD.match(unit)
    if first is None or (first.group(1).lower() not in _FIRST_WORDS and not first.group(1).isdigit()):
        return None  # cheap exit: no furniture pattern starts with this word
    s = " ".join(unit.split())
    n_words = len(s.split())
    if n_words <= 8 and _LABEL_LINE.match(s):
        return "label"
    tokens = [t.strip(".,:;|•·/()[]").lower() for t in s.split()]
    tokens = [t for t in tokens if t]
    if 2 <= len(tokens) <= 20 and all(t in _SOCIAL for t in tokens):
        return "share bar"
    if _INSTAGRAM.match(s):
        return "instagram embed"
    if _FACEBOOK.match(s):
        return "facebook embed"
    if n_words <= 30 and _LINK_LABEL.match(s):
        return "link label"
    if n_words <= 30 and _CALL_TO_ACTION.match(s) and _CALL_TOPIC.search(s):
        return "newsletter prompt"
    if n_words <= 25 and _CAPTION.match(s):
        return "image credit"
    return None


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of paragraphs (separated by blank lines)."""
    spans = []
    for m in re.finditer(r"[^\n]+(?:\n[ \t]*[^\n \t][^\n]*)*", text):
        spans.append(m.span())
    return spans


def _line_spans(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out = []
    pos = a
    while pos < b:
        nl = text.find("\n", pos, b)
        end = b if nl < 0 else nl
        out.append((pos, end))
        pos = end + 1
    return out


def _removal(text: str, a: int, b: int) -> tuple[int, int]:
    """Extend a removed span over the line break that follows it."""
    if b < len(text) and text[b] == "\n":
        b += 1
    return a, b


def _is_quoted(block: str) -> bool:
    return block.lstrip().startswith(">")


def _tweet_replacements(text: str, blocks: list[tuple[int, int]], remove_all: bool) -> list[Replacement]:
    """Embedded tweets, found by their signature.

    A tweet in its embed form (a ``> `` quoted body followed by the signature, in
    one paragraph or two) is always removed.  A tweet rendered as a plain paragraph
    with a signature line is how extractors render a tweet the article quotes, so it
    is only removed with ``remove_all``.
    """
    out: list[Replacement] = []
    if "(@" not in text:
        return out
    block_starts = [s for s, _ in blocks]
    for m in _TWEET_SIGNATURE_END.finditer(text):
        sig_end = m.end()
        bi = bisect.bisect_right(block_starts, m.start()) - 1
        if bi < 0:
            continue
        b_start, _ = blocks[bi]
        block_head = text[b_start : m.start()]
        start = None
        if _is_quoted(block_head):
            start = b_start  # "> body ... — Name (@handle) date" in one paragraph
        elif _SIGNATURE_HEAD.match(block_head) and bi > 0:
            pb_start, pb_end = blocks[bi - 1]
            prev = text[pb_start:pb_end]
            if _is_quoted(prev):
                start = pb_start  # the quoted body, then the signature paragraph
            elif remove_all:
                start = pb_start if len(prev) <= 400 and _TWEET_LINK.search(prev) else b_start
        elif remove_all and len(block_head) <= 400:
            start = b_start
        if start is None:
            continue
        end = sig_end
        while end < len(text) and text[end] in " \t":
            end += 1
        if end < len(text) and text[end] == "\n":
            end += 1
        out.append(Replacement(start, end, "", "embedded tweet"))
    return out


def _quote_block_tweets(text: str, blocks: list[tuple[int, int]]) -> list[Replacement]:
    """Quoted blocks that carry tweet links but lost their signature."""
    out = []
    for a, b in blocks:
        block = text[a:b]
        if block.lstrip().startswith(">") and _TWEET_LINK.search(block):
            out.append(Replacement(*_removal(text, a, b), "", "embedded tweet"))
    return out


def _furniture_replacements(text: str, blocks: list[tuple[int, int]]) -> list[Replacement]:
    out = []
    for a, b in blocks:
        block = text[a:b]
        if len(block) <= 600:
            why = is_furniture(block)
            if why:
                out.append(Replacement(*_removal(text, a, b), "", why))
                continue
        lines = _line_spans(text, a, b)
        if len(lines) < 2:
            continue
        prev_ended = True
        for la, lb in lines:
            line = text[la:lb]
            stripped = line.strip()
            starts_unit = stripped[:1].isupper() or not stripped[:1].isalpha()
            if prev_ended and stripped and len(stripped) <= 300 and starts_unit:
                why = is_furniture(stripped)
                if why:
                    out.append(Replacement(*_removal(text, la, lb), "", why))
                    continue
            prev_ended = bool(_SENTENCE_END.search(line)) or not stripped
    return out


TWEET_MODES = ("embedded", "all", "keep")


def remove_embeds_and_explain(text: str, *, tweets: str = "embedded") -> tuple[str, list[Edit]]:
    """Remove embeds and page furniture, and say what each removal was.

    >>> t = ("The company said it would wait.\\n\\n"
    ...      "> Microsoft president says the company will not sell the tools []\\n\\n"
    ...      "\\u2014 Washington Post Live (@postlive) June 11, 2020\\n\\n"
    ...      "Advertisement\\n\\nIBM went further.")
    >>> remove_embeds_and_explain(t)[0]
    'The company said it would wait.\\n\\n\\n\\nIBM went further.'
    >>> remove_embeds_and_explain("He said on Twitter that he would resign.")
    ('He said on Twitter that he would resign.', [])
    """
    if tweets not in TWEET_MODES:
        raise ValueError(f"tweets must be one of {TWEET_MODES}, not {tweets!r}")
    blocks = _blocks(text)
    edits: list[Edit] = []
    reps: list[Replacement] = []
    if tweets != "keep":
        reps += _tweet_replacements(text, blocks, tweets == "all") + _quote_block_tweets(text, blocks)
    reps += _furniture_replacements(text, blocks)
    if tweets == "all" and "pic.twitter.com" in text:
        reps += [Replacement(m.start(), m.end(), "", "tweet link") for m in _PIC_TWITTER.finditer(text)]
    text, e = apply_replacements(text, STAGE, reps)
    edits += e
    return text, edits


def remove_embeds(text: str, *, tweets: str = "embedded") -> str:
    """Remove embedded tweets, social embeds and page furniture.

    >>> remove_embeds("Police said the road was closed.\\nShare this article\\nIt reopened on Monday.")
    'Police said the road was closed.\\nIt reopened on Monday.'
    """
    return remove_embeds_and_explain(text, tweets=tweets)[0]
