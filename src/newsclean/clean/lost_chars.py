"""Stage 3 — lost characters: put back what a lossy re-encoding turned into ``?``
or U+FFFD.

A text squeezed through ASCII with ``errors="replace"`` loses every curly quote,
apostrophe, dash, ellipsis, non-breaking space and accented letter to ``?``.  ftfy
cannot help (its issue #83): the bytes are gone.  The context usually is not:

* ``Microsoft?s``, ``doesn?t``             -> apostrophe ’ (contraction or possessive)
* ``?We will ...,? Smith said``            -> “ ... ” (quotes, paired per paragraph)
* ``? Washington Post Live (@postlive)``   -> em dash at the start of a line
* ``the player?s ? and the coach?s``       -> spaced dash, em or en by house style
* ``1990?2000``                            -> en dash between numbers
* ``caf?``, ``Weizs?cker``                 -> accented letters, from a word list
* ``has?vehemently defended?as``           -> non-breaking spaces left around links
* ``rules???and``, ``rise ??and``          -> a spaced dash set with non-breaking spaces
* ``?He said, ?Is it?? I left.??``        -> “ ‘ ’ ”: quotes read as brackets, nested

The text's own typing is evidence too: a text that typed its quotes straight
(``"only in Washington"``) lost spaces, not quotes (``report.?"This``); a spaced
hole before a lowercase word (``Germany ? insist``) shows a lost dash, and then the
text's other spaced holes are dashes; an apostrophe typed in ASCII a few words away
(``No errors? link I'm``) leaves a plural possessive undecided.  What a text cannot
tell, a corpus may: :class:`HouseStyleCounts` learns a site's spaced dash from its
intact records, an optional hint to :func:`restore_lost_characters`.

A ``?`` is only ever touched in a text that shows this damage unambiguously (an
apostrophe hole such as ``it?s``, a quote hole such as `` ?We``), and real question
marks are kept: ``Why? Because`` stays, ``?Why?? he asked`` becomes ``“Why?” he
asked``, ``sign up???``, a spaced `` ? `` in tokenised text (``See ?``) or in typed
text before a capital (``insane ? Surely``), one ending a sentence that asks
(``Didn?t he supply a list? ? ASSANGE :``) and ``story ? id=42`` stay.  U+FFFD is
always damage, so it is restored wherever the context allows.

Nothing is invented: a currency sign only where the text names that money (or its
country, for an amount shaped like money) and no later hole could close a quote
opened there; an accented letter never between two common words (``do?an`` is
``do—an``, not ``doğan``); a hole inside a word (``Qur?an``, ``Mu?awiyah``) is an
apostrophe, never a dash, and two holes in one word that no word list fills are
left.  A wrong guess is worse than a hole left as ``?``.
"""
from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..edits import Edit, Replacement, apply_replacements
from . import wordlist

STAGE = "lost_chars"

FFFD = "\ufffd"
APOS, LSQUO = "\u2019", "\u2018"
LDQUO, RDQUO = "\u201c", "\u201d"
EM, EN, ELLIPSIS, NBSP = "\u2014", "\u2013", "\u2026", "\u00a0"

# ---------------------------------------------------------------- evidence

# Holes that a real question mark never makes in running text.  Each pattern is
# a fixed-width look at one "?" so the search is linear.
_CONTRACTION_TAIL = re.compile(r"(?:s|t|re|ve|ll|d|m)(?![A-Za-z])")
_TOKEN_SUFFIX = re.compile(r"(?:s|re|ve|ll|d|m)(?=[ \t\n,.;:!?)]|$)")
_URL_MARKERS = ("://", "www.", ".php", ".asp", ".htm", "=", "&", "/")


_MAX_TOKEN_HOLES = 8  # a real word loses a few letters ("Bj?rk?s"), not dozens


@functools.lru_cache(maxsize=8)
def _crowded_token(lost: str) -> re.Pattern[str]:
    """A whole token holding more than ``_MAX_TOKEN_HOLES`` of ``lost``, from its start."""
    c = re.escape(lost)
    return re.compile(rf"(?<!\S)(?:[^\s{c}]*{c}){{{_MAX_TOKEN_HOLES + 1}}}\S*")


def _drop_crowded(text: str, lost: str, holes: list[int]) -> list[int]:
    """Holes outside tokens holding more than ``_MAX_TOKEN_HOLES`` of them: such a token
    is not a damaged word (and restoring it hole by hole would cost seconds)."""
    crowded = _TokenSpans(text, _crowded_token(lost))
    return [i for i in holes if i not in crowded] if crowded.starts else holes


