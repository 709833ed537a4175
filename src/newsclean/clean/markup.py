"""Stage 2 — markup leftovers: entities, HTML tags, empty link brackets, markdown
links, WordPress shortcodes.

Only well-formed leftovers are touched: an entity needs its semicolon and a known
name, a tag needs a known HTML tag name, so ``AT&T``, ``x < y`` or ``<Jang Noksu>``
in prose stay as they are.  Every pattern is linear: brackets are found with plain
searches and the surrounding whitespace is measured by hand, never by a regex
that could backtrack over a long run of spaces.
"""
from __future__ import annotations

import html
import re
from html.entities import html5

from ..edits import Edit, Replacement, apply_passes, apply_replacements

STAGE = "markup"

# ---------------------------------------------------------------- entities

# A chain of "&amp;" (double escaping) followed by one entity; the chain is folded
# in the same edit so that the result never forms a new entity (idempotence).
_ENTITY = re.compile(
    r"&(?:amp;|#0*38;|#[xX]0*26;)*"
    r"(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)"
)
_ENTITY_TAIL = re.compile(r"(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)$")


def _decode_entity(m: re.Match) -> str | None:
    tail = _ENTITY_TAIL.search(m.group(0))
    if tail is None:
        return None
    ent = tail.group(1)
    if not ent.startswith("#") and ent not in html5:
        return None
    value = html.unescape("&" + ent)
    if value == "&" + ent or value == "\ufffd" or any(
        ord(c) < 32 and c not in "\t\n\r" for c in value
    ):
        return None
    return value


def _entity_replacements(text: str) -> list[Replacement]:
    if "&" not in text:
        return []
    out = []
    for m in _ENTITY.finditer(text):
        value = _decode_entity(m)
        if value is not None:
            out.append(Replacement(m.start(), m.end(), value, "html entity"))
    return out


def decode_entities(text: str) -> str:
    """Decode well-formed HTML entities, including double-escaped ones.

    >>> decode_entities("Trump&#8217;s &amp;amp; AT&T&nbsp;deal")
    'Trump’s & AT&T\\xa0deal'
    >>> decode_entities("R&D; &foo; stays")
    'R&D; &foo; stays'
    """
    return apply_replacements(text, STAGE, _entity_replacements(text))[0]


# ---------------------------------------------------------------- tags

_BLOCK_TAGS = (
    "p|div|br|li|ul|ol|h[1-6]|blockquote|tr|table|tbody|thead|section|article|header|footer|"
    "figure|hr|dl|dt|dd|main|aside|nav|pre"
)
_INLINE_TAGS = (
    "a|span|b|i|u|em|strong|small|sup|sub|font|center|mark|cite|q|abbr|code|ins|del|s|strike|"
    "big|time|label|img|picture|source|td|th|meta|link|input|button|wbr|nobr|tt"
)
_TAG = re.compile(
    rf"</?(?:(?P<block>{_BLOCK_TAGS})|(?P<inline>{_INLINE_TAGS}))"
    r"(?:\s[^<>]{0,2000}?)?\s*/?>",
    re.IGNORECASE,
)
_COMMENT_OPEN = "<!--"
# Elements whose content is never article text.
_DROP_ELEMENTS = ("script", "style", "noscript", "iframe", "figcaption", "svg", "form", "template")
_DROP_OPEN = re.compile(r"<(" + "|".join(_DROP_ELEMENTS) + r")\b[^<>]{0,2000}>", re.IGNORECASE)


def _dropped_elements(text: str) -> list[Replacement]:
    out = []
    lower = None
    for m in _DROP_OPEN.finditer(text):
        if lower is None:
            lower = text.lower()
        close = f"</{m.group(1).lower()}>"
        end = lower.find(close, m.end())
        if end < 0:
            continue
        out.append(Replacement(m.start(), end + len(close), "", f"<{m.group(1).lower()}> element"))
    pos = 0
    while True:
        start = text.find(_COMMENT_OPEN, pos)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(Replacement(start, end + 3, "", "html comment"))
        pos = end + 3
    return out


