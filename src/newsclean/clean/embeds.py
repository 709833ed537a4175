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

from ..edits import Edit, Replacement, apply_passes

STAGE = "embeds"

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = rf"{_MONTH} \d{{1,2}},? \d{{4}}"
# The handle-and-date end of a tweet signature: "(@postlive) June 11, 2020" (or the
# day-month order of British sites: "(@postlive) 11 June 2020").
_TWEET_SIGNATURE_END = re.compile(rf"\(@\w{{1,30}}\) {{0,3}}(?:{_DATE}|\d{{1,2}} {_MONTH} \d{{4}})")
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
    r"read more|keep reading|click here for more|(?:advertisement ?){2,3}|"
    r"advert|adverts|advertorial|advertise(?: with us| here| on [\w.]{1,30})?|"
    r"media playback is unsupported on your device|embed|follow us|"
    r"newsletters?|(?:email |e-mail )?newsletter sign[ -]?up|sign up|sign up (?:now|today|here)|"
    r"share this (?:entry|with \w+|on \w+|via \w+)|"
    r"(?:image|photo|picture|slide|photograph|gallery) \d+ (?:of|/) \d+|"
    r"recent comments|cancel reply|post (?:a )?comment|leave a (?:comment|reply)(?: cancel reply)?|"
    r"show more comments|most commented|comments? \(\d+\)"
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
# Requests readers see on every page: to share the story, and the help text of the
# comment form.
_PROMPT = re.compile(
    r"^(?:please (?:like|share|follow|subscribe|support)\b.{0,120}\b(?:share|like|facebook|twitter|story|article)"
    r"|click (?:here )?for more (?:from|for|at|on) .{1,60}"
    r"|your email address will not be published.{0,80}|required fields are marked.{0,20}"
    r"|(?:save|remember) my name,? e-?mail.{0,100}|notify me (?:of|via|when|by) .{0,100}"
    r"|you must be logged in to (?:post|leave) a comment.{0,60}|(?:log|sign) in to (?:post a )?comment.{0,40}"
    r"|this site uses akismet to reduce spam.{0,80}|(?:please )?enable javascript to view the comments.{0,60}"
    r"|(?:blog )?comments powered by disqus.{0,40}|you are commenting using your .{1,30} account.{0,60}"
    r"|post was not sent.{0,60}|sorry, your blog cannot share posts by e-?mail.{0,10})\W{0,3}$",
    re.IGNORECASE,
)
_REPORTED = re.compile(
    r",[\"\u201d\u2019]? (?:\w+ ){0,3}(?:said|says|added|told|wrote|explained|asked)\b", re.IGNORECASE
)
# Picture credits: "Photo: Hau Dinh, AP", "Image credit: NASA", "Photo by X/Getty
# Images", "Alex Wong | Getty Images": a name and an agency, never a sentence.
_CAPTION = re.compile(
    r"^\(?(?:featured image|image|photo|picture|photograph|header image|top image|lead image|main image)"
    r"s? (?:via|by|courtesy of) \S.{0,150}$"
    r"|^\(?(?:photo|photograph|image|picture|photos|pictures|photo credit|image credit|image source|credit)"
    r"\s?: ?[^.!?:]{1,60}(?:\.[^\s.!?:][^.!?:]{0,40})*\)?$"
    r"|^(?:[^.!?:/|]{1,40} ?[/|] ?){1,3}(?:getty images|shutterstock|afp|ap|reuters|epa|bloomberg|"
    r"associated press|ap photo|alamy)\)?$"
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
        "loading now up listen join report editor's editors' scroll please already sponsored load keep "
        "advert adverts advertorial advertise media embed newsletter newsletters slide cancel post recent "
        "save remember notify required log blog sorry photos pictures"
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
        # cheap exit: no furniture pattern starts with this word
        return "image credit" if _agency_credit(unit) else None
    words = unit.split()
    n_words = len(words)
    if n_words > 40:
        return None  # longer than any furniture
    s = " ".join(words)
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
    if _REPORTED.search(s):
        return None  # "Follow us for updates, the station said": a sentence about a prompt
    if n_words <= 30 and _CALL_TO_ACTION.match(s) and _CALL_TOPIC.search(s):
        return "newsletter prompt"
    if n_words <= 40 and _PROMPT.match(s):
        return "prompt"
    if n_words <= 25 and _CAPTION.match(s):
        return "image credit"
    return None


_AGENCIES = ("getty images", "shutterstock", "afp", "ap", "reuters", "epa", "bloomberg", "associated press",
             "ap photo", "alamy")


def _agency_credit(unit: str) -> bool:
    """``Sonu Mehta/Hindustan Times/Getty Images``: a credit line, whatever its first word."""
    if len(unit) > 120 or not unit[-20:].rstrip(" )").lower().endswith(_AGENCIES):
        return False
    return _CAPTION.match(" ".join(unit.split())) is not None


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


def _quoted_tweets(text: str, blocks: list[tuple[int, int]]) -> list[Replacement]:
    """Tweets in their embed form: a ``> `` quoted body with the signature in the same
    paragraph or the next, and quoted blocks carrying tweet links without one."""
    out: list[Replacement] = []
    block_starts = [s for s, _ in blocks]
    for m in _TWEET_SIGNATURE_END.finditer(text) if "(@" in text else ():
        bi = bisect.bisect_right(block_starts, m.start()) - 1
        if bi < 0:
            continue
        b_start = blocks[bi][0]
        head = text[b_start : m.start()]
        if _is_quoted(head):
            start = b_start  # "> body ... — Name (@handle) date" in one paragraph
        elif bi > 0 and "\n" not in head.strip() and _is_quoted(text[blocks[bi - 1][0] : blocks[bi - 1][1]]):
            start = blocks[bi - 1][0]  # the quoted body, then the signature paragraph
        else:
            continue
        out.append(Replacement(*_removal(text, start, _skip_spaces(text, m.end())), "", "embedded tweet"))
    for a, b in blocks if ">" in text else ():
        if text[a:b].lstrip().startswith(">") and _TWEET_LINK.search(text, a, b):
            out.append(Replacement(*_removal(text, a, b), "", "embedded tweet"))
    return out


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


# ---------------------------------------------------------------- tweets as plain text
#
# Extractors render an embedded tweet as its text followed by the signature line, in
# every layout: a paragraph of its own, a line of a single-newline text, or glued to
# the end of the article paragraph before it (``...lit a match. . @SpeakerRyan says
# ... https://t.co/x`` then ``— ABC News Politics (@ABCPolitics) November 5, 2016``).
# The signature is certain; where the tweet's text starts is read off the text before
# it, sentence by sentence from the end, and a sentence is only taken when it shows
# it belongs to the tweet.  What is not certain stays: an article sentence is never
# removed to remove a tweet.

MAX_TWEET_CHARS = 300  # 280 as Twitter counts, with room for an extractor's spacing
_T_CO = re.compile(r"https?://t\.co/\w+")
_OTHER_LINK = re.compile(r"https?://\S+")
# What only a tweet carries: its links, @handles and #hashtags.
_TWEET_MARKER = re.compile(
    r"pic\.twitter\.com/\w|https?://t\.co/\w|(?<![\w@.])@\w{1,15}\b|(?<![\w&#])#[A-Za-z]\w{1,60}"
)
# The dash that opens a signature, and the author's name after it.
_SIGNATURE_NAME = re.compile(r"(?:[\u2014\u2013\u2015]|--|(?<=\s)-(?=\s))[ \t]?[^\u2014\u2013\u2015\n()@]{1,80}$")
_NAME_WORD = re.compile(r"[^.!?:;,()@]+\.?")
# Where a sentence, a line or a clause ending in a colon stops and the next begins.
_SEGMENT_BREAK = re.compile(
    r"(?P<sentence>(?<=\S[.!?\u2026])[\"\u201d\u2019')\]]*[ \t]+(?=[\"\u201c\u2018'(\[]?[A-Z0-9@]))"
    r"|(?P<dotat>[ \t]+(?=\.[ \t]?@\w))"
    r"|(?P<colon>(?<=:)[ \t]+)"
    r"|(?P<line>[ \t]*\n[ \t>]*)"
)
# A colon that introduces the tweet ("... summed it up in this tweet:").
_INTRODUCES_TWEET = re.compile(r"\b(?:tweet\w*|twitter|wrote|writes|posted|posts|replied|responded)\b", re.I)
_ABBREVIATION = frozenset(
    "mr mrs ms dr rep sen gov gen rt hon st jr sr lt col sgt capt prof rev no vs inc co corp ltd "
    "jan feb mar apr jun jul aug sep sept oct nov dec ave blvd mt ft".split()
)
_TERMINAL = ".!?:;\"\u201d\u2019)\u2026\u00bb"


def tweet_length(text: str) -> int:
    """Length as Twitter counts it: a ``t.co`` link is 23, an attached picture nothing.

    >>> tweet_length("Watch this https://t.co/abcdefghij pic.twitter.com/abcdefghij")
    34
    """
    text = _PIC_TWITTER.sub("", text)
    text = _T_CO.sub("x" * 23, text)
    return len(_OTHER_LINK.sub("x" * 23, text).strip())


def _signature_start(text: str, line_start: int, handle_at: int) -> int | None:
    """Where the signature ``— Name (@handle) date`` begins: at its dash, or at the start
    of its line when the line holds nothing else; None when the name cannot be told."""
    # a name is at most 80 characters: look no further back (a long line full of
    # signatures must not make each one read the whole line)
    window_start = max(line_start, handle_at - 100)
    prefix = text[window_start:handle_at]
    m = _SIGNATURE_NAME.search(prefix)
    if m is not None:
        return window_start + m.start()
    if window_start == line_start and _bare_name(prefix):
        return line_start
    return None


def _bare_name(prefix: str) -> bool:
    """Is this all a line holds before ``(@handle)``: a name of one to eight words?"""
    words = prefix.strip(" \t>").split()
    return 0 < len(words) <= 8 and all(_NAME_WORD.fullmatch(w) for w in words) and not words[-1].endswith(".")


def _body_region(text: str, head: int, floor: int) -> tuple[int, int, str, bool]:
    """The text a signature at ``head`` may close: ``(start, end, layout, clamped)``.

    The layout says whether the signature shares its line with that text (``glued``),
    follows it on the next line (``line``) or after a blank line (``block``);
    ``clamped`` that an earlier signature ends inside it (nothing before ``floor`` is
    looked at again).
    """
    line_start = text.rfind("\n", 0, head) + 1
    if text[max(line_start, floor) : head].strip(" \t>"):
        return max(line_start, floor), head, "glued", line_start < floor
    end = line_start
    while end > floor and text[end - 1].isspace():
        end -= 1
    if end <= floor:
        return head, head, "none", False
    if text.count("\n", end, line_start) >= 2:
        block_start = text.rfind("\n\n", 0, end)
        start, layout = (0 if block_start < 0 else block_start + 2), "block"
    else:
        start, layout = text.rfind("\n", 0, end) + 1, "line"
    return max(start, floor), end, layout, start < floor


def _segment_starts(text: str, a: int, e: int) -> list[tuple[int, str]]:
    """Starts of the sentences and lines of ``text[a:e]``, each with the kind of break
    before it; a colon counts only after a clause without tweet markers, and is an
    ``intro`` when that clause speaks of the tweet."""
    starts = [(a, "start")]
    for m in _SEGMENT_BREAK.finditer(text, a, e):
        kind = m.lastgroup
        if m.end() >= e:
            continue
        if kind == "sentence" and text[m.start() - 1] == ".":
            word = re.search(r"([A-Za-z]+)\.$", text[max(a, m.start() - 12) : m.start()])
            if word and (len(word.group(1)) == 1 or word.group(1).lower() in _ABBREVIATION):
                continue  # "W. Carlineo", "Sen. Sanders": no sentence ends there
        if kind == "colon":
            clause = text[starts[-1][0] : m.start()]
            if _TWEET_MARKER.search(clause):
                continue  # a colon inside the tweet ("@SpeakerRyan says ... : ...")
            kind = "intro" if _INTRODUCES_TWEET.search(_last_sentence(clause)[-80:]) else "colon"
        starts.append((m.end(), kind))
    return starts


def _last_sentence(text: str) -> str:
    ends = [m.end() for m in re.finditer(r"\S[.!?\u2026][\"\u201d\u2019')\]]*(?=\s|[\"\u201c\u2018A-Z])", text)]
    return text[ends[-1] :] if ends else text


def _belongs_to_tweet(segment: str, kind: str) -> bool:
    """Does the last sentence before a signature show that it is the tweet's text?
    It does when it carries a tweet's link, handle or hashtag, opens with ``.@``, or
    ends without the punctuation an article sentence ends with."""
    s = segment.strip()
    return bool(s) and (kind == "dotat" or bool(_TWEET_MARKER.search(s)) or not s.endswith(tuple(_TERMINAL)))


def _tweet_start(text: str, a: int, e: int, layout: str, after_signature: bool) -> int:
    """Where the tweet's own text starts in ``text[a:e]``: ``e`` when none of it is."""
    region = text[a:e]
    if not region.strip():
        return e
    if tweet_length(region) <= MAX_TWEET_CHARS and (after_signature or region.lstrip().startswith(">")):
        return a  # between two signatures, or quoted: the whole of it
    starts = _segment_starts(text, a, e)
    intros = [p for p, kind in starts if kind == "intro" and tweet_length(text[p:e]) <= MAX_TWEET_CHARS]
    if intros:
        return intros[-1]  # "... in this tweet: <the tweet>"
    last, kind = starts[-1]
    if tweet_length(text[last:e]) > MAX_TWEET_CHARS:
        return e  # no sentence break near enough: where the tweet starts cannot be told
    introduced = layout == "block" and text[:a].rstrip().endswith(":")
    if not (_belongs_to_tweet(text[last:e], kind) or introduced):
        return e
    if layout == "block" and tweet_length(region) <= MAX_TWEET_CHARS:
        return a  # a paragraph of its own before the signature
    # earlier sentences join the tweet while they carry its markers
    for pos, pos_kind in reversed(starts[:-1]):
        if kind in ("dotat", "colon", "intro", "line") or tweet_length(text[pos:e]) > MAX_TWEET_CHARS:
            break
        if not _TWEET_MARKER.search(text, pos, last):
            break
        last, kind = pos, pos_kind
    return last


def _plain_tweets(text: str) -> list[Replacement]:
    """Tweets rendered as plain text with a signature line (see above)."""
    out: list[Replacement] = []
    floor = 0
    for m in _TWEET_SIGNATURE_END.finditer(text) if "(@" in text else ():
        line_start = text.rfind("\n", 0, m.start()) + 1
        head = _signature_start(text, line_start, m.start())
        if head is None or head < floor:
            continue
        a, e, layout, after_signature = _body_region(text, head, floor)
        start = _tweet_start(text, a, e, layout, after_signature)
        if start == e:
            start = head  # no text of the tweet's own: the signature alone
        end = _skip_spaces(text, m.end())
        out.append(_tweet_removal(text, start, end))
        floor = end
    return out


def _tweet_removal(text: str, start: int, end: int) -> Replacement:
    """Remove ``text[start:end]`` and keep the text around it apart: a line break where
    the tweet stood between two lines' worth of text, a space inside a line."""
    line_start = text.rfind("\n", 0, start) + 1
    text_before = bool(text[line_start:start].strip())
    text_after = end < len(text) and text[end] != "\n"
    if not text_before and not text_after and end < len(text):
        end += 1  # whole lines: their line break goes too
    sep = ""
    if text_before and text_after:
        sep = "\n" if "\n" in text[start:end] else (" " if not text[start - 1].isspace() else "")
    return Replacement(start, end, sep, "embedded tweet")


def _tweet_links(text: str) -> list[Replacement]:
    """Links to tweets and their pictures left outside a tweet (meaningless off Twitter)."""
    out = []
    for m in _BARE_TWEET_LINK.finditer(text):
        start, end = m.start(), m.end()
        if start > 0 and text[start - 1] == " ":
            start -= 1
        elif end < len(text) and text[end] == " ":
            end += 1
        out.append(Replacement(start, end, "", "tweet link"))
    return out


_BARE_TWEET_LINK = re.compile(r"(?:https?://)?pic\.twitter\.com/\w{4,30}|https?://t\.co/\w{4,30}")


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


TWEET_MODES = ("all", "embedded", "keep")


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


def remove_embeds_and_explain(text: str, *, tweets: str = "all") -> tuple[str, list[Edit]]:
    """Remove embeds and page furniture, and say what each removal was.

    ``tweets="all"`` (the default) removes every embedded tweet and the links to
    tweets left outside one; ``"embedded"`` only tweets in their ``> `` quoted embed
    form, keeping tweets rendered as plain paragraphs (as an article quoting them
    shows them); ``"keep"`` no tweet.  A text is never emptied: when everything in it
    is furniture it comes back unchanged.

    >>> t = ("The company said it would wait.\\n\\n"
    ...      "> Microsoft president says the company will not sell the tools []\\n\\n"
    ...      "\\u2014 Washington Post Live (@postlive) June 11, 2020\\n\\n"
    ...      "Advertisement\\n\\nIBM went further.")
    >>> remove_embeds_and_explain(t)[0]
    'The company said it would wait.\\n\\n\\n\\nIBM went further.'
    >>> print(remove_embeds_and_explain("He lit a match. . @SpeakerRyan says he voted https://t.co/VyTT49YvoE\\n"
    ...                                 "\\u2014 ABC News Politics (@ABCPolitics) November 5, 2016\\nThe party cheered.")[0])
    He lit a match. 
    The party cheered.
    >>> remove_embeds_and_explain("He said on Twitter that he would resign.")
    ('He said on Twitter that he would resign.', [])
    """
    if tweets not in TWEET_MODES:
        raise ValueError(f"tweets must be one of {TWEET_MODES}, not {tweets!r}")

    def embeds(text: str) -> list[Replacement]:
        blocks = _blocks(text)
        reps = _quoted_tweets(text, blocks) if tweets != "keep" else []
        if tweets == "all":
            reps += _plain_tweets(text)
        return reps + _furniture_replacements(text, blocks)

    def links(text: str) -> list[Replacement]:
        return _tweet_links(text) if tweets == "all" and ("twitter.com" in text or "t.co/" in text) else []

    out, edits = apply_passes(text, STAGE, (embeds, links))
    if edits and not _has_words(out) and _has_words(text):
        return text, []  # all furniture: better kept than an empty record
    return out, edits


def remove_embeds(text: str, *, tweets: str = "all") -> str:
    """Remove embedded tweets, social embeds and page furniture.

    >>> remove_embeds("Police said the road was closed.\\nShare this article\\nIt reopened on Monday.")
    'Police said the road was closed.\\nIt reopened on Monday.'
    """
    return remove_embeds_and_explain(text, tweets=tweets)[0]


# ---------------------------------------------------------------- how much text is left

DEFAULT_MIN_KEEP = 0.5


def kept_share(before: str, after: str) -> float:
    """The share of a text's letters and digits that cleaning left in it.

    Removal stages (embeds, site boilerplate) may cut a record down a lot when most of
    it was a tweet or page furniture; a caller flags such a record instead of passing
    it on silently.  Repairs put letters back (``caf?`` -> ``café``), so the share is
    capped at 1.0; a text without letters or digits keeps all of them.

    >>> kept_share("Keep. Drop.", "Keep.")
    0.5
    >>> kept_share("", "")
    1.0
    """
    total = _letters_and_digits(before)
    if total == 0:
        return 1.0
    return min(1.0, _letters_and_digits(after) / total)


_ASCII_SIGNS = bytes(b for b in range(128) if not chr(b).isalnum())


def _letters_and_digits(text: str) -> int:
    """``sum(c.isalnum() for c in text)``, ten times faster on news text: the ASCII
    part counted as bytes, only the other characters one by one.

    >>> _letters_and_digits("Café — 2 “x”")
    6
    """
    ascii_part = text.encode("ascii", "ignore")
    count = len(ascii_part.translate(None, _ASCII_SIGNS))
    if len(ascii_part) < len(text):
        import numpy as np

        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        others = codes[codes > 127].tobytes().decode("utf-32-le", "surrogatepass")
        count += sum(map(str.isalnum, others))
    return count


def lost_most_text(before: str, after: str, min_keep: float = DEFAULT_MIN_KEEP) -> bool:
    """Did cleaning leave less than ``min_keep`` of the text's letters and digits?

    >>> lost_most_text("Advertisement. The council met on Monday.", "The council met on Monday.")
    False
    >>> lost_most_text("Some words. " + "Share this on Facebook. " * 5, "Some words.")
    True
    """
    return kept_share(before, after) < min_keep
