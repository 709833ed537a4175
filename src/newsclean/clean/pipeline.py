"""The cleaning pipeline: an ordered list of pure stages and a reusable :class:`Cleaner`."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

from ..edits import Edit
from .boilerplate import remove_boilerplate_and_explain
from .embeds import DEFAULT_MIN_KEEP, TWEET_MODES, kept_share, remove_embeds_and_explain
from .encoding import fix_encoding_and_explain
from .glued import split_glued_words_and_explain
from .layout import fix_layout_and_explain
from .lost_chars import restore_lost_characters_and_explain
from .markup import strip_markup_and_explain

if TYPE_CHECKING:
    from ..spin import SpinReport, SpinTable
    from .sites import CorpusSites, Site

StageFn = Callable[[str], "tuple[str, list[Edit]]"]
MAX_ROUNDS = 3

# Order matters and differs from the numbering in the docs on purpose:
# markup goes before lost characters so that entities such as &#8217; are decoded
# rather than guessed; embeds go before glued words so tweet handles are gone;
# layout goes last because every earlier stage may shorten lines.  A record's site
# boilerplate (learned from a corpus, see .sites) goes before all of them, once, on
# the raw text its lines were counted in.
STAGES: dict[str, StageFn] = {
    "encoding": fix_encoding_and_explain,
    "markup": strip_markup_and_explain,
    "lost_chars": restore_lost_characters_and_explain,
    "embeds": remove_embeds_and_explain,
    "glued": split_glued_words_and_explain,
    "layout": fix_layout_and_explain,
}


@dataclass(slots=True)
class CleanResult:
    """What cleaning did to one text: the clean ``text`` and every ``edit`` in stage order."""

    text: str
    edits: list[Edit] = field(default_factory=list)
    spin: SpinReport | None = None  # set when the cleaner has a spin table
    # the share of its letters and digits the text kept, when under the cleaner's
    # min_keep (most of it removed as embeds or boilerplate); else None
    cut_down: float | None = None

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    @property
    def spun_score(self) -> float:
        """The spin score of a text flagged as spun, else 0: what the ``cleanest``
        survivor policy of dedup weighs (a few forms in an unflagged text are no
        evidence, and must not outweigh its length)."""
        return self.spin.score if self.spin is not None and self.spin.flagged else 0.0

    def edits_by_stage(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.edits:
            counts[e.stage] = counts.get(e.stage, 0) + 1
        return counts


class Cleaner:
    """A configured cleaning pipeline, reusable across texts and threads.

    >>> Cleaner().clean_text("Microsoft?s plan")
    'Microsoft’s plan'
    >>> Cleaner(skip=["lost_chars"]).clean_text("Microsoft?s plan")
    'Microsoft?s plan'

    Every text is then scored for spinning (``result.spin``) against ``spin_table``:
    by default newsclean's built-in table (:func:`newsclean.spin.builtin_table`), or
    a :class:`~newsclean.spin.SpinTable` of your own (``table.merged(builtin_table())``
    to use both), or None for no spin handling.  With ``unspin="restore"`` (the default)
    a text flagged as spun gets its originals back (stage ``unspin``; see
    :mod:`newsclean.spin`); ``"flag"`` only scores, ``"off"`` skips it.

    What a corpus taught about its sites (:class:`~newsclean.clean.sites.CorpusSites`,
    attached with :meth:`with_sites`) is used per record: ``clean(text, site)`` removes
    the site's boilerplate lines first and restores lost dashes in its house style
    (:meth:`site_of` finds a record's site).  A text that keeps less than ``min_keep``
    of its letters and digits (0: never) is flagged in ``result.cut_down``.
    """

    def __init__(
        self,
        stages: Sequence[str] | None = None,
        skip: Sequence[str] = (),
        *,
        tweets: str = "all",
        spin_table: SpinTable | Literal["builtin"] | None = "builtin",
        unspin: str = "restore",
        spin_lm: str | None = None,
        spin_lm_backend: str = "numpy",
        min_keep: float = DEFAULT_MIN_KEEP,
        sites: CorpusSites | None = None,
    ):
        names = list(stages) if stages is not None else list(STAGES)
        unknown = [n for n in list(names) + list(skip) if n not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown}; known: {list(STAGES)}")
        if tweets not in TWEET_MODES:
            raise ValueError(f"tweets must be one of {TWEET_MODES}, not {tweets!r}")
        from ..spin.restore import MODES

        if unspin not in MODES:
            raise ValueError(f"unspin must be one of {MODES}, not {unspin!r}")
        self.tweets = tweets
        if isinstance(spin_table, str):
            if spin_table != "builtin":
                raise ValueError(f"spin_table must be a SpinTable, 'builtin' or None, not {spin_table!r}")
            from ..spin.table import builtin_table

            spin_table = builtin_table() if unspin != "off" else None
        self.spin_table = spin_table if unspin != "off" else None
        self.unspin = unspin
        # a path, not the model: a cleaner is pickled to worker processes, each of
        # which loads the model once when it first needs it
        self.spin_lm = spin_lm
        from ..spin.lm import BACKENDS

        if spin_lm_backend not in BACKENDS:
            raise ValueError(f"spin_lm_backend must be one of {BACKENDS}, not {spin_lm_backend!r}")
        self.spin_lm_backend = spin_lm_backend
        self.stage_names = [n for n in names if n not in set(skip)]
        if not 0.0 <= min_keep <= 1.0:
            raise ValueError(f"min_keep must be in [0, 1], not {min_keep!r}")
        self.min_keep = min_keep
        self.sites = sites
        options = {"embeds": {"tweets": tweets}}
        self._stages = [
            (n, partial(STAGES[n], **options[n]) if n in options else STAGES[n]) for n in self.stage_names
        ]

    def __repr__(self) -> str:
        spin = f", spin_table={self.spin_table!r}, unspin={self.unspin!r}" if self.spin_table is not None else ""
        keep = f", min_keep={self.min_keep!r}" if self.min_keep != DEFAULT_MIN_KEEP else ""
        return f"Cleaner(stages={self.stage_names!r}, tweets={self.tweets!r}{spin}{keep})"

    def with_sites(self, sites: CorpusSites | None) -> Cleaner:
        """This cleaner, using what ``sites`` taught about each record's site."""
        twin = copy.copy(self)
        twin.sites = sites
        return twin

    def site_of(self, record: dict[str, Any], source: str | None = None) -> Site | None:
        """The site of a record read from ``source``, as :meth:`clean` uses it; None
        without :meth:`with_sites`."""
        return self.sites.site(record, source) if self.sites is not None else None

    def clean(self, text: str, site: Site | None = None) -> CleanResult:
        return self.clean_many([text], [site])[0]

    def clean_many(self, texts: Sequence[str], sites: Sequence[Site | None] | None = None) -> list[CleanResult]:
        """:meth:`clean` for several texts (each of its site in ``sites``), with the same
        results; with a language model for spin (``spin_lm``) the model weighs the swaps
        of all of them in one batch."""
        if sites is None:
            sites = [None] * len(texts)
        repaired = [self._repair(text, site) for text, site in zip(texts, sites)]
        results = self._unspin(repaired)
        if self.min_keep > 0:
            for before, result in zip(texts, results):
                result.cut_down = self._cut_down(before, result)
        return results

    def _cut_down(self, before: str, result: CleanResult) -> float | None:
        if not result.edits:
            return None
        share = kept_share(before, result.text)
        return round(share, 4) if share < self.min_keep else None

    def _unspin(self, repaired: list[tuple[str, list[Edit]]]) -> list[CleanResult]:
        if self.spin_table is None:
            return [CleanResult(text, edits) for text, edits in repaired]
        # once, on the repaired text: spin is judged on words, and no other stage
        # has work left after a synonym swap
        from ..spin.restore import unspin_many_and_explain

        lm = None
        if self.spin_lm is not None and self.unspin == "restore":
            from ..spin.lm import load_model

            lm = load_model(self.spin_lm, self.spin_lm_backend)
        spun = unspin_many_and_explain([text for text, _ in repaired], self.spin_table, self.unspin, lm=lm)
        return [CleanResult(text, edits + spin_edits, report)
                for (_, edits), (text, spin_edits, report) in zip(repaired, spun)]

    def _repair(self, text: str, site: Site | None = None) -> tuple[str, list[Edit]]:
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        edits: list[Edit] = []
        if site is not None and site.boilerplate is not None:
            text, edits = remove_boilerplate_and_explain(text, site.boilerplate, site.name)
        # a stage's per-record keywords: the house style of the record's site
        per_record = {"lost_chars": {"house_style": site.house_style}} \
            if site is not None and site.house_style is not None else {}
        # Repeat the stages while they still change something (rarely more than
        # once): one stage's repair can expose work for an earlier one, such as a
        # stripped non-breaking space completing a mojibake sequence.  A second
        # pass over clean output costs a few percent of the first.
        for _ in range(MAX_ROUNDS):
            before = len(edits)
            for name, fn in self._stages:
                keywords = per_record.get(name)
                text, stage_edits = fn(text, **keywords) if keywords else fn(text)
                edits.extend(stage_edits)
            if len(edits) == before:
                break
        return text, edits

    def clean_text(self, text: str) -> str:
        return self.clean(text).text


_DEFAULT: Cleaner | None = None


def default_cleaner() -> Cleaner:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Cleaner()
    return _DEFAULT


def clean(text: str) -> CleanResult:
    """Clean one text with the default pipeline and say what was done."""
    return default_cleaner().clean(text)


def clean_text(text: str) -> str:
    """Clean one text with the default pipeline.

    >>> clean_text("He said ?no.? [] Read more")
    'He said “no.” Read more'
    """
    return default_cleaner().clean(text).text