def _tag_replacements(text: str) -> list[Replacement]:
    if "<" not in text:
        return []
    out = _dropped_elements(text)
    for m in _TAG.finditer(text):
        if m.group("block"):
            name = m.group("block").lower()
            out.append(Replacement(m.start(), m.end(), "\n" if name == "br" else "\n\n", "html tag"))
        else:
            out.append(Replacement(m.start(), m.end(), "", "html tag"))
    return out


# ---------------------------------------------------------------- whole HTML documents

_DOCUMENT_START = re.compile(r"<(?:!doctype|html|head|body)\b", re.IGNORECASE)
_HTML_BLOCKS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote tr table tbody thead section article header footer "
    "figure hr dl dt dd main aside nav pre title".split()
)
_HTML_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "head", "form", "figcaption")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")


def _looks_like_html_document(text: str) -> bool:
    """A page rather than text with leftovers: a document start, or tag-dense text."""
    if _DOCUMENT_START.search(text, 0, 4000):
        return True
    if text.count("<") < 20:
        return False
    tags = _TAG.findall(text)
    return len(tags) >= 20 and len(tags) * 12 >= len(text) * 0.1


def html_to_text(text: str) -> str | None:
    """The readable text of an HTML page: paragraphs for block elements, no scripts.

    Uses beautifulsoup4 with the standard library's parser.  Returns None when the
    page cannot be parsed (then the leftover patterns below still apply).

    >>> html_to_text("<html><body><h1>Title</h1><p>One &amp; <b>two</b>.</p><script>x()</script></body></html>")
    'Title\\n\\nOne & two.'
    """
    try:
        from bs4 import BeautifulSoup, NavigableString, Tag
        from bs4.element import Comment, Doctype, ProcessingInstruction

        soup = BeautifulSoup(text, "html.parser")
        parts: list[str] = []
        for node in soup.descendants:
            if isinstance(node, (Comment, Doctype, ProcessingInstruction)):
                continue
            if isinstance(node, NavigableString):
                if any(p.name in _HTML_DROP for p in node.parents if isinstance(p, Tag)):
                    continue
                parts.append(_HTML_SPACE.sub(" ", str(node)))
            elif isinstance(node, Tag) and node.name in _HTML_BLOCKS:
                parts.append("\n" if node.name == "br" else "\n\n")
        out = "".join(parts)
    except (RecursionError, ValueError, AssertionError):
        return None
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", out))
    lines = "\n\n".join(p for p in paragraphs if p)
    return lines


# ---------------------------------------------------------------- brackets

_EMPTY_LINK = re.compile(r"\[ ?\]")
_WS = " \t\n\r\u00a0"


def _joined_space(left: str, right: str, at_edge: bool) -> str:
    """The whitespace that should stand where ``left [] right`` whitespace was."""
    if at_edge:
        return ""
    if "\n\n" in left or "\n\n" in right or ("\n" in left and "\n" in right):
        return "\n\n"
    if "\n" in right:
        return "\n"
    if left or right:
        return " "
    return ""


def _empty_link_replacements(text: str) -> list[Replacement]:
    if "[" not in text:
        return []
    out = []
    n = len(text)
    pos = 0
    for m in _EMPTY_LINK.finditer(text):
        if m.start() < pos:
            continue
        # Absorb a run of brackets separated by whitespace: "[] []".
        end = m.end()
        while True:
            j = end
            while j < n and text[j] in _WS:
                j += 1
            nxt = _EMPTY_LINK.match(text, j)
            if nxt is None:
                break
            end = nxt.end()
        # Markdown "[](url)": an empty link with its target.
        if end < n and text[end] == "(":
            close = text.find(")", end, end + 2000)
            if close > 0 and " " not in text[end:close] and "\n" not in text[end:close]:
                end = close + 1
        start = m.start()
        i = start
        while i > pos and text[i - 1] in _WS:
            i -= 1
        j = end
        while j < n and text[j] in _WS:
            j += 1
        left, right = text[i:start], text[end:j]
        at_edge = i == 0 or j == n
        # Keep the word-space before punctuation out: "word [] ." -> "word."
        joined = _joined_space(left, right, at_edge)
        if not right and j < n and text[j] in ".,;:!?)":
            joined = ""
        out.append(Replacement(i, j, joined, "empty link"))
        pos = j
    return out