class _TokenSpans:
    """Which positions of a text fall inside a whitespace-delimited token that ``pattern``
    matches whole.  The tokens are found once per text (a scan out from every ``?`` would
    cost the token's length per hole: quadratic in a long run of ``a?a?a?...``)."""

    def __init__(self, text: str, pattern: re.Pattern[str]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for m in pattern.finditer(text):
            self.starts.append(m.start())
            self.ends.append(m.end())

    def __contains__(self, i: int) -> bool:
        k = bisect.bisect_right(self.starts, i) - 1
        return k >= 0 and i < self.ends[k]


# a whole token with a marker in it, matched from the token's start (so each token is
# read once: linear), by the regex engine rather than a test of every token in Python
# (a third of the time of cleaning a lossy text went to that test)
_URL_TOKEN = re.compile(r"(?<!\S)\S*?(?:" + "|".join(map(re.escape, _URL_MARKERS)) + r")\S*")


def _url_spans(text: str) -> _TokenSpans:
    """Tokens that look like links: a ``?`` there is a query string, not a hole.

    >>> t = "See https://x.com/a?b=1 or www.y.org? Why? a=b"
    >>> [t[a:b] for a, b in zip(_url_spans(t).starts, _url_spans(t).ends)]
    ['https://x.com/a?b=1', 'www.y.org?', 'a=b']
    """
    return _TokenSpans(text, _URL_TOKEN)


def looks_lossy(text: str) -> bool:
    """Does this text show ``?`` holes that only a lossy re-encoding makes?

    >>> looks_lossy("Microsoft?s announcement follows")
    True
    >>> looks_lossy("Why? Because it works. Is it? Yes.")
    False
    >>> looks_lossy("See https://example.com/search?q=news&s=1 for more")
    False
    """
    if "?" not in text:
        return False
    links = _url_spans(text) if "/" in text or "=" in text or "www" in text else ()
    tokenised = typed = None
    weak = 0
    i = text.find("?")
    while i >= 0:
        kind = _hole_kind(text, i)
        if kind is not None and i not in links:
            if kind == "strong":
                return True
            if kind == "spaced":
                if tokenised is None:
                    tokenised, typed = is_tokenised(text), bool(_ASCII_APOSTROPHE.search(text))
                # "See ? Slightly" in tokenised text, "insane ? Surely" in typed text
                # (apostrophes in ASCII): question marks, not dashes
                at_line_start = i == 0 or text[i - 1] == "\n"
                if not tokenised and _spaced_dash_before_lowercase(text, i):
                    return True  # "at the talks ? insist on": no question goes on in lowercase
                question = tokenised or (typed and text[i + 2 : i + 3].isupper())
                kind = "weak" if at_line_start or not question else None
            weak += kind == "weak"
            if weak >= 2:
                return True
        i = text.find("?", i + 1)
    return False


# a plain lowercase word (not the "pic" of pic.twitter.com), as a whole token
_PLAIN_LOWER_WORD = re.compile(r"[a-z]+(?:[,;:!)]|\.(?!\w))?(?=\s|$)")


def _spaced_dash_before_lowercase(text: str, i: int) -> bool:
    """Is the spaced hole at ``i`` between a word and a plain lowercase word (``Germany ?
    insist on``)?  Outside tokenised text a question mark is not spaced before the sentence
    goes on in lowercase: the hole is a lost dash."""
    return text[i - 2 : i - 1].isalnum() and _PLAIN_LOWER_WORD.match(text, i + 2) is not None


def _is_ascii_letter(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _hole_kind(text: str, i: int) -> str | None:
    """``strong`` for an apostrophe hole (``it?s``), ``weak`` for other holes a real
    question mark does not make, ``spaced`` for a spaced ``?`` (a dash, unless the text
    is tokenised), None for what may be a question mark."""
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if _is_ascii_letter(before) and _CONTRACTION_TAIL.match(text, i + 1):
        return "strong"
    if (before == "" or before.isspace() or before == "(") and _is_ascii_letter(after):
        if _TOKEN_SUFFIX.match(text, i + 1):
            return "strong"  # tokenised possessive or contraction: "Senate ?s plenary"
        return "weak"  # opening quote: " ?We"
    if before == "," and _is_ascii_letter(after):
        return "strong"  # "Herzegovina,?Estonia": no question mark follows a comma
    if "a" <= before <= "z" and "a" <= after <= "z":
        return "weak"  # inside a word, or a dash between words
    if before and before in ".,!" and (after == "" or after.isspace()):
        return "weak"  # closing quote after punctuation: "rights,? Smith"
    if (before == "" or before.isspace()) and after in (" ", "\t") and text[i + 2 : i + 3].strip():
        return "spaced"  # spaced dash, or "? Name" at a line start
    return None


# ---------------------------------------------------------------- doc style

# One pass over the text counts every kind of house-style evidence (a group each).
_STYLE_EVIDENCE = re.compile(
    r"\b(?:"
    r"(?P<british>colour|favourite|honour|labour|neighbour|behaviour|organis\w*|realis\w*|recognis\w*|"
    r"apologis\w*|criticis\w*|centre|theatre|programme|whilst|travelled|cancelled|defence|"
    r"licence|tyres?|per cent|grey|(?:Mr|Mrs|Dr)(?![.\w]))"
    r"|(?P<american>color|favorite|honor|labor|neighbor|behavior|organiz\w*|realiz\w*|recogniz\w*|"
    r"apologiz\w*|criticiz\w*|center|theater|program|traveled|canceled|defense|percent|gray|"
    r"(?:Mr|Mrs|Dr|Sen|Rep|Gov)(?=\.))"
    r"|(?P<pounds>[Pp]ounds?|[Ss]terling|Britain|British|UK|London|England|Scotland)"
    r"|(?P<euros>[Ee]uros?|[Ee]urozone|Europe|Germany|France|Italy|Spain|Brussels)"
    r")\b"
)
_WIRE_DATELINE = re.compile(r"\((?:AP|Reuters|AFP|CNN|UPI)\)")
_ASCII_APOSTROPHE = re.compile(r"[A-Za-z]'[A-Za-z]")
_FUNCTION_WORDS = frozenset(
    "a an the of on in at to for with by from into onto about as and or but nor "
    "has have had is was are were be been its their his her our my your this that these those".split()
)


_STYLE_SAMPLE = 300_000  # house style is a property of the text: a sample of it decides
_CURRENCY_NAMES = re.compile(
    r"\b(?:(?P<pounds>pounds?|sterling|pence|gbp)|(?P<euros>euros?|eurozone|eur))\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class HouseStyle:
    """What a site's intact records show of its typesetting, for restoring its damaged
    ones: the spaced dash it sets (`` – `` or `` — ``), None when they do not tell.  A
    text alone rarely tells (both dashes stand in the same places); a site sets one."""

    spaced_dash: str | None = None

    @classmethod
    def learn(cls, texts: Iterable[str]) -> HouseStyle:
        """The style of a site from some of its texts.

        >>> HouseStyle.learn(["a – b – c", "d – e"]).spaced_dash == EN
        True
        >>> HouseStyle.learn(["a – b", "c — d"]).spaced_dash is None
        True
        """
        counts = HouseStyleCounts()
        for text in texts:
            counts.add("", text)
        return counts.style("")


_SPACED_DASH = re.compile(f"(?<=\\S) ([{EN}{EM}]) (?=\\S)")
_MIN_DASHES, _MIN_SHARE = 3, 0.75  # a site's style: three dashes at least, three in four alike


@dataclass
class HouseStyleCounts:
    """Spaced dashes counted per site over a corpus (one pass, mergeable with ``+``),
    for :meth:`style`.  A damaged text adds nothing: its dashes are holes."""

    dashes: dict[str, Counter] = field(default_factory=dict)

    def add(self, site: str, text: str) -> None:
        found = Counter(m.group(1) for m in _SPACED_DASH.finditer(text, 0, _STYLE_SAMPLE))
        if found:
            self.dashes.setdefault(site, Counter()).update(found)

    def __add__(self, other: HouseStyleCounts) -> HouseStyleCounts:
        out = HouseStyleCounts({site: Counter(c) for site, c in self.dashes.items()})
        for site, c in other.dashes.items():
            out.dashes.setdefault(site, Counter()).update(c)
        return out

    def style(self, site: str) -> HouseStyle:
        found = self.dashes.get(site, Counter())
        total = sum(found.values())
        for dash in (EN, EM):
            if total >= _MIN_DASHES and found[dash] >= _MIN_SHARE * total:
                return HouseStyle(dash)
        return HouseStyle()


def _sampled(text: str, holes: list[int]) -> tuple[str, list[int]]:
    """House style is a property of the text: a sample of it decides."""
    text = text[:_STYLE_SAMPLE]
    return text, holes[: bisect.bisect_left(holes, len(text))][:5000]


def _spaced_dash(text: str, holes: list[int], house: HouseStyle | None = None) -> str:
    """The dash a spaced hole stands for: what the site sets, else the text's evidence."""
    if house is not None and house.spaced_dash:
        return house.spaced_dash  # what the site's own records set, over a guess
    text, holes = _sampled(text, holes)
    evidence = dict.fromkeys(("british", "american", "pounds", "euros"), 0)
    for m in _STYLE_EVIDENCE.finditer(text):
        evidence[m.lastgroup] += 1  # type: ignore[index]
    british = evidence["british"]
    american = evidence["american"] + 2 * len(_WIRE_DATELINE.findall(text))
    # American house styles (AP, Chicago) use the em dash; British, European and
    # most blog and press-release styles the spaced en dash.  A text whose
    # apostrophes survived as ASCII was typed without a typographer, and people
    # who type dashes by hand type em dashes.  Without such evidence, en.
    typed = len(_ASCII_APOSTROPHE.findall(text)) > _apostrophe_holes(text, holes)
    return EM if (american - british >= 2 or typed) else EN


def _currency(text: str) -> tuple[str, bool]:
    """The currency sign a lost character before an amount may be, and whether the text
    names that money: ``("£", True)`` for a text about pounds, ``("£", False)`` for one
    about Britain (then only amounts shaped like money take it: ``?10bn``, ``?23.99``),
    ``("", False)`` when the text gives no sign of either."""
    text = text[:_STYLE_SAMPLE]
    money = Counter(m.lastgroup for m in _CURRENCY_NAMES.finditer(text))
    country = Counter(m.lastgroup for m in _STYLE_EVIDENCE.finditer(text))
    pounds, euros = money["pounds"] or country["pounds"], money["euros"] or country["euros"]
    return ("\u20ac" if euros > pounds else "\u00a3" if pounds else ""), bool(money)


def _apostrophe_holes(text: str, holes: list[int]) -> int:
    return sum(1 for i in holes if i > 0 and _is_ascii_letter(text[i - 1]) and _CONTRACTION_TAIL.match(text, i + 1))


def _typed(text: str, holes: list[int]) -> bool:
    """Were the text's apostrophes typed in ASCII, with none lost (``It's`` and no
    ``it?s``)?  Then its holes are no apostrophes and its ``?`` may be questions."""
    return _ASCII_APOSTROPHE.search(text[:_STYLE_SAMPLE]) is not None and _apostrophe_holes(text, holes[:5000]) == 0


def _word_gap(text: str, holes: list[int]) -> str:
    """What an unspaced hole between two words is in this text.  A dash never follows
    an article or a preposition ("A?February", "on?some"), nor a comma (",?one"),
    while the non-breaking spaces a page put around its links sit anywhere; holes
    chained through one word ("over?the?top") are compounds and tell neither."""
    gaps = non_breaking = 0
    for i in holes:
        if not (0 < i < len(text) - 1 and text[i + 1].isalpha()):
            continue
        if text[i - 1] in ",;":
            non_breaking += 1
            continue
        if not text[i - 1].isalpha():
            continue
        j = i
        while j > 0 and i - j < _MAX_WORD and text[j - 1].isalpha():
            j -= 1
        k = i + 1
        while k < len(text) and k - i < _MAX_WORD and text[k].isalpha():
            k += 1
        left, right = text[j:i], text[i + 1 : k]
        if right.lower() in _SUFFIXES or wordlist.accented_word(left + wordlist.LOST + right):
            continue
        if text[j - 1 : j] == text[i] or text[k : k + 1] == text[i]:
            continue  # chained
        gaps += 1
        non_breaking += left.lower() in _FUNCTION_WORDS or left == "I"
    return NBSP if non_breaking and non_breaking >= 0.08 * gaps else EM


def _two_spaces(text: str, holes: list[int]) -> bool:
    """Does the text end its sentences with a non-breaking space and a space (``right.?
    Mr.``)?  It does when such holes outnumber twice the quotes that could close there."""
    after_sentence = opening = 0
    for i in holes:
        before, after = text[i - 1 : i], text[i + 1 : i + 3]
        if before and before in ".!?" and after[:1] == " " and after[1:].isupper():
            after_sentence += 1
        elif (i == 0 or text[i - 1].isspace()) and after[:1].isalpha():
            opening += 1
    return after_sentence >= 3 and after_sentence > 2 * opening


_TOKENISED = re.compile(r" (?:[,.;:!?)]|'s|n't|'re|'ve|'ll|'d|'m)(?= |\n|$)")


def is_tokenised(text: str, sample: int = 20_000) -> bool:
    """Is the text tokenised (``It 's about time , right ?``), as NLP corpora keep it?

    >>> is_tokenised("It 's about time , right ? They are n't sure .")
    True
    >>> is_tokenised("It's about time, right? They aren't sure.")
    False
    """
    text = text[:sample]
    if " , " not in text and " ." not in text:
        return False  # no tokenised text is without them
    marks = len(_TOKENISED.findall(text))
    return marks >= 3 and marks >= 0.04 * text.count(" ")


# ---------------------------------------------------------------- language

# ASCII-only function words (accents are what is lost), chosen to be distinctive.
_STOPWORDS = {
    "en": "the of and to is that for it with was on by this are from have at not they which you his her".split(),
    "it": "il di che della per non una sono anche gli nel alla con del questo come dei delle nella lo ma ha".split(),
    "pt": "que os uma para com nos mais pelo pela ao dos das como mas ou seu sua foi tem ser muito isso em".split(),
    "es": "el los las que del por una con para como pero sus es muy en lo al le y un se".split(),
    "fr": "le les des est une pour dans pas qui sur avec sont ce ces aux du au et il elle nous vous ne par".split(),
    "de": "der die das und ist nicht mit sich auch ein eine dem den von zu auf im sie wir ich wird bei nach".split(),
    "nl": "het een van en op dat niet met voor zijn aan ook er maar om als bij nog wel te".split(),
}
_STOP_INDEX: dict[str, list[str]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in _words:
        _STOP_INDEX.setdefault(_w, []).append(_lang)
_WORD = re.compile(r"[A-Za-z]+")
# Elided articles and prepositions before a vowel: l’originale, d’ingresso, qu’il.
_ELISIONS_BEFORE_VOWEL = {
    "it": {"l", "d", "c", "un", "all", "dell", "dall", "nell", "sull", "quest", "quell", "gl", "m", "t", "s", "v"},
    "fr": {"l", "d", "c", "j", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"},
}


def detect_language(text: str, sample: int = 4000) -> str:
    """A coarse guess of the language from ASCII function words (accents may be lost).

    >>> detect_language("Il titolo della serie non ? stato annunciato, ma la data di uscita ? una "
    ...                 "delle notizie che gli appassionati aspettano con ansia anche per il remake del film")
    'it'
    >>> detect_language("The council said that it would meet on Tuesday")
    'en'
    """
    counts = dict.fromkeys(_STOPWORDS, 0)
    words = Counter(_WORD.findall(text[:sample].lower()))
    n = sum(words.values())
    for word, langs in _STOP_INDEX.items():
        k = words.get(word)
        if k:
            for lang in langs:
                counts[lang] += k
    best = max(counts, key=lambda k: counts[k])
    if best != "en" and counts[best] >= 8 and counts[best] > 1.1 * counts["en"] and counts[best] >= 0.06 * n:
        return best
    return "en"


# ---------------------------------------------------------------- classification

_SUFFIXES = frozenset({"s", "t", "re", "ve", "ll", "d", "m"})
# Every look around a hole is bounded: a "word" longer than this is no word, and
# bounding keeps the stage linear on adversarial runs such as "a?a?a?...".
_MAX_WORD = 48
_ELISIONS = frozenset({"em", "til", "cause", "n", "tis", "twas", "bout", "round", "nother"})
_OPENERS = set(" \t\n\r([{/\u2014\u2013-" + LDQUO + LSQUO + NBSP)
_CLOSING_PUNCT = set(".,!?;:)" + APOS + RDQUO + ELLIPSIS)


def _word_around(text: str, i: int, lost: str) -> tuple[int, int]:
    """Span of the letters-and-holes token containing position ``i``."""
    a = i
    while a > 0 and i - a < _MAX_WORD and (text[a - 1].isalpha() or text[a - 1] == lost):
        a -= 1
    b = i + 1
    while b < len(text) and b - i < _MAX_WORD and (text[b].isalpha() or text[b] == lost):
        b += 1
    return a, b


_BLANK = frozenset({"", " ", "\n", "\t", "\r"})
_UNIT = re.compile(
    r"(?:million|billion|trillion|thousand|percent|per cent|pc|years?|months?|weeks?|days?|hours?|minutes?|"
    r"seconds?|[ap]\.?m\b|kg|km|mph|miles?|feet|metres?|meters?|points?|pounds|dollars|euros)\b"
)
# "in ’14.", "the class of ’98": a year's last two digits after the words that take a year
_BEFORE_A_YEAR = frozenset("in of since from until till by to before after the class summer spring autumn fall "
                           "winter back".split())
_TWO_DIGIT_YEAR = re.compile(r"\d\d(?![\d%])(?:[,;:!?)\u2019\u201d]|\.(?!\d)|$|\s(?![A-Z]))")
_QUESTION_WORDS = frozenset("why what who whom whose how where when which".split())
_AUXILIARIES = frozenset(
    "do does did is are was were can could will would should shall may might have has had am isn aren don "
    "doesn didn won wouldn".split()
)
# Words that open a sentence: "in doubt?As a former senator" is a question glued to the next sentence.
_SENTENCE_OPENERS = frozenset("as the a an it in but and if this that what when".split())
# An amount of money after a currency sign: "5m", "2.5 billion", "1,200", "40 a month".
_MONEY = re.compile(
    r"\d[\d,]*(?:\.\d+)?(?:\s?(?:m|bn|k|million|billion|trillion|thousand|a (?:month|year|week|day)|"
    r"an hour|per \w+)\b|\.\d\d\b|,\d{3}\b)"
)
# "…,” he said": who said it follows a quote of the writer's, not a quote inside a quote
_ATTRIBUTION = re.compile(
    r"\s+(?:(?:he|she|they|we|I|[A-Z][a-z]+)\s+)?(?:said|says|added|adds|asked|asks|told|wrote|writes|explained)\b"
)
# "[b]uild", "[Clinton] went": a word of a quotation changed by its editor
_EDITED_WORD = re.compile(r"\[[A-Za-z]{1,20}\]")
# "a few words away": how close the writer's own typing of an apostrophe must be to tell
_NEARBY = 80
# holes read ahead in a paragraph to pair its quotes (bounded: linear in a long paragraph)
_QUOTE_LOOKAHEAD = 64
_QUERY = re.compile(r"\w{1,30}=")
_LINK_TOKEN = re.compile(r"://|^www\.|\.(?:com|org|net|co)/|pic\.twitter\.com|^t\.co/")


def _surely_closes(before: str, after: str, lost: str) -> bool:
    """Is a hole between ``before`` and ``after`` a closing quote: after punctuation
    (``in,?`` ``here??``) or before it (``news?,``)?  A hole between a word and a space
    may be a question or an apostrophe."""
    if before in ".,!?;:" or before == lost:
        return after == "" or after.isspace() or after in ".,;:)]" + lost
    return before.isalnum() and after != "" and after in ".,;:)]"


def _inside_a_word(left: str, right: str) -> bool:
    """Are the letters on both sides of a hole one word (``c?mon``, ``Qur?an``,
    ``Mu?awiyah``) rather than two (``Today?show``, ``or?serfdom``)?  One side is
    then a fragment: a lone letter other than "a" and "I", two or three letters that
    make no word, or the short capitalised head of a name before a rare tail."""
    if (len(left) == 1 and left not in "aAI") or (len(right) == 1 and right not in "aAI"):
        return True
    if len(left) <= 3 and left.lower() not in _FUNCTION_WORDS:
        if wordlist.zipf(left) < 2.5:
            return True
        return left[0].isupper() and right.islower() and wordlist.zipf(right) < 3.0
    return False


# a headline's words before a quote: capitalised ("Calls Him A ?Thug?"), short lowercase
# words allowed between them ("Stimuli to Quell Concerns Over"), or all in capitals
_HEADLINE_BEFORE = re.compile(r"(?:(?:[A-Z][\w'’?\ufffd-]*|[a-z]{1,3}|[0-9][\w-]*) ){3,}$")
# ("the" is not among them: "The" opens many names, "told The New York Times ?We")
_HEADLINE_WORDS = (_FUNCTION_WORDS - {"the"}) | frozenset("him it he she we they over after before up out off says said".split())


def _in_headline(text: str, i: int) -> bool:
    """Does the quote opening at ``i`` stand in a headline?  Headlines quote in single
    marks, in American and British styles alike (``Calls Him A ‘Thug’``).  A headline is
    told by the words before the quote on its line, back to a sentence's end: three or
    more of them title-cased with a capitalised function word ("Has", "Over", "A") that
    prose would not capitalise mid-sentence, or all in capitals, the last one
    capitalised ("by The New York Post as the ?Deleter" is prose); and the quoted word
    capitalised too.

    >>> _in_headline("FBI Has An ?Intensive Investigation? Ongoing", 11)
    True
    >>> _in_headline("He told The New York Times ?We will win.?", 27)
    False
    """
    if not text[i + 1 : i + 2].isupper():
        return False
    start = max(text.rfind("\n", 0, i), *(text.rfind(p, 0, i) for p in (". ", "! ", "? ", ": ", "; ")))
    words = text[start + 1 : i].split()
    if len(words) < 3 or not words[-1][:1].isupper() or not _HEADLINE_BEFORE.search(" ".join(words[-6:]) + " "):
        return False
    if all(w.isupper() and len(w) > 1 for w in words[-3:]) and text[i + 1 : i + 3].isupper():
        return True
    inner = words[-6:][1:] if len(words) <= 6 else words[-6:]  # a sentence's first word is capitalised anyway
    return any(w[:1].isupper() and w.lower() in _HEADLINE_WORDS for w in inner)


class _Restorer:
    def __init__(self, text: str, lost: str, holes: list[int], wrapped: bool, house: HouseStyle | None = None):
        self.text = text
        self.house = house
        self.lost = lost
        self.lang = detect_language(text)
        self.holes = holes
        self.wrapped = wrapped
        self.out: dict[int, tuple[str, str]] = {}  # position -> (char, what)
        self.stack: list[str] = []  # open quotes in the current paragraph
        self.word_done: set[int] = set()
        self.open_at = -1
        self.last_hole = -1

    @functools.cached_property
    def currency(self) -> tuple[str, bool]:
        return _currency(self.text)

    @functools.cached_property
    def typed(self) -> bool:
        return _typed(self.text, self.holes)

    @functools.cached_property
    def tokenised(self) -> bool:
        return is_tokenised(self.text)

    @functools.cached_property
    def two_spaces(self) -> bool:
        return _two_spaces(self.text[:_STYLE_SAMPLE], self.holes[:5000])

    # Each computed on first need, apart: most holes are apostrophes and quotes.
    @functools.cached_property
    def spaced_dash(self) -> str:
        return _spaced_dash(self.text, self.holes, self.house)

    @functools.cached_property
    def word_gap(self) -> str:
        return _word_gap(*_sampled(self.text, self.holes))

    # -- helpers
    def char_before(self, i: int) -> str:
        if i == 0:
            return ""
        if i - 1 in self.out:
            return self.out[i - 1][0]
        return self.text[i - 1]

    def char_after(self, i: int) -> str:
        return self.text[i + 1] if i + 1 < len(self.text) else ""

    @functools.cached_property
    def _breaks(self) -> list[int]:
        """Where paragraphs end: blank lines, and every line end in unwrapped text (found
        once: a search per hole would be quadratic in one long paragraph)."""
        mark = "\n\n" if self.wrapped else "\n"
        return [m.start() for m in re.finditer(re.escape(mark), self.text)]

    def paragraph_end(self, i: int) -> int:
        k = bisect.bisect_left(self._breaks, i)
        return self._breaks[k] if k < len(self._breaks) else len(self.text)

    def later_close_in_paragraph(self, i: int) -> bool:
        """Is there another closing-quote hole after ``i`` before the paragraph ends?"""
        end = self.paragraph_end(i)
        for n in range(bisect.bisect_right(self.holes, i), len(self.holes)):
            j = self.holes[n]
            if j >= end:
                break
            prev = self.text[j - 1]
            nxt = self.text[j + 1] if j + 1 < len(self.text) else ""
            if prev in ".,!?" and (nxt == "" or nxt.isspace()):
                return True
            if prev.isspace() and nxt.isalpha():
                return False  # a new quote opens first
        return False

    def _sentence_ended_before(self, i: int) -> bool:
        # A nested quote sits in the sentence that opened the outer one; anything
        # else means the outer quote was left open and a new one starts.
        if self.open_at < 0 or i - self.open_at > 300 or re.search(r"[.!?]\s", self.text[self.open_at : i]):
            return True
        j = i - 1
        while j >= 0 and i - j < _MAX_WORD and self.text[j] in " \t(":
            j -= 1
        if j < 0:
            return True
        prev = self.out[j][0] if j in self.out else self.text[j]
        return prev in ".!?\n" + RDQUO

    def _closes_both_ahead(self, i: int) -> bool:
        """Does the paragraph ahead close the quote opening at ``i`` and the one still
        open around it (``?He said, ?Are you in?? I was afraid.??``: “ ‘ ’ ”)?  Its
        quote holes are read as brackets: both close when the depth falls to zero."""
        text, lost = self.text, self.lost
        end = self.paragraph_end(i)
        depth = 2
        n = bisect.bisect_right(self.holes, i)
        for j in self.holes[n : n + _QUOTE_LOOKAHEAD]:
            if j >= end:
                break
            before, after = text[j - 1], text[j + 1 : j + 2]
            if (before.isspace() or before in "([") and (after.isalnum() or after in ("[", lost)):
                depth += 1
            elif _surely_closes(before, after, lost):
                depth -= 1
                if depth == 1 and _ATTRIBUTION.match(text, j + 1):
                    return False  # “…,” he said: a quote of its own, not one inside another
                if depth == 0:
                    return True
        return False

    def set(self, i: int, ch: str, what: str) -> None:
        if ch in (LDQUO, LSQUO):
            self.open_at = i
        self.out[i] = (ch, what)

    def close_quote(self, i: int) -> None:
        if self.stack and self.stack[-1] == LSQUO:
            self.stack.pop()
            self.set(i, APOS, "closing single quote")
        else:
            if self.stack:
                self.stack.pop()
            self.set(i, RDQUO, "closing quote")

    def open_quote(self, i: int) -> None:
        if self.stack and self._sentence_ended_before(i) and not self._closes_both_ahead(i):
            self.stack.clear()  # the previous quote was left open: a new one starts
        if self.stack and self.stack[-1] == LDQUO or not self.stack and _in_headline(self.text, i):
            self.stack.append(LSQUO)
            self.set(i, LSQUO, "opening single quote")
        else:
            self.stack[:] = [LDQUO]
            self.set(i, LDQUO, "opening quote")

    def try_accent(self, i: int) -> bool:
        a, b = _word_around(self.text, i, self.lost)
        if i in self.word_done:
            return True
        token = self.text[a:b]
        pattern = token.replace(self.lost, wordlist.LOST)
        if len(token) < 2 or token.count(self.lost) > 4:
            return False
        found = wordlist.accented_word(pattern, self.lang)
        if found is None:
            return False
        word, z = found
        bare = token.replace(self.lost, "")
        at_end = b == i + 1
        if self.lang != "en":
            # In the text's own language: the accented word must be the likelier
            # reading (único rather than “nico, but “Il rather than èil).
            if z < 1.5 or z <= wordlist.zipf_in(bare, self.lang):
                return False
        elif at_end:
            # "Is it true?" must stay a question: only rare, non-word stems take an accent.
            if z < 2.0 or wordlist.zipf(bare) >= 3.0:
                return False
        elif z < 1.0:
            return False
        for k in range(a, b):
            if self.text[k] == self.lost:
                self.set(k, word[k - a], "accented letter")
                self.word_done.add(k)
        return True

    # -- the decision for one hole
    def restore(self, i: int) -> None:
        if i in self.word_done:
            return
        text = self.text
        L = self.char_before(i)
        R = self.char_after(i)
        # Quotes pair up within a paragraph; a new paragraph starts afresh.
        between = text[self.last_hole + 1 : i]
        if self.last_hole < 0 or "\n\n" in between or (not self.wrapped and "\n" in between):
            self.stack.clear()
        self.last_hole = i
        # U+FFFD may stand for each byte of one character: only runs of "?" are read by shape
        if R == self.lost == "?" and L != self.lost and self._hole_run(i):
            return
        if self.lost == "?" and not self.stack and text.startswith("???", i) and L != "":
            # "sign up???": a question, loudly; a run only closes quotes that are open
            k = i
            while k < len(text) and text[k] == "?":
                self.word_done.add(k)
                k += 1
            return
        if self._next_to_straight_quote(i, L, R):
            self.set(i, NBSP, "non-breaking space")
        elif L == "%" and R.isdigit() and text[i - 2 : i - 1].isdigit():
            self.set(i, EN, "en dash")  # "97%?98%": a range
        elif L.isalpha() and R.isalpha():
            self._between_letters(i)
        elif L.isalpha() or L.isdigit():
            self._after_word(i, L, R)
        elif L in _CLOSING_PUNCT and L != "":
            self._after_punctuation(i, L, R)
        elif L == "" or L in _OPENERS:
            self._before_word(i, L, R)

    def _next_to_straight_quote(self, i: int, L: str, R: str) -> bool:
        """A hole glued to a straight quote that opens after it (``report.?"This``) or closes
        before it (``comply,"?New``): no curly quote touches a straight one and no question
        mark precedes an opening quote unspaced.  It is a non-breaking space."""
        text = self.text
        if R == '"':
            return text[i + 2 : i + 3].isalpha() and (L.isalnum() or L in ".,:; ")
        return L == '"' and R.isalpha() and text[i - 2 : i - 1] in (".", ",", "!", "?")

    def _hole_run(self, i: int) -> bool:
        """A run of holes whose shape says what each one was: ``word???word`` a spaced
        dash between non-breaking spaces, `` ??and`` a spaced dash and a non-breaking
        space, ``??Item`` opening several lines a list marker (left: which one is
        unknown) and a non-breaking space."""
        text, lost = self.text, self.lost
        k = i
        while k < len(text) and text[k] == lost and k - i < 4:
            k += 1
        before = text[i - 1] if i else ""
        after = text[k] if k < len(text) else ""
        if k - i == 3 and before.isalnum() and after.isalpha():
            chars: tuple[str, ...] = (NBSP, self.spaced_dash, NBSP)
        elif k - i == 2 and before in (" ", "\t") and text[i - 2 : i - 1].isalnum() and after.islower():
            # after a word, not after a comma (``as he put it, ??a fixer``: “‘)
            chars = (self.spaced_dash, NBSP)
        elif k - i == 2 and before in ("", "\n") and after.isalpha() and self.list_markers >= 2:
            chars = ("", NBSP)
        elif k - i == 2 and before and before in ".,;:" and after.isalpha():
            # ``Shore.??She``: a closing and an opening quote never touch; a space and a quote
            self.set(i, NBSP, "non-breaking space")
            return True
        else:
            return False
        for j, ch in enumerate(chars, start=i):
            if ch:
                self.set(j, ch, "non-breaking space" if ch == NBSP else "dash")
            self.word_done.add(j)
        return True

    @functools.cached_property
    def straight_quotes(self) -> bool:
        """Did the text type its quotes and apostrophes straight, losing none of its
        apostrophes (``"only in Washington"``, ``it's``)?"""
        return self.typed and self.text.count('"', 0, _STYLE_SAMPLE) >= 2

    def _closes_ahead(self, i: int) -> bool:
        """Is there a hole after ``i`` in its paragraph shaped like a closing quote?"""
        end = self.paragraph_end(i)
        n = bisect.bisect_right(self.holes, i)
        for j in self.holes[n : n + _QUOTE_LOOKAHEAD]:
            if j >= end:
                break
            before, after = self.text[j - 1], self.text[j + 1 : j + 2]
            if (before.isalnum() or before in ".,!?") and (after == "" or not after.isalnum()):
                return True
        return False

    @functools.cached_property
    def spaced_dashes(self) -> bool:
        """Does the text show a spaced dash it lost (``Germany ? insist``)?  Then its other
        spaced holes are dashes too, even in typed text and before a capital."""
        if self.tokenised:
            return False
        text = self.text
        return any(
            text[j - 1 : j] == " " and text[j + 1 : j + 2] == " " and _spaced_dash_before_lowercase(text, j)
            for j in self.holes[:5000]
        )

    @functools.cached_property
    def list_markers(self) -> int:
        """Lines opening with two holes and a word (``??Trump said``): a bullet and its space."""
        lost = re.escape(self.lost)
        return len(re.findall(rf"(?m)^{lost}{lost}[^\W\d_]", self.text[:_STYLE_SAMPLE]))

    def _between_letters(self, i: int) -> None:
        """``it?s``, ``caf?``, ``O?Brien``, ``Today?show``, ``Qur?an``."""
        text, lost = self.text, self.lost
        a, b = _word_around(text, i, lost)
        j = i
        while j > a and text[j - 1].isalpha():
            j -= 1
        left = text[j:i]  # the letters before the hole, without a quote's hole before them
        k = i + 1
        while k < len(text) and k - i < _MAX_WORD and text[k].isalpha():
            k += 1
        right = text[i + 1 : k]
        while a < i and text[a] == lost:
            a += 1
        while b > i + 1 and text[b - 1] == lost:
            b -= 1
        if right.lower() in _SUFFIXES and (right.lower() != "t" or left.lower().endswith("n")):
            # "caf?s" is cafés (a word) rather than caf’s (caf is no word).
            accented = wordlist.accented_word(text[a:b].replace(lost, wordlist.LOST))
            if not (accented and accented[1] >= max(2.5, wordlist.zipf(left) - 0.5) and self.try_accent(i)):
                self.set(i, APOS, "apostrophe")
            return
        if len(left) == 1 and left in "ODL" and right[:1].isupper():
            self.set(i, APOS, "apostrophe")  # O’Brien, D’Angelo
            return
        if left.lower() in _ELISIONS_BEFORE_VOWEL.get(self.lang, ()) and right[:1].lower() in "aeiouh":
            self.set(i, APOS, "apostrophe")  # l’originale, qu’il
            return
        common_pair = min(len(left), len(right)) >= 2 and min(
            wordlist.zipf_in(left, self.lang), wordlist.zipf_in(right, self.lang)) >= 3.5
        if not common_pair and self.try_accent(i):
            return  # but "do?an" is two words, not Doğan
        pieces = text[a:b].split(lost)
        if len(pieces) > 2 and any(
            _inside_a_word(x, y) for x, y in zip(pieces, pieces[1:]) if x and y and y.lower() not in _SUFFIXES
        ):
            return  # "Chi?in?u": holes in one word, whose letters no list gives back
        if _inside_a_word(left, right):
            if text.count(lost, a, b) == 1:
                # A hole inside a word, in any Latin-script language, is an apostrophe
                # (Qur’an, Mu’awiyah, c’mon), never a dash; two holes in one word are
                # left: a wrong letter is worse than a hole.
                self.set(i, APOS, "apostrophe")
        elif left.islower() and left not in _FUNCTION_WORDS and right.lower() in _SENTENCE_OPENERS and (
                right[0].isupper()):
            return  # "in doubt?As a former senator": a question, then the next sentence
        elif left.lower() in _FUNCTION_WORDS or left == "I" or self.word_gap == NBSP:
            self.set(i, NBSP, "non-breaking space")  # no dash ever follows "the" or "on"
        else:
            self.set(i, EM, "dash")

    def _after_word(self, i: int, L: str, R: str) -> None:
        """A hole right after a word or a number: a closing quote, an apostrophe, a dash,
        an accented last letter, or a real question mark."""
        text, lost = self.text, self.lost
        fffd = lost == FFFD
        if L.isalpha() and self.try_accent(i):
            return
        if L.isdigit() and R.isdigit():
            self.set(i, EN, "en dash")
        elif L.isdigit() and R == "s" and not text[i + 2 : i + 3].isalpha():
            self.set(i, APOS, "apostrophe")  # the 1990’s
        elif L.isdigit() and _UNIT.match(text, i + 1):
            self.set(i, NBSP, "non-breaking space")  # "$30?million", "8?percent"
        elif R.isalpha() or (L.isalpha() and R.isdigit()) or (R in "@(" and text[i + 2 : i + 3].isalnum()):
            # "from?2010", "25?suspicious": a number and a word, joined as the text joins words;
            # so are a word and a handle or a parenthesis ("on Twitter?@name", "producers?(e.g.")
            if self.word_gap == NBSP:
                self.set(i, NBSP, "non-breaking space")
            else:
                self.set(i, EM, "dash")
        elif R == lost:
            self._question_then_hole(i)
        elif R in ("'", '"') and not fffd:
            return  # "together?'": a question closing a quote typed in ASCII
        elif R in _BLANK or R in ".,;:!)":
            self._closing_after_word(i, L, R)

    def _question_then_hole(self, i: int) -> None:
        """``Why??`` (a question, then its closing quote) or ``"happy"??`` (a scare quote
        closed, then the question the sentence asks)."""
        text, lost = self.text, self.lost
        if lost == FFFD:
            self.close_quote(i)
            return
        after = text[i + 2 : i + 3]
        if after == lost:
            return
        if self.lang != "en" or (self.stack and self._short_quote(i) and not self._quotes_a_question(i)):
            if self.stack:
                self.close_quote(i)
                self.word_done.add(i + 1)  # the real question mark

    def _closing_after_word(self, i: int, L: str, R: str) -> None:
        fffd = self.lost == FFFD
        if self.stack:
            if self.stack[-1] == LSQUO or R not in _BLANK or fffd:
                self.close_quote(i)
            elif (self._short_quote(i) or self._lowercase_follows(i)) and not self.later_close_in_paragraph(i):
                # scare quotes (the “fake news” line), and a title or a quote the sentence
                # goes on after (“The Road to Serfdom” has): no question goes on in lowercase
                self.close_quote(i)
            elif L.isalpha() and self._plural_possessive(i, R):
                self.set(i, APOS, "apostrophe")  # “…receiving veterans’ health care,” the plan says
            elif L.isalpha() and self._dropped_g_before(i):
                self.set(i, APOS, "apostrophe")  # “Takin’ It to the Streets,” the song
            return
        if R and R in ",;:.":
            self.close_quote(i)
            return
        if L.isalpha() and not self.typed:
            if self._dropped_g_before(i):
                self.set(i, APOS, "apostrophe")  # a dropped g: Takin’ It to the Streets
                return
            if self._plural_possessive(i, R):
                self.set(i, APOS, "apostrophe")  # plural possessive: players? union
                return
        if fffd:
            self.close_quote(i)

    def _after_punctuation(self, i: int, L: str, R: str) -> None:
        """``rights,? Smith`` (a closing quote), ``crowd,?one`` (a non-breaking space)."""
        fffd = self.lost == FFFD
        if L == ")" and R.isalpha() and self.word_gap == NBSP and not fffd:
            self.set(i, NBSP, "non-breaking space")  # "(for subsistence)?were"
            return
        if L == ")" and not self.stack and not fffd:
            return  # "(as he put it)? Then" is a real question
        if L == ":" and R == " " and not self.stack:
            self.set(i, NBSP, "non-breaking space")  # "Note:? This": no quote closes at a colon
            return
        if R.isalpha() and L in ",;":
            self.set(i, NBSP, "non-breaking space")  # no quote or question follows a comma unspaced
        elif R.isalpha() and L in ".!?:" and self.word_gap == NBSP and not fffd:
            self.set(i, NBSP, "non-breaking space")
        elif R == " " and L in ".!?" and not self.stack and self.two_spaces and not fffd:
            self.set(i, NBSP, "non-breaking space")  # "right.? Mr.": two spaces after a sentence
        elif R == "" or R.isspace() or R in _CLOSING_PUNCT or R == self.lost:
            self.close_quote(i)
        elif R.isalpha() and L and L in ".,!?" and fffd:
            self.close_quote(i)

    def _before_word(self, i: int, L: str, R: str) -> None:
        """A hole at a line start or after a space: an opening quote, an apostrophe
        (``?90s``), a dash, an ellipsis, a currency or copyright sign, or a question."""
        text, lost = self.text, self.lost
        line_start = L in ("", "\n")
        if R.isalpha() and L in (" ", "\t") and self._is_suffix_token(i):
            self.set(i, APOS, "apostrophe")  # tokenised "Senate ?s plenary"
        elif R.isalpha() or R in ("'", '"') or (R == lost and self._run_ends_in_letter(i)):
            a, b = _word_around(text, i, lost)
            bare = text[i + 1 : b].replace(lost, "")
            if text[i + 1 : b].lower() in _ELISIONS:
                self.set(i, APOS, "apostrophe")
            elif R.isalpha() and L == " " and self.straight_quotes and not self._closes_ahead(i):
                # a text that typed its quotes straight: a hole no later hole closes is a space
                self.set(i, NBSP, "non-breaking space")
            elif not (R.isalpha() and (self.lang != "en" or wordlist.zipf(bare) < 1.0) and self.try_accent(i)):
                self.open_quote(i)
        elif R.isdigit():
            self._before_number(i, line_start)
        elif R in (" ", "\t"):
            self._spaced(i, L, line_start)
        elif L == " " and R in ("", "\n", "\r") and not self.tokenised:
            self.set(i, ELLIPSIS, "ellipsis")
        elif L == "[" and R == "]":
            self.set(i, ELLIPSIS, "ellipsis")  # "[?]": words left out of a quote
        elif R == "[" and L != "[" and _EDITED_WORD.match(text, i + 1):
            self.open_quote(i)  # "she will ?[b]uild": a quote whose first letter was edited

    def _before_number(self, i: int, line_start: bool) -> None:
        """``?90s`` and ``in ?14.`` (apostrophes), ``?2019 AP`` at a line start (©), a
        currency sign only where the text speaks of that money, else an opening quote
        that a later hole closes, else the hole stays."""
        text = self.text
        ahead = text[i + 1 : i + 40]
        word_before = re.search(r"(\w+)\W*$", text[max(0, i - 20) : i])
        year_after = word_before is not None and word_before.group(1).lower() in _BEFORE_A_YEAR
        if re.match(r"\d\ds\b", ahead) or (self.lang != "en" and re.match(r"\d\d(?![\d.,])", ahead)):
            self.set(i, APOS, "apostrophe")  # the ’90s, gli anni ’80
        elif year_after and _TWO_DIGIT_YEAR.match(ahead):
            self.set(i, APOS, "apostrophe")  # "we did it in ’14."
        elif line_start and re.match(r"(?:19|20)\d\d\b", ahead):
            self.set(i, "\u00a9", "copyright sign")
        elif self.currency[0] and (self.currency[1] or _MONEY.match(ahead)) and not self._may_close_later(i):
            self.set(i, self.currency[0], "currency sign")
        elif self.later_close_in_paragraph(i):
            self.open_quote(i)  # “227 years of men”

    def _spaced(self, i: int, L: str, line_start: bool) -> None:
        """`` ? `` between words: a dash, an ellipsis, the em dash of a tweet's signature,
        or, in tokenised text and next to links, a question mark."""
        text = self.text
        if self.lang != "en" and L == " " and self._between_lower_words(i):
            single = wordlist.accented_word(wordlist.LOST, self.lang)
            if single is not None:
                self.set(i, single[0], "accented letter")  # Italian "è", Portuguese "é"
                return
        if (self.tokenised and not line_start) or self._next_to_link(i):
            return  # "See ? Slightly": tokenised text spaces its question marks
        if self.lost == "?" and self.typed and not line_start and text[i + 2 : i + 3].isupper() and (
                not self.spaced_dashes):
            return  # "insane ? Surely": typed text, a question and the next sentence
        if self.lost == "?" and not line_start and text[i + 2 : i + 3].isupper() and self._sentence_asks(i):
            return  # "Didn?t Citybank supply a list? ? ASSANGE :": the sentence asks
        nl = text.find("\n", i)
        rest = text[i + 2 : nl if nl >= 0 else len(text)]
        if line_start and re.match(r"(?:19|20)\d\d\b", rest):
            self.set(i, "\u00a9", "copyright sign")
        elif line_start and "(@" in rest:
            self.set(i, EM, "dash")  # "? Washington Post Live (@postlive)": tweets sign with em
        elif not line_start and self._ellipsis_context(i):
            self.set(i, ELLIPSIS, "ellipsis")
        else:
            self.set(i, self.spaced_dash, "dash")

    def _sentence_asks(self, i: int) -> bool:
        """Does the sentence ending at ``i`` open with a question word or an auxiliary
        (``Didn?t he…``, ``Why would…``)?  Lost characters right before ``i`` belong to it."""
        j = i
        while j > 0 and i - j < _MAX_WORD and self.text[j - 1] in (" ", self.lost):
            j -= 1
        start = max(0, j - 200)
        window = self.text[start:j]
        boundary = max(window.rfind(c) for c in ".!:;\n")
        if boundary < 0 and start > 0:
            return False  # no sentence start in sight
        first = _WORD.search(window, boundary + 1)
        if first is None:
            return False
        word = first.group(0).lower()
        return word in _QUESTION_WORDS or word in _AUXILIARIES

    def _may_close_later(self, i: int) -> bool:
        """Could a later hole of the paragraph close a quote opened at ``i``
        (``?13 Keys to the White House? have``)?  Then ``i`` is no currency sign."""
        end = self.text.find("\n\n", i, i + 300)  # bounded: a search to the end per hole is quadratic
        end = min(len(self.text), i + 300) if end < 0 else end
        for n in range(bisect.bisect_right(self.holes, i), len(self.holes)):
            j = self.holes[n]
            if j >= end:
                break
            nxt = self.text[j + 1 : j + 2]
            if self.text[j - 1].isalnum() or self.text[j - 1] in ".,!?":
                if nxt == "" or nxt.isspace() or nxt in ".,;:!?)":
                    return True
        return False

    def _next_to_link(self, i: int) -> bool:
        """Is the spaced hole between two links (``https://t.co/x ? pic.twitter.com/y``)
        or before a query (``story ? id=9208916``, a link tokenised)?"""
        line_start = self.text.rfind("\n", 0, i) + 1
        line_end = self.text.find("\n", i)
        before = self.text[max(line_start, i - 60) : i].split()
        after = self.text[i + 1 : min(i + 60, len(self.text) if line_end < 0 else line_end)].split()
        if after and _QUERY.match(after[0]):
            return True
        return bool(before and after) and all(_LINK_TOKEN.search(t) for t in (before[-1], after[0]))

    def _quotes_a_question(self, i: int) -> bool:
        """Is the open quote a question (``“Why??``, a sentence opening ``“Do you know
        that??``) rather than a phrase marked in a question of the writer's (``can
        “do the job”?``)?"""
        first = _WORD.search(self.text, self.open_at + 1, i)
        if first is None:
            return False
        word = first.group(0).lower()
        if word in _QUESTION_WORDS:
            return True
        before = self.text[max(0, self.open_at - 2) : self.open_at].rstrip(" \t")
        opens_sentence = before == "" or before[-1] in "\n.!?:,"  # “…,” he asked, ‘Is it?’
        return opens_sentence and word in _AUXILIARIES

    @staticmethod
    def _dropped_g(word: str) -> bool:
        z = wordlist.zipf(word)
        return len(word) >= 4 and z < 4.0 and wordlist.zipf(word + "g") >= z + 1.5

    def _between_lower_words(self, i: int) -> bool:
        before = self.text[max(0, i - 2) : i - 1]
        after = self.text[i + 2 : i + 3]
        return before.isalpha() and before.islower() and after.isalpha() and after.islower()

    def _plural_possessive(self, i: int, R: str) -> bool:
        """``players? union``: a word in -s, a hole, and a lowercase word, where the
        apostrophes written nearest were lost too (not typed in ASCII, as in a reply
        quoted into a forum thread: ``No errors? link I'm``)."""
        lost = self.lost
        a, _ = _word_around(self.text, i, lost)
        nxt = self.text[i + 2 : i + 4] if R == " " else ""
        return (self.text[a:i].endswith("s") and self._next_is_word(i + 2) and (
            nxt[:1].islower() or (nxt[:1] == lost and nxt[1:].isalpha())) and not self._typed_nearby(i))

    @functools.cached_property
    def _apostrophes(self) -> tuple[list[int], list[int]]:
        """Where the text typed its apostrophes in ASCII, and where it lost them."""
        typed = [m.start() for m in _ASCII_APOSTROPHE.finditer(self.text, 0, _STYLE_SAMPLE)]
        lost = [j for j in self.holes[:5000] if j > 0 and _is_ascii_letter(self.text[j - 1])
                and _CONTRACTION_TAIL.match(self.text, j + 1)]
        return typed, lost

    def _typed_nearby(self, i: int) -> bool:
        """Is the apostrophe nearest to ``i`` typed in ASCII, a few words away?"""
        typed, lost = self._apostrophes
        if not typed:
            return False
        def distance(positions: list[int]) -> int:
            k = bisect.bisect_left(positions, i)
            near = [abs(positions[j] - i) for j in (k - 1, k) if 0 <= j < len(positions)]
            return min(near, default=len(self.text) + 1)
        return distance(typed) < min(distance(lost), _NEARBY)

    def _dropped_g_before(self, i: int) -> bool:
        """Is the word right before the hole one with its g dropped (``Takin``)?"""
        j = i
        while j > 0 and i - j < _MAX_WORD and self.text[j - 1].isalpha():
            j -= 1
        word = self.text[j:i]
        return word.lower().endswith("in") and self._dropped_g(word)

    def _lowercase_follows(self, i: int) -> bool:
        return self.text[i + 1 : i + 2] == " " and self.text[i + 2 : i + 3].islower()

    def _next_is_word(self, k: int) -> bool:
        """Is the token starting at ``k`` a plain word (not a link such as pic.twitter.com)?"""
        end = k
        while end < len(self.text) and end - k < _MAX_WORD and not self.text[end].isspace():
            end += 1
        return self.text[k:end].rstrip(".,;:!?)").replace(self.lost, "").isalpha()

    def _is_suffix_token(self, i: int) -> bool:
        k = i + 1
        while k < len(self.text) and k - i < _MAX_WORD and self.text[k].isalpha():
            k += 1
        at_end = k == len(self.text) or not self.text[k].isalnum()
        return self.text[i + 1 : k] in ("s", "re", "ve", "ll", "d", "m") and at_end

    def _short_quote(self, i: int) -> bool:
        """Was the open quote opened a few words ago, within this sentence?"""
        if self.open_at < 0 or i - self.open_at > 60:
            return False
        span = self.text[self.open_at + 1 : i]
        # "us vs. them", "Mr. Smith": an abbreviation's full stop ends no sentence
        return len(span.split()) <= 6 and not re.search(r"(?<!\bvs)(?<!\bMr)(?<!\bMrs)(?<!\bDr)(?<!\bSt)[.!?]\s", span)

    def _ellipsis_context(self, i: int) -> bool:
        """A spaced hole after a comma or next to square brackets is an ellipsis."""
        j = i - 1
        while j >= 0 and i - j < _MAX_WORD and self.text[j] == " ":
            j -= 1
        k = i + 1
        while k < len(self.text) and k - i < _MAX_WORD and self.text[k] == " ":
            k += 1
        before = self.text[j] if j >= 0 else ""
        after = self.text[k] if k < len(self.text) else ""
        return (before != "" and before in ",;[]") or (after != "" and after in "[]")

    def _run_ends_in_letter(self, i: int) -> bool:
        j = i
        while j < len(self.text) and j - i < _MAX_WORD and self.text[j] == self.lost:
            j += 1
        return j < len(self.text) and self.text[j].isalpha()


def _holes(text: str, lost: str) -> list[int]:
    out = []
    i = text.find(lost)
    while i >= 0:
        out.append(i)
        i = text.find(lost, i + 1)
    return out


def _is_wrapped(text: str) -> bool:
    lines = text.split("\n")
    if len(lines) < 4:
        return False
    lengths = [len(x) for x in lines if x.strip()]
    return bool(lengths) and max(lengths) <= 120 and sum(n >= 50 for n in lengths) >= 0.5 * len(lengths)


def _restore(text: str, lost: str, house: HouseStyle | None = None) -> list[Replacement]:
    holes = _holes(text, lost)
    if lost == "?":
        if "/" in text or "=" in text or "www" in text:
            links = _url_spans(text)
            holes = [i for i in holes if i not in links]
    if len(holes) > _MAX_TOKEN_HOLES:
        holes = _drop_crowded(text, lost, holes)
    if not holes:
        return []
    r = _Restorer(text, lost, holes, _is_wrapped(text), house)
    for i in holes:
        r.restore(i)
    return [Replacement(i, i + 1, ch, what) for i, (ch, what) in sorted(r.out.items())]


def restore_lost_characters_and_explain(text: str, house_style: HouseStyle | None = None) -> tuple[str, list[Edit]]:
    """Restore characters lost to ``?`` or U+FFFD, and say which and why.  A
    ``house_style`` learned from the site's intact records (:class:`HouseStyleCounts`)
    decides what the text alone cannot: which spaced dash it lost.

    >>> restore_lost_characters_and_explain("?We will not,? Smith said. Microsoft?s view?")[0]
    '“We will not,” Smith said. Microsoft’s view?'
    >>> restore_lost_characters_and_explain("Is it? Yes. Why?")
    ('Is it? Yes. Why?', [])
    """
    reps: list[Replacement] = []
    if FFFD in text:
        reps += _restore(text, FFFD, house_style)
    if "?" in text and looks_lossy(text):
        reps += _restore(text, "?", house_style)
    if not reps:
        return text, []
    return apply_replacements(text, STAGE, reps)


def restore_lost_characters(text: str, house_style: HouseStyle | None = None) -> str:
    """Restore characters lost to ``?`` or U+FFFD.

    >>> restore_lost_characters("the company?s ?national law? ? and the caf?")
    'the company’s “national law” – and the café'
    >>> restore_lost_characters("the 1990\\ufffd2000 period")
    'the 1990–2000 period'
    """
    return restore_lost_characters_and_explain(text, house_style)[0]