_MD_LINK = re.compile(r"(!?)\[([^\[\]\n]{1,300})\]\(((?:https?://|www\.|/)[^()\s]{0,2000})\)")


def _markdown_replacements(text: str) -> list[Replacement]:
    if "](" not in text:
        return []
    out = []
    for m in _MD_LINK.finditer(text):
        keep = "" if m.group(1) else m.group(2)
        out.append(Replacement(m.start(), m.end(), keep, "markdown image" if m.group(1) else "markdown link"))
    return out


_SHORTCODE_NAMES = (
    r"caption|wp_caption|embed|video|audio|gallery|playlist|tweet|twitter|instagram|youtube|"
    r"facebook|vimeo|soundcloud|ad|ads|adsense|advert|related|contact-form(?:-7)?|"
    r"vc_[a-z_]+|et_pb_[a-z_]+|su_[a-z_]+|fusion_[a-z_]+|dropcap|button|pullquote|"
    r"newsletter|mailchimp|mc4wp_form|sharethis|social_share|toc"
)
_SHORTCODE = re.compile(rf"\[(/?)({_SHORTCODE_NAMES})\b([^\[\]\n]{{0,500}})\]", re.IGNORECASE)
# Shortcodes whose enclosed content is not article text either.
_DROP_SHORTCODE_CONTENT = {
    "caption", "wp_caption", "embed", "video", "audio", "gallery", "playlist", "tweet", "twitter",
    "instagram", "youtube", "facebook", "vimeo", "soundcloud", "ad", "ads", "adsense", "advert",
    "related", "newsletter", "mailchimp", "sharethis", "social_share", "pullquote",
}


def _shortcode_replacements(text: str) -> list[Replacement]:
    if "[" not in text:
        return []
    out = []
    pos = 0
    lower = None
    for m in _SHORTCODE.finditer(text):
        if m.start() < pos:
            continue
        name = m.group(2).lower()
        end = m.end()
        if not m.group(1) and name in _DROP_SHORTCODE_CONTENT:
            if lower is None:
                lower = text.lower()
            close = lower.find(f"[/{name}]", m.end(), m.end() + 20_000)
            if close >= 0:
                end = close + len(name) + 3
        out.append(Replacement(m.start(), end, "", "shortcode"))
        pos = end
    return out


# ---------------------------------------------------------------- stage


def _has_markup(text: str) -> bool:
    return "&" in text or "<" in text or "[" in text


def strip_markup_and_explain(text: str) -> tuple[str, list[Edit]]:
    """Remove markup leftovers and say what went.

    >>> strip_markup_and_explain("with the\\nWashington Post\\n[] Thursday")[0]
    'with the\\nWashington Post Thursday'
    >>> strip_markup_and_explain("<p>It&#8217;s <a href='/x'>here</a>.</p>")[0]
    '\\n\\nIt’s here.\\n\\n'
    >>> strip_markup_and_explain("See [the report](https://example.com/r) [sic].")[0]
    'See the report [sic].'
    """
    if not _has_markup(text):
        return text, []
    edits: list[Edit] = []
    if "<" in text and _looks_like_html_document(text):
        page_text = html_to_text(text)
        if page_text is not None:
            text, e = apply_replacements(text, STAGE, [Replacement(0, len(text), page_text, "html document")])
            edits += e
    # Entities first: "&lt;p&gt;" becomes a tag that the next pass removes, so a
    # second run has nothing left to do.
    passes = (
        _entity_replacements,
        lambda t: _tag_replacements(t) + _shortcode_replacements(t),
        _markdown_replacements,
        _empty_link_replacements,
    )
    text, e = apply_passes(text, STAGE, passes)
    return text, edits + e


def strip_markup(text: str) -> str:
    """Remove markup leftovers.

    >>> strip_markup("Microsoft?s announcement follows [] similar statements.")
    'Microsoft?s announcement follows similar statements.'
    """
    return strip_markup_and_explain(text)[0]
