"""Ranked keyphrases for a paper (title + abstract), YAKE-scored and cleaned for readers.

Pipeline for one paper
----------------------
1. **YAKE scores candidates.** The title and the abstract, their LaTeX turned into text
   (:func:`transforms.latex.decode_latex`: ``na\\"ive`` -> ``naïve``, ``$O(n^2)$`` ->
   ``O(n^2)``), are joined with a sentence break and handed to the compiled YAKE of
   ``yake-rust`` (``yake_rust.Yake``, public API only) with ``ngrams = max_words``,
   ``window_size``, no de-duplication, asking for *all* candidates
   (``get_n_best(text, n=<huge>)``): every n-gram YAKE considers valid, with its YAKE score
   ``h`` (lower = better), the same candidates and scores as ``yake`` 0.7.3's
   ``KeywordExtractor(n=..., window_size=..., dedup_lim=1.0, top=all)``. yake-rust sums
   floats in hash-map order, so its scores vary in the last bits between calls; ``h`` is
   rounded to :data:`SCORE_BITS` significant bits, which makes the output deterministic.
2. **Candidate filtering.** Only noun-phrase-like candidates survive, judged with the
   context-free part-of-speech lexicon of ``lemminflect`` (no tagger model): the last word must
   be able to be a noun, the other words nouns/adjectives/participles; no stopword inside the
   phrase but the "of" of a known "X of Y" term (:data:`OF_TERMS`: "sparse mixture of experts
   models", so neither "sparse mixture" nor "experts models" survives as a fragment), no verb
   form ("results show", "recommendation aims"), no adverb, no phrase ending in a past participle, no
   phrase starting with a verb-only gerund ("merging convolutive source"); no boilerplate of
   abstracts ("paper", "proposed method", "state-of-the-art", "experimental results"), no bare
   numbers, no single vague word ("model", "scale"), no single verb-only gerund. The verdict (and the normal form) is cached per
   word and per phrase (:class:`_Cleaner`), so cleaning costs a fraction of the scoring.
3. **Normalisation.** Every phrase gets one normal form (:func:`normalize_keyphrase`: Unicode
   NFKC, lowercase, hyphens/slashes/underscores -> spaces, whitespace collapsed, possessive
   dropped, plural folding of every word by lemminflect's noun lemmas, rules where it has
   none: "Language-Models" -> "language model", "biases" -> "bias"). Candidates with
   the same normal form are merged (best YAKE score, summed frequency). The surface form kept is
   the most frequent written form in the text. A candidate's frequency is the number of times
   its lowercase words occur in a row inside one punctuation-free stretch of the text.
4. **Re-ranking.** The YAKE score is divided by boosts (all deterministic):
   * *specificity* from corpus document frequencies (:class:`CorpusStats`): mean smoothed IDF of
     the phrase's words, normalised to (0, 1], raised to ``idf_power``. Its weight grows with the
     corpus size (``n / (n + idf_prior_docs)``), so with no corpus or a tiny corpus the ranking
     is (almost) pure YAKE;
   * *length*: ``length_boost ** (min(words, length_boost_cap) - 1)`` (scientific keyphrases
     are mostly 2-3 words, YAKE alone over-ranks single words);
   * *title*: ``title_boost`` when the phrase occurs in the title.
   A phrase that occurs only inside a longer candidate (no more often than it) is a fragment
   and dropped ("tract normalization" next to "vocal tract normalization").
5. **Near-duplicate removal** in the ranked list: a phrase is dropped if an earlier (better)
   phrase has the same normal form, the same form with spaces removed ("data set" / "dataset"),
   or the same set of words in another order; a single word already inside a better phrase is
   dropped too. A phrase the text shows to be cut from a sentence or a longer phrase is
   dropped (:meth:`KeyphraseExtractor._reads_cut`: it ends in a verb followed by "a"/"the"...,
   starts with a verb after "we"/"to"..., or has YAKE's most words and is always followed by
   a noun: "Gene Task Large Language" + "Model"). The first ``distinct_top`` (5) phrases hold
   no phrase inside another one ("flow matching" in "discrete flow matching"): such a phrase
   waits and comes right after them.

Score
-----
``Keyphrase.score = 1 / (1 + h')`` where ``h'`` is the re-ranked YAKE score (lower is better),
so ``score`` is in (0, 1] and **higher = better**; ranks follow descending score (ties broken by
normal form, so output is deterministic).

Versioning and incrementality
-----------------------------
``ExtractorConfig.version()`` hashes ``EXTRACTOR_CODE_VERSION`` (bumped for code changes),
every config field and :func:`transforms.keyphrase_lexicon.lexicon_version` (the sha256 of the
word lists' entries in ``transforms/lexicon/`` and lemminflect's version: editing a list
changes the version by itself, no bump). Rows in ``raw.paper_keyphrases`` carry that version;
papers with no rows for the current version are pending, so a config, code or word-list change
re-extracts everything and an unchanged version extracts only new papers.

Corpus statistics are document frequencies of normalised words (:func:`document_terms`) over
all papers in the warehouse, kept incrementally by :mod:`transforms.keyphrase_store`. They are
**not** part of the version: new papers changing the document frequencies do not trigger
re-extraction of old papers (each paper's keyphrases are computed with the corpus as it was
when the paper was extracted). Results are deterministic for a given (config, corpus, paper).
To re-rank old papers against a newer corpus, bump the code version or change a config field.

Batch extraction
----------------
:func:`extract_many` forks one worker per core; the workers inherit the documents and the
loaded lexicon, take guided chunks (large first, small last) and send back plain tuples. With
``corpus="auto"`` (``papertrends keyphrases``) the parent counts the statistics while the
workers already score and clean, which need none; only the ranking waits for them. The cost
is mostly yake-rust's (~1.3 ms a paper); the cleaning around it is ~0.5 ms a paper with cold
caches (most of it the first verdict on each distinct phrase and word).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing
import os
import pickle
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transforms import keyphrase_lexicon
from transforms.files import atomic_write
from transforms.keyphrase_lexicon import (
    BOILERPLATE_PHRASES,
    ED_NOUNS,
    GENERIC_WORDS,
    IRREGULAR_PLURALS,
    LY_NOUNS,
    NON_HEAD_WORDS,
    NON_PLURAL_S,
    OBJECT_WORDS,
    OF_TERMS,
    SUBJECT_WORDS,
    TECH_GERUNDS,
    VERB_FORMS,
    WEAK_SINGLE_WORDS,
)
from transforms.latex import decode_latex

if TYPE_CHECKING:  # polars is imported lazily: the CLI's `keyphrases` command does not need it
    import polars as pl

#: Bump for a code change that changes output. The word lists need no bump: their content
#: hash is part of ``ExtractorConfig.version()`` (see ``keyphrase_lexicon.lexicon_version``).
EXTRACTOR_CODE_VERSION = "2026.12.2"

__all__ = [
    "EXTRACTOR_CODE_VERSION",
    "KEYPHRASE_SCHEMA",  # noqa: F822 (module __getattr__: polars is imported lazily)
    "SCORE_BITS",
    "CorpusStats",
    "ExtractorConfig",
    "Keyphrase",
    "KeyphraseExtractor",
    "build_corpus_stats",
    "build_corpus_stats_parallel",
    "clear_caches",
    "document_terms",
    "extract_jsonl",
    "extract_many",
    "fold_plural",
    "is_boilerplate",
    "keyphrases_frame",
    "normalize_keyphrase",
    "select_pending",
]


# --------------------------------------------------------------------------------------------
# Configuration and result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractorConfig:
    """Every knob that changes extractor output. The defaults are the product configuration."""

    top: int = 10
    #: YAKE: maximum words per candidate (``n``) and co-occurrence window (``window_size``).
    max_words: int = 5
    window_size: int = 1
    #: YAKE language (stopword list).
    language: str = "en"
    #: Re-ranking (see module docstring): h' = h / (length_boost ** (min(words, cap) - 1)
    #: * specificity ** (idf_power * n / (n + idf_prior_docs)) * title_boost [in title]).
    length_boost: float = 4.0
    length_boost_cap: int = 3
    idf_power: float = 1.0
    idf_prior_docs: int = 50
    title_boost: float = 1.0
    #: Drop phrases that only occur inside a longer candidate (see _drop_fragments).
    drop_fragments: bool = True
    #: Drop a single word already contained in a better-ranked phrase.
    drop_contained_single_words: bool = True
    #: The first this many keyphrases hold no phrase contained (as whole words, by normal
    #: form) in another of them.
    distinct_top: int = 5

    def version(self) -> str:
        """Stable short hash of the code version, the word lists (their content hash and
        lemminflect's version) and all fields (differs when any of them does)."""
        payload = json.dumps(
            {
                "code": EXTRACTOR_CODE_VERSION,
                "lexicon": keyphrase_lexicon.lexicon_version(),
                **asdict(self),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Keyphrase:
    """One ranked keyphrase. ``rank`` 1 = best; ``score`` in (0, 1], higher = better."""

    rank: int
    keyphrase: str
    keyphrase_norm: str
    score: float


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\-\u2010\u2011\u2012\u2013\u2014\u2212/_]+")
# Apostrophes: ASCII, right single quotation mark, modifier letter apostrophe.
_APOSTROPHES = "'\u2019\u02bc"
_POSSESSIVE = re.compile(rf"[{_APOSTROPHES}]s\b")
_TOKEN = re.compile(r"[^\W_]+(?:\+\+|#)?")
_NUMERIC = re.compile(r"^[0-9]+(?:[.,][0-9]+)*$")


@lru_cache(maxsize=100_000)
def fold_plural(word: str) -> str:
    """Fold an English plural (lowercase word) to its singular; leave everything else alone.

    Irregular forms first (``matrices`` -> ``matrix``) and words that merely end in s
    (``physics``, ``series``: kept); then lemminflect's noun lemma of a word ending in s
    (``biases`` -> ``bias``, ``lenses`` -> ``lens``); for a word lemminflect does not know
    (``llms``), ``-ies`` -> ``-y`` (``studies``), ``-sses``/``-xes``/``-ches``/``-shes`` ->
    drop ``es`` and plain ``-s``, keeping ``-ss``/``-us``/``-is`` (``bus``, ``analysis``).
    """
    w = word
    if w in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[w]
    if len(w) <= 3 or w in NON_PLURAL_S or not w.endswith("s") or not w.isalpha():
        return w
    lemma = _noun_lemma(w)
    if lemma is not None:
        return lemma
    if w.endswith(("ss", "us", "is")):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("sses"):
        return w[:-2]
    if w.endswith(("xes", "ches", "shes", "zzes")):
        return w[:-2]
    return w[:-1]


#: ASCII characters that are not letters or digits -> space: what ``_TOKEN`` leaves between
#: tokens of an ASCII text without ``+`` or ``#`` (``str.translate`` + ``split``, ~4 x faster
#: than ``findall``).
_ASCII_NON_ALNUM = {c: " " for c in range(128) if not chr(c).isalnum()}


def _raw_tokens(text: str) -> list[str]:
    # Hyphens, dashes, slashes and underscores separate words: _TOKEN never matches them
    # (``_SEPARATORS`` documents the set), so no substitution is needed before findall.
    s = unicodedata.normalize("NFKC", text).lower()
    if "'" in s or "\u2019" in s or "\u02bc" in s:
        s = _POSSESSIVE.sub("", s)
    if s.isascii() and "+" not in s and "#" not in s:
        return s.translate(_ASCII_NON_ALNUM).split()
    return _TOKEN.findall(s)


@lru_cache(maxsize=200_000)
def _norm_tokens(phrase: str) -> tuple[str, ...]:
    if phrase.isascii() and phrase.isalnum():  # one plain word (the common case)
        return (fold_plural(phrase.lower()),)
    return tuple(fold_plural(t) for t in _raw_tokens(phrase))


def normalize_keyphrase(phrase: str) -> str:
    """One normal form per phrase: NFKC, lowercase, hyphens/dashes/slashes -> space, possessive
    ``'s`` dropped, punctuation removed, whitespace collapsed, every word plural-folded.

    >>> normalize_keyphrase("  Large-Language   Models ")
    'large language model'
    """
    return " ".join(_norm_tokens(phrase))


@lru_cache(maxsize=8)
def _stopwords(language: str = "en") -> frozenset[str]:
    """YAKE's stopword list for ``language`` (yake-rust ships the lists of ``yake``)."""
    import yake_rust

    return frozenset(yake_rust.Yake(language=language).stopwords)


def is_boilerplate(norm: str) -> bool:
    """True for normal forms that are abstract boilerplate, bare numbers or vague single words."""
    return _is_boilerplate(norm, norm.split())


_NUMERIC_PHRASE = re.compile(r"[0-9]+(?:[.,][0-9]+)*(?: [0-9]+(?:[.,][0-9]+)*)*")


def _is_boilerplate(norm: str, words: Sequence[str]) -> bool:
    if not words:
        return True
    if norm in BOILERPLATE_PHRASES:
        return True
    if len(words) == 1:
        w = words[0]
        if w in WEAK_SINGLE_WORDS or len(w) < 2 or w in _stopwords():
            return True
    if not VERB_FORMS.isdisjoint(words):  # "results show", "proposed method"
        return True
    if GENERIC_WORDS.issuperset(words):
        return True
    if norm[:1].isdigit() and _NUMERIC_PHRASE.fullmatch(norm):
        return True
    return "state of the art" in norm


def _is_adverb(w: str) -> bool:
    return len(w) > 4 and w.endswith("ly") and w not in LY_NOUNS


def _is_participle(w: str) -> bool:
    return len(w) > 4 and w.endswith("ed") and w not in ED_NOUNS


_POS_BITS: dict[str, int] = {}  # upos -> bit, in order of first appearance


def _pos_bit(upos: str) -> int:
    bit = _POS_BITS.get(upos)
    if bit is None:
        bit = _POS_BITS[upos] = 1 << len(_POS_BITS)
    return bit


def _pos_table() -> dict[str, int]:
    """word -> the parts of speech ``lemminflect.getAllLemmas(word)`` gives it (its keys), as
    a bit set (:func:`_pos_bit`); see :func:`_lexicon_tables`."""
    return _lexicon_tables()[0]


def _noun_lemma(word: str) -> str | None:
    """lemminflect's first noun lemma of a lowercase word ending in s
    (``getAllLemmas(word, "NOUN")["NOUN"][0]``), None when it has none."""
    return _lexicon_tables()[1].get(word)


@lru_cache(maxsize=1)
def _lexicon_tables() -> tuple[dict[str, int], dict[str, str]]:
    """(word -> parts of speech as a bit set, word ending in s -> its first noun lemma): what
    ``lemminflect.getAllLemmas(word)`` answers.

    Read straight from the two tables lemminflect 0.2.3 answers ``getAllLemmas`` from
    (``resources/lemma_lu.csv.gz``: ``word,category,lemmas`` with the category upper-cased and
    ``modal`` read as ``AUX``; ``resources/lemma_overrides.csv``: ``word,UPOS,lemma``), which
    costs ~0.05 s instead of ~0.3 s for importing and loading lemminflect, and a dict lookup
    instead of ~10 us of ``deepcopy`` per word. tests/test_keyphrases.py checks both tables
    against ``getAllLemmas`` word by word."""
    import gzip
    from importlib.util import find_spec

    spec = find_spec("lemminflect")  # locate the package without importing it (numpy...)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("lemminflect is not installed")
    resources = Path(next(iter(spec.submodule_search_locations))) / "resources"
    table: dict[str, int] = {}
    nouns: dict[str, str] = {}
    bits: dict[str, int] = {}
    data = gzip.decompress((resources / "lemma_lu.csv.gz").read_bytes()).decode("utf-8")
    for line in data.splitlines():
        word, category, lemmas = line.split(",", 2)
        bit = bits.get(category)
        if bit is None:
            upos = category.upper()
            bit = bits[category] = _pos_bit("AUX" if upos == "MODAL" else upos)
        table[word] = table.get(word, 0) | bit
        if category == "noun" and word[-1:] == "s":
            nouns[word] = lemmas.partition("/")[0].lower()  # getAllLemmas keeps the case
    overridden: set[str] = set()  # an override replaces the table's noun lemmas
    with open(resources / "lemma_overrides.csv", encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip()
            if line and not line.startswith("#"):
                word, upos, lemma = line.split(",")
                table[word] = table.get(word, 0) | _pos_bit(upos)
                if upos == "NOUN" and word[-1:] == "s" and word not in overridden:
                    overridden.add(word)
                    nouns[word] = lemma.lower()
    return table, nouns


@lru_cache(maxsize=16)
def _pos_mask(*upos: str) -> int:
    _pos_table()
    return sum(_POS_BITS.get(u, 0) for u in set(upos))


def _parts_of_speech(word: str) -> frozenset[str]:
    """The parts of speech of a lowercase word (``set(getAllLemmas(word))``)."""
    mask = _pos_table().get(word, 0)
    return frozenset(u for u, bit in _POS_BITS.items() if mask & bit)


def _lexicon() -> dict[str, int]:
    return _pos_table()


@lru_cache(maxsize=200_000)
def _word_class(word: str) -> tuple[bool, bool]:
    """(can_head, can_modify) for a lowercase word, from the lemminflect lexicon of possible
    parts of speech (context-free; unknown words - typically technical terms - can do both).

    A head (last word) must be able to be a noun; gerunds ("parsing", "forecasting") count as
    nouns. A modifier must be able to be a noun or an adjective, or be a participle
    ("distributed", "learning"); pure verbs ("propose") and pure adverbs cannot be either.
    """
    if word in VERB_FORMS or _is_adverb(word):
        return False, False
    pos = _pos_table().get(word, 0)
    if not pos:
        return True, True
    participle = bool(pos & _pos_mask("VERB")) and word.endswith(("ing", "ed", "en"))
    noun = bool(pos & _pos_mask("NOUN", "PROPN")) or (participle and word.endswith("ing"))
    modifier = noun or bool(pos & _pos_mask("ADJ", "NUM")) or participle
    return noun, modifier


@lru_cache(maxsize=200_000)
def _verb_gerund(word: str) -> bool:
    """An -ing word the lexicon knows only as a verb ("merging", "involving"): starting a
    phrase it is almost always a verb taking an object ("merging convolutive source")."""
    return (
        word.endswith("ing")
        and word not in TECH_GERUNDS
        and _pos_table().get(word, 0) == _pos_mask("VERB")
    )


@lru_cache(maxsize=1)
def _of_terms() -> frozenset[str]:
    return frozenset(normalize_keyphrase(t) for t in OF_TERMS)


@lru_cache(maxsize=1)
def _of_term_ends() -> tuple[frozenset[str], frozenset[str]]:
    """(the normal-form X words, the Y words) of the "X of Y" terms."""
    pairs = [t.split(" of ") for t in _of_terms()]
    return frozenset(x for x, _ in pairs), frozenset(y for _, y in pairs)


def _join_of_terms(words: Sequence[str]) -> list[str] | None:
    """``words`` with every known "X of Y" term (:data:`OF_TERMS`, by normal form) joined
    into one word ``x_of_y``, which the tests below take for one noun and which normalises to
    ``x of y``; None when no "of" in ``words`` is inside such a term. The plain statement of
    the rule, with :func:`_np_like`: the extractor runs :meth:`_Cleaner._join_of_terms`, which
    tests/test_keyphrases.py checks against them."""
    out: list[str] = []
    i, n, joined = 0, len(words), False
    while i < n:
        if (
            i + 2 < n
            and words[i + 1] == "of"
            and normalize_keyphrase(f"{words[i]} of {words[i + 2]}") in _of_terms()
        ):
            out.append(f"{words[i]}_of_{words[i + 2]}")
            i, joined = i + 3, True
        else:
            out.append(words[i])
            i += 1
    return out if joined else None


def _np_like(words: Sequence[str], stopwords: frozenset[str]) -> bool:
    """Cheap noun-phrase test on lowercase tokens: (modifier)* head, no stopword inside but
    the "of" of a known "X of Y" term (:func:`_join_of_terms`)."""
    if "of" in words:
        words = _join_of_terms(words) or words
    for w in words:
        if w in stopwords or len(w) < 2 or not any(c.isalpha() for c in w):
            return False
    last = words[-1]
    if last in NON_HEAD_WORDS or _is_participle(last) or not _word_class(last)[0]:
        return False
    for w in words[:-1]:
        if not _word_class(w)[1]:
            return False
    if _verb_gerund(words[0]):
        return False
    return not (len(words) > 1 and words[0] in _LEADING_FILLER)


_LEADING_FILLER = frozenset(
    [
        "novel",
        "new",
        "proposed",
        "existing",
        "previous",
        "prior",
        "recent",
        "several",
        "various",
        "different",
        "many",
        "other",
        "such",
        "same",
        "certain",
        "further",
        "simple",
        "first",
    ]
)

_HAS_LETTER = re.compile(r"[^\W\d_]")

# Word flags of _Cleaner (bit set); a _STOP word has no other flag, so _HEAD and _MOD imply
# "not a stopword".
_STOP, _HEAD, _MOD, _VGER, _FILL = 1, 2, 4, 8, 16
# The word-level parts of _is_boilerplate: a normal-form token is a verb form; every token is
# generic; the word is one token that is vague alone (stopword, < 2 chars, weak single word);
# the word has no token at all (then the phrase takes the exact _is_boilerplate path).
_VERBY, _GENERIC, _WEAK1, _EMPTY = 32, 64, 128, 256
# The word can be a verb: a phrase starting or ending with it is checked against the words
# around it in the text (KeyphraseExtractor._reads_cut).
_VERB = 512


#: The phrase cache's value for a rejected phrase (falsy, and not None = "not judged yet").
_REJECTED = 0


class _Cleaner:
    """Steps 2-3 for one stopword list, cached: a candidate's lowercase form -> ``(norm,
    words, sub-phrases)`` (see _NORM) or None (rejected; ``_REJECTED`` in the cache). Word flags (part of speech, stopword, the word-level
    boilerplate tests) and normal-form tokens are cached per word, verdicts per phrase; both
    are pure functions of the text, so the caches never change a result. The phrase cache is
    emptied when it reaches ``max_phrases`` entries (bounded memory on long runs). A phrase's
    normal-form tokens are its words' tokens in a row (:func:`_norm_tokens` never joins across
    whitespace)."""

    def __init__(self, stopwords: frozenset[str], max_phrases: int = 500_000):
        self.stopwords = stopwords
        self.max_phrases = max_phrases
        self.words: dict[str, tuple[int, tuple[str, ...]]] = {}
        self.phrases: dict[str, tuple[str, tuple[str, ...], Sequence[str]] | int] = {}
        self._pos = _pos_table()
        self._verb = _pos_mask("VERB")
        self._noun = _pos_mask("NOUN", "PROPN")
        self._adj = _pos_mask("ADJ", "NUM")
        #: The "X of Y" terms as (X, Y) normal forms: "X of Y" joins when its words' normal
        #: forms are such a pair (what ``normalize_keyphrase("x of y") in _of_terms()`` says).
        self._of_pairs = frozenset(tuple(t.split(" of ")) for t in _of_terms())

    def word(self, w: str) -> tuple[int, tuple[str, ...]]:
        """(flags, normal-form tokens) of a lowercase word: :func:`_word_class`,
        :func:`_verb_gerund`, the head/filler tests of :func:`_np_like` and the word-level
        tests of :func:`_is_boilerplate`, inlined."""
        info = self.words.get(w)
        if info is not None:
            return info
        tokens = _norm_tokens(w)
        if w in self.stopwords or len(w) < 2 or not (w.isalpha() or _HAS_LETTER.search(w)):
            f = _STOP
        else:
            pos = self._pos.get(w, 0)
            ing = w.endswith("ing")
            verb = self._verb
            if w in VERB_FORMS or _is_adverb(w):
                head = mod = False
            elif not pos:
                head = mod = True
            else:
                participle = bool(pos & verb) and (ing or w.endswith(("ed", "en")))
                head = bool(pos & self._noun) or (participle and ing)
                mod = head or participle or bool(pos & self._adj)
            f = _MOD if mod else 0
            if head and w not in NON_HEAD_WORDS and not _is_participle(w):
                f |= _HEAD
            if ing and pos == verb and w not in TECH_GERUNDS:
                f |= _VGER
            if pos & verb:
                f |= _VERB
            if w in _LEADING_FILLER:
                f |= _FILL
            if not VERB_FORMS.isdisjoint(tokens):
                f |= _VERBY
            if GENERIC_WORDS.issuperset(tokens):
                f |= _GENERIC
            if not tokens:
                f |= _EMPTY
            elif len(tokens) == 1:
                t = tokens[0]
                if t in WEAK_SINGLE_WORDS or len(t) < 2 or t in _stopwords():
                    f |= _WEAK1
        info = self.words[w] = (f, tokens)
        return info

    def phrase(self, low: str, ws: list[str] | None = None) -> tuple | None:
        """The cached verdict for a lowercase candidate (see :func:`_np_like`); ``ws`` are
        its words when the caller has split it already."""
        verdict = self.phrases.get(low)
        if verdict is None:
            verdict = self.judge(low, ws)
        return verdict or None

    def judge(self, low: str, ws: list[str] | None = None) -> tuple | None:
        """:meth:`phrase` for a phrase known not to be cached: judge it, cache the verdict."""
        verdict = self._judge(low, ws)
        phrases = self.phrases
        if len(phrases) >= self.max_phrases:
            phrases.clear()
        phrases[low] = verdict or _REJECTED
        return verdict

    def _judge(self, low: str, ws: list[str] | None = None) -> tuple | None:
        if ws is None:
            ws = low.split()
        if "of" in ws:  # the only stopword kept: inside a known "X of Y" term
            ws = self._join_of_terms(ws)
            if ws is None:
                return None
        get = self.words.get
        n = len(ws)
        if n == 2:  # the most common shape, unrolled
            w0, w1 = ws
            f0, t0 = get(w0) or self.word(w0)
            f1, t1 = get(w1) or self.word(w1)
            if not f1 & _HEAD or not f0 & _MOD or f0 & (_VGER | _FILL):
                return None
            if (f0 | f1) & _VERBY or f0 & f1 & _GENERIC:
                return None
            words = t0 + t1
            if (f0 | f1) & _EMPTY:
                return self._exact(words)
            norm = " ".join(words)
            subs = words if len(words) == 2 else _sub_phrases(words)
        elif n == 1:
            w = ws[0]
            f, words = get(w) or self.word(w)
            if not f & _HEAD or f & (_VERBY | _GENERIC | _WEAK1 | _VGER):
                return None
            if f & _EMPTY:
                return self._exact(words)
            norm = words[0] if len(words) == 1 else " ".join(words)
            subs = () if len(words) == 1 else _sub_phrases(words)
        elif ws:
            infos = [get(w) or self.word(w) for w in ws]
            last_f, last_tokens = infos[-1]
            if not last_f & _HEAD or infos[0][0] & (_VGER | _FILL):
                return None
            any_f = all_f = last_f
            words = ()
            for f, tokens in infos[:-1]:
                if not f & _MOD:
                    return None
                any_f |= f
                all_f &= f
                words += tokens
            words += last_tokens
            if any_f & _VERBY or all_f & _GENERIC:
                return None
            if any_f & _EMPTY:
                return self._exact(words)
            norm = " ".join(words)
            subs = _sub_phrases(words)
        else:
            return None
        if norm in BOILERPLATE_PHRASES or (len(words) > 3 and "state of the art" in norm):
            return None
        if norm[:1].isdigit() and _NUMERIC_PHRASE.fullmatch(norm):
            return None
        return norm, words, subs

    def _join_of_terms(self, ws: list[str]) -> list[str] | None:
        """:func:`_join_of_terms` with the words' cached normal forms."""
        out: list[str] = []
        i, n, joined = 0, len(ws), False
        get, pairs = self.words.get, self._of_pairs
        while i < n:
            if i + 2 < n and ws[i + 1] == "of":
                x = (get(ws[i]) or self.word(ws[i]))[1]
                y = (get(ws[i + 2]) or self.word(ws[i + 2]))[1]
                if len(x) == 1 and len(y) == 1 and x[0] != "of" and y[0] != "of":
                    term = (x[0], y[0]) in pairs
                else:  # a word of several normal-form tokens: the exact test
                    term = normalize_keyphrase(f"{ws[i]} of {ws[i + 2]}") in _of_terms()
                if term:
                    out.append(f"{ws[i]}_of_{ws[i + 2]}")
                    i, joined = i + 3, True
                    continue
            out.append(ws[i])
            i += 1
        return out if joined else None

    @staticmethod
    def _exact(words: tuple[str, ...]) -> tuple | None:
        norm = " ".join(words)
        if _is_boilerplate(norm, words):
            return None
        return norm, words, () if len(words) == 1 else _sub_phrases(words)


_CLEANERS: dict[str, _Cleaner] = {}


def _cleaner(language: str) -> _Cleaner:
    cleaner = _CLEANERS.get(language)
    if cleaner is None:
        cleaner = _CLEANERS[language] = _Cleaner(_stopwords(language))
    return cleaner


def clear_caches() -> None:
    """Empty the per-word and per-phrase caches (benchmarks: time a cold extractor). The
    lexicon tables stay loaded."""
    for cleaner in _CLEANERS.values():
        cleaner.words.clear()
        cleaner.phrases.clear()
    for cached in (fold_plural, _norm_tokens, _word_class, _verb_gerund):
        cached.cache_clear()


# --------------------------------------------------------------------------------------------
# Corpus statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusStats:
    """Document frequencies of normalised words over a corpus (picklable, deterministic).

    ``df`` may hold only the words a batch of papers needs (read from the warehouse); a word
    it lacks counts as seen in no document."""

    n_docs: int
    df: dict[str, int] = field(default_factory=dict, hash=False, compare=True)

    def idf(self, word: str) -> float:
        """Smoothed IDF normalised to (0, 1]: 1 for a word seen in no document."""
        n = self.n_docs
        return (math.log((n + 1) / (self.df.get(word, 0) + 1)) + 1.0) / (math.log(n + 1) + 1.0)


def document_terms(text: str) -> set[str]:
    """The normalised words of a document (``"title\\nabstract"``), the unit of document
    frequency: the same normalisation as :func:`normalize_keyphrase`."""
    return set(map(fold_plural, set(_raw_tokens(text or ""))))


def build_corpus_stats(texts: Iterable[str]) -> CorpusStats:
    """Document frequencies of normalised words (same normalisation as keyphrases)."""
    df: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        df.update(document_terms(text))
    return CorpusStats(n_docs=n, df=dict(sorted(df.items())))


_TEXTS: list[str] = []
#: Counting costs ~45 us a document; a pool ~0.1 s more (fork, the counts back, merging):
#: below this many documents a worker, one process is faster.
_STATS_DOCS_PER_WORKER = 4000


def _count_span(span: tuple[int, int]) -> Counter[str]:
    df: Counter[str] = Counter()
    for text in _TEXTS[span[0] : span[1]]:
        df.update(document_terms(text))
    return df


def build_corpus_stats_parallel(texts: Sequence[str], workers: int | None = None) -> CorpusStats:
    """:func:`build_corpus_stats` with the documents split over ``workers`` processes
    (forked: they see ``texts`` without copying), at least ``_STATS_DOCS_PER_WORKER`` texts
    each (fewer: one process); the same result."""
    global _TEXTS
    texts = list(texts)
    workers = max(1, min(workers or os.cpu_count() or 1, len(texts) // _STATS_DOCS_PER_WORKER))
    ctx = _pool_context()
    if workers == 1 or ctx.get_start_method() != "fork":
        return build_corpus_stats(texts)
    step = math.ceil(len(texts) / workers)
    spans = [(i, min(i + step, len(texts))) for i in range(0, len(texts), step)]
    df: Counter[str] = Counter()
    _TEXTS = texts
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_freeze_inherited
        ) as pool:
            for part in pool.map(_count_span, spans):
                df.update(part)
    finally:
        _TEXTS = []
    return CorpusStats(n_docs=len(texts), df=dict(sorted(df.items())))


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


# A candidate (one normal form, its written forms merged) is a list, cheaper to make than an
# object: [phrase info (see _Cleaner._judge), best YAKE score h (as yake-rust gives it,
# rounded where ranked), summed frequency tf (0 until _term_frequency computes it),
# {written form: its lowercase} in order of score, the first form's lowercase].
_INFO, _H, _TF, _FORMS, _LOW = 0, 1, 2, 3, 4
# Phrase info, computed once per phrase: (norm, words, the normal forms of the contiguous
# shorter word sequences inside it).
_NORM, _WORDS, _SUBS = 0, 1, 2
_Cand = list


_LOWER_POSSESSIVE = re.compile(rf"\b([a-z][a-z]*)[{_APOSTROPHES}]s\b")
# Characters that end a run of words for frequency counting (YAKE's candidates never span
# punctuation); apostrophes and hyphens stay inside words.
_RUN_BREAK = re.compile(r"[^\w\s'\u2019\-]+")
_ASCII_RUN_BREAK = {c: "|" for c in range(128) if _RUN_BREAK.fullmatch(chr(c))}
_ALL_CANDIDATES = 1 << 30


def _clean_text(s: str) -> str:
    # YAKE's tokenizer silently drops "'s", gluing "today's knowledge economy" into one
    # candidate; a lowercase possessor is a phrase boundary, so make it one (proper-noun
    # possessors such as "Parkinson's disease" are left alone).
    s = " ".join(s.split())
    if "'" in s or "\u2019" in s or "\u02bc" in s:
        s = _LOWER_POSSESSIVE.sub(r"\1 ,", s)
    return s


def _join_title_abstract(title: str, abstract: str) -> tuple[str, str]:
    title = _clean_text(decode_latex(title or ""))
    abstract = _clean_text(decode_latex(abstract or ""))
    if title and title[-1] not in ".!?":
        title += "."
    return title, (title + " " + abstract).strip()


def _word_runs(text: str) -> str:
    """The lowercase text as `` w1 w2 | w3 ... `` (``|`` between runs, possessive ``'s``
    dropped as YAKE's tokenizer does): a candidate's frequency is ``count(" cand ")``."""
    s = text.lower()
    if "'" in s or "\u2019" in s or "\u02bc" in s:
        s = _POSSESSIVE.sub("", s)
    if s.isascii():
        # every break character -> "|" -> " | " (a run of them gives "| |": the same counts,
        # as no candidate holds "|"), without the regex
        return " " + " ".join(s.translate(_ASCII_RUN_BREAK).replace("|", " | ").split()) + " "
    return " " + " ".join(_RUN_BREAK.sub(" | ", s).split()) + " "


#: yake-rust's scores differ between calls by a few units in the last place (relative
#: differences below 3e-15 measured); ``h`` is rounded to this many significant bits
#: (a relative step of ~1e-6), which makes rankings and scores deterministic.
SCORE_BITS = 20
_SCORE_SCALE = float(1 << SCORE_BITS)


def _round_score(h: float) -> float:
    m, e = math.frexp(h)
    return math.ldexp(round(m * (1 << SCORE_BITS)), e - SCORE_BITS)


class KeyphraseExtractor:
    """YAKE-scored, cleaned, re-ranked keyphrases (see module docstring)."""

    def __init__(
        self, config: ExtractorConfig = ExtractorConfig(), corpus: CorpusStats | None = None
    ):
        import yake_rust

        self.config = config
        self.corpus = corpus
        self._cleaner = _cleaner(config.language)
        self._scorer = yake_rust.Yake(
            stopwords=set(self._cleaner.stopwords),
            ngrams=config.max_words,
            window_size=config.window_size,
            remove_duplicates=False,
        )
        n = corpus.n_docs if corpus is not None else 0
        self._idf_weight = n / (n + config.idf_prior_docs) if n else 0.0
        self._boost: dict[str, float] = {}
        self._idf: dict[str, float] = {}
        self._length_boost = [
            config.length_boost ** (k - 1) for k in range(config.length_boost_cap + 1)
        ]
        self._in_title: set[str] = set()
        _lexicon()  # load the lexicon now (shared with forked workers)

    # -- public ------------------------------------------------------------------------------

    def extract(self, title: str, abstract: str) -> list[Keyphrase]:
        return [
            Keyphrase(rank, kp, norm, score)
            for rank, (kp, norm, score) in enumerate(self.extract_tuples(title, abstract), 1)
        ]

    def extract_tuples(self, title: str, abstract: str) -> list[tuple[str, str, float]]:
        """:meth:`extract` as ``(keyphrase, keyphrase_norm, score)`` tuples, best first."""
        return self._ranked(self._prepared(title, abstract))

    def _prepared(self, title: str, abstract: str) -> tuple | None:
        """Steps 1-3 and the fragment test, none of which reads the corpus statistics:
        ``(candidates, text, frequency counter, phrases in the title)``, None for none."""
        title, text = _join_title_abstract(title, abstract)
        merged = self._candidates(text)
        if not merged:
            return None
        runs = _word_runs(text)
        count = runs.count
        if self.config.drop_fragments:
            cands = _drop_fragments(merged, count)
        else:
            cands = list(merged.values())
        in_title: set[str] = set()
        if self.config.title_boost != 1.0:
            title_norm = " " + " ".join(_norm_tokens(title)) + " "
            in_title = {c[_INFO][_NORM] for c in cands if f" {c[_INFO][_NORM]} " in title_norm}
        return cands, text, runs, in_title

    def _ranked(self, prepared: tuple | None) -> list[tuple[str, str, float]]:
        """Steps 4-5 of :meth:`_prepared`'s output (with this extractor's statistics)."""
        if prepared is None:
            return []
        cands, text, runs, self._in_title = prepared
        return self._select(cands, text, runs)

    def extract_text(self, text: str) -> list[Keyphrase]:
        """``text`` is "title\\nabstract" (first line = title), as in the JSONL files."""
        title, _, abstract = (text or "").partition("\n")
        return self.extract(title, abstract)

    # -- internals ---------------------------------------------------------------------------

    def _candidates(self, text: str) -> dict[str, _Cand]:
        """The cleaned candidates of ``text`` by normal form, in YAKE's order (best first)."""
        if not text:
            return {}
        scored = self._scorer.get_n_best(text, n=_ALL_CANDIDATES)
        if not scored:
            return {}
        cleaner = self._cleaner
        has_no_stopword = cleaner.stopwords.isdisjoint
        phrases = cleaner.phrases
        cached = phrases.get
        judge = cleaner._judge  # cached below (Cleaner.judge, inlined)
        max_phrases = cleaner.max_phrases
        lows = list(map(str.lower, map(itemgetter(0), scored)))
        merged: dict[str, _Cand] = {}
        # the cache lookups in one C loop (map): None = not judged yet, _REJECTED = rejected
        for (kw, h), low, info in zip(scored, lows, map(cached, lows)):  # noqa: B905
            if not info:
                if info is not None:
                    continue
                ws = low.split()
                if not has_no_stopword(ws) and "of" not in ws:
                    continue  # a stopword inside: most longer candidates, unique, not cached
                info = judge(low, ws)
                if len(phrases) >= max_phrases:
                    phrases.clear()
                phrases[low] = info or _REJECTED
                if info is None:
                    continue
            prev = merged.get(info[0])
            if prev is None:
                merged[info[0]] = [info, h, 0, {kw: low}, low]
            elif kw not in prev[_FORMS]:  # scores come best first: the first form has the best h
                prev[_FORMS][kw] = low
        return merged

    def _rerank(self, cands: list[_Cand]) -> list[tuple[float, str, _Cand]]:
        """``(h', norm, candidate)`` best first: h rounded to :data:`SCORE_BITS` bits
        (:func:`_round_score`, inlined) divided by the phrase's boost (cached per extractor)."""
        boost_of = self._boost
        title_boost = self.config.title_boost
        in_title = self._in_title if title_boost != 1.0 else ()
        frexp, ldexp, scale, bits = math.frexp, math.ldexp, _SCORE_SCALE, SCORE_BITS
        out = []
        append = out.append
        for c in cands:
            info = c[_INFO]
            norm = info[_NORM]
            boost = boost_of.get(norm)
            if boost is None:  # first time for this extractor
                if len(boost_of) >= 200_000:
                    boost_of.clear()
                boost = boost_of[norm] = self._phrase_boost(info[_WORDS])
            if in_title and norm in in_title:
                boost *= title_boost
            m, e = frexp(c[_H])
            append((ldexp(round(m * scale), e - bits) / boost, norm, c))
        out.sort()  # by (h', norm): norms are unique, so the candidates are never compared
        return out

    def _phrase_boost(self, words: tuple[str, ...]) -> float:
        """Length and specificity boost of a phrase (fixed for an extractor: cached)."""
        cfg = self.config
        boost = self._length_boost[min(len(words), cfg.length_boost_cap)]
        idf_exp = cfg.idf_power * self._idf_weight
        if self.corpus is not None and idf_exp > 0:
            memo = self._idf
            total = 0.0
            for w in words:
                v = memo.get(w)
                if v is None:
                    v = memo[w] = self.corpus.idf(w)
                total += v
            boost *= (total / len(words)) ** idf_exp
        return boost

    def _select(
        self, cands: list[_Cand], text: str = "", runs: str | None = None
    ) -> list[tuple[str, str, float]]:
        """Rank, remove near-duplicates and phrases cut from a sentence or a longer phrase
        (:meth:`_reads_cut`), cut to ``top``. The first ``distinct_top`` hold no phrase
        inside another one: a phrase inside (or around) one of them waits, and comes right
        after them, its score lowered to the last one's (scores never rise down the list)."""
        if runs is None:
            runs = _word_runs(text)
        distinct_top = self.config.distinct_top
        padded: list[str] = []  # " norm " of the chosen phrases, while fewer than distinct_top
        waiting: list[tuple[float, _Cand]] = []  # inside (or around) one of those
        chosen: list[tuple[float, _Cand]] = []
        seen_forms: set[str] = set()
        seen_bags: set[frozenset[str]] = set()
        seen_words: set[str] = set()  # the words of the chosen phrases
        top = self.config.top
        drop_single = self.config.drop_contained_single_words
        for h, norm, c in self._rerank(cands):
            words = c[_INFO][_WORDS]
            if len(words) == 1:
                if norm in seen_forms:
                    continue
                if drop_single and norm in seen_words:
                    continue  # "attitudes" after "computer attitudes"
                bag = frozenset(words)
                if bag in seen_bags:
                    continue
                seen_forms.add(norm)
            else:
                squashed = "".join(words)
                if norm in seen_forms or squashed in seen_forms:
                    continue  # same phrase up to spaces ("data set"/"dataset")
                bag = frozenset(words)
                if bag in seen_bags:
                    continue  # same words in another order
                seen_forms.add(norm)
                seen_forms.add(squashed)
            if self._reads_cut(c, runs):
                continue
            seen_bags.add(bag)
            seen_words.update(words)
            if len(chosen) < distinct_top:
                p = f" {norm} "
                if any(p in q or q in p for q in padded):
                    waiting.append((h, c))  # "flow matching" and "discrete flow matching"
                    continue
                padded.append(p)
                if len(chosen) + 1 == distinct_top:
                    chosen += [(h, c)] + [(max(h, h2), c2) for h2, c2 in waiting]
                    waiting = []
                    if len(chosen) >= top:
                        break
                    continue
            chosen.append((h, c))
            if len(chosen) >= top:
                break
        chosen = chosen[:top]  # fewer than distinct_top phrases: those waiting are dropped
        count = runs.count
        return [
            (_best_surface(c, text, count), c[_INFO][_NORM], float(1.0 / (1.0 + h)))
            for h, c in chosen
        ]

    def _reads_cut(self, c: _Cand, runs: str) -> bool:
        """True for a phrase of several words that the text shows to be cut from a sentence
        or a longer phrase: it ends in a word that can be a verb ("offers", "route") and some
        occurrence is followed by a word that follows verbs only ("... offers a systematic
        approach", :data:`OBJECT_WORDS`); it starts with a word that can be a verb and some
        occurrence comes after a word that precedes verbs only ("we model user preferences",
        :data:`SUBJECT_WORDS`); it starts or ends inside an "X of Y" term ("experts models
        scale" after "mixture of"); or it has ``max_words`` words (YAKE's longest) and every
        occurrence is followed by a word that can end a noun phrase ("General-purpose Gene
        Task Large Language" + "Model"). ``runs``: :func:`_word_runs` of the text. Only the
        phrases that reach the ranking are checked."""
        low = c[_LOW]
        n = low.count(" ") + 1
        if n < 2:
            return False
        word = self._cleaner.word
        first, last = low[: low.find(" ")], low[low.rfind(" ") + 1 :]
        verbal_end = word(last)[0] & _VERB
        verbal_start = word(first)[0] & _VERB
        xs, ys = _of_term_ends()
        first_tokens, last_tokens = word(first)[1], word(last)[1]
        of_start = bool(first_tokens) and first_tokens[-1] in ys
        of_end = bool(last_tokens) and last_tokens[0] in xs
        always_continued = n >= self.config.max_words
        if not (verbal_end or verbal_start or of_start or of_end or always_continued):
            return False
        found = False
        for form in c[_FORMS].values():
            needle = f" {form} "
            start = runs.find(needle)
            while start >= 0:
                found = True
                end = start + len(needle)
                after = runs[end : runs.find(" ", end)] if end < len(runs) else ""
                if verbal_end and after in OBJECT_WORDS:
                    return True
                before = runs[runs.rfind(" ", 0, start) + 1 : start] if start else ""
                if verbal_start and before in SUBJECT_WORDS:
                    return True
                if of_start and before == "of":
                    x = runs[runs.rfind(" ", 0, start - 3) + 1 : start - 3]
                    if self._cleaner._join_of_terms([x, "of", first]):
                        return True
                if of_end and after == "of":
                    y_start = end + 3
                    y = runs[y_start : runs.find(" ", y_start)]
                    if self._cleaner._join_of_terms([last, "of", y]):
                        return True
                if always_continued and not (after and word(after)[0] & _HEAD):
                    always_continued = False
                start = runs.find(needle, start + 1)
        return found and always_continued


def _term_frequency(c: _Cand, count: Any) -> int:
    """A candidate's frequency (computed on first use): the sum over its written forms of
    the times the form's lowercase words occur in a row (``count`` of :func:`_word_runs`)."""
    tf = c[_TF]
    if not tf:
        forms = c[_FORMS]
        if len(forms) == 1:
            tf = c[_TF] = count(f" {c[_LOW]} ") or 1
        else:
            tf = c[_TF] = sum([count(f" {low} ") or 1 for low in forms.values()])
    return tf


def _sub_phrases(words: tuple[str, ...]) -> Sequence[str]:
    """The normal forms of the contiguous shorter word sequences inside a phrase of two or
    more words."""
    n = len(words)
    if n == 2:
        return words
    if n == 3:
        a, b, c = words
        return a, b, c, f"{a} {b}", f"{b} {c}"
    return words + tuple(
        [" ".join(words[i:j]) for i in range(n - 1) for j in range(i + 2, n + 1 if i else n)]
    )


def _drop_fragments(merged: dict[str, _Cand], count: Any) -> list[_Cand]:
    """Drop a phrase that (almost) only occurs inside a longer surviving candidate:
    "tract normalization" when "vocal tract normalization" occurs as often. ``merged`` maps
    normal forms to candidates."""
    fragment: set[str] = set()
    get = merged.get
    for c in merged.values():
        subs = c[_INFO][_SUBS]
        if not subs:
            continue
        tf = 0
        for s in filter(None, map(get, subs)):  # the sub-phrases that are candidates too
            if not tf:
                tf = c[_TF] or _term_frequency(c, count)
            if (s[_TF] or _term_frequency(s, count)) <= tf:
                fragment.add(s[_INFO][_NORM])
    if fragment:
        return [c for norm, c in merged.items() if norm not in fragment]
    return list(merged.values())


def _best_surface(c: _Cand, text: str, count: Any) -> str:
    """Most frequent written form (ties: fewer capitals, then lexical). A capital that is only
    there because the phrase starts a sentence/title is dropped when the text also has the
    phrase in lowercase."""
    forms = c[_FORMS]
    if len(forms) == 1:
        form = next(iter(forms))
    else:
        form = min(
            forms.items(),
            key=lambda kv: (
                -(count(f" {kv[1]} ") or 1),
                sum(ch.isupper() for ch in kv[0]),
                kv[0],
            ),
        )[0]
    if form[:1].isupper() and form[1:2].islower():
        lowered = form[0].lower() + form[1:]
        if _occurs_as_words(lowered, text):
            return lowered
    return form


def _occurs_as_words(phrase: str, text: str) -> bool:
    """``phrase`` occurs in ``text`` not glued to a word character or hyphen on either side
    (the regex ``(?<![\\w-])phrase(?![\\w-])`` without compiling one per phrase)."""
    start = text.find(phrase)
    while start >= 0:
        end = start + len(phrase)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not _glued(before) and not _glued(after):
            return True
        start = text.find(phrase, start + 1)
    return False


def _glued(ch: str) -> bool:
    return ch == "-" or ch == "_" or ch.isalnum()  # what ``[\\w-]`` matches


# --------------------------------------------------------------------------------------------
# Batch / parallel extraction
# --------------------------------------------------------------------------------------------

_WORKER: KeyphraseExtractor | None = None
_DOCS: list[tuple[str, str, str]] = []


def _freeze_inherited() -> None:
    """In a forked worker: move everything inherited from the parent out of the garbage
    collector's sight (``gc.freeze``, constant time). Otherwise each full collection walks a
    big parent's objects (100k papers in memory) and copies their pages."""
    import gc

    gc.freeze()


#: In a forked worker while the parent still counts the corpus statistics (``extract_many(...,
#: corpus="auto")``): (file the parent writes them to, event set once written, parent pid).
_PENDING_CORPUS: tuple[str, Any, int] | None = None


def _init_worker(
    config: ExtractorConfig,
    corpus: CorpusStats | None,
    pending: tuple[str, Any, int] | None = None,
) -> None:
    global _WORKER, _PENDING_CORPUS
    _freeze_inherited()
    _WORKER = KeyphraseExtractor(config, corpus)
    _PENDING_CORPUS = pending


def _corpus_arrived(wait: bool) -> bool:
    """Load the statistics the parent was counting once they are written (``wait``: until
    then); True once the worker's extractor has them."""
    global _WORKER, _PENDING_CORPUS
    if _PENDING_CORPUS is None:
        return True
    path, ready, parent = _PENDING_CORPUS
    if not ready.is_set():
        if not wait:
            return False
        while not ready.wait(1.0):
            if os.getppid() != parent:
                raise RuntimeError("keyphrase worker: the parent process is gone")
    with open(path, "rb") as fh:  # absent if counting failed: the parent raises anyway
        corpus = pickle.load(fh)
    assert _WORKER is not None
    _WORKER = KeyphraseExtractor(_WORKER.config, corpus)
    _PENDING_CORPUS = None
    return True


def _run_span(span: tuple[int, int]) -> list[list[tuple[str, str, float]]]:
    """Extract docs ``_DOCS[start:stop]`` (inherited from the parent by fork); plain tuples
    travel back cheaper than dataclasses. While the parent still counts the corpus
    statistics, docs are scored and cleaned (which needs none) and ranked once they come."""
    docs = _DOCS[span[0] : span[1]]
    out: list[list[tuple[str, str, float]]] = []
    if _PENDING_CORPUS is not None:
        assert _WORKER is not None
        prepare = _WORKER._prepared
        waiting = []
        for _, title, abstract in docs:
            waiting.append(prepare(title, abstract))
            if _corpus_arrived(wait=False):
                break
        else:
            _corpus_arrived(wait=True)
        assert _WORKER is not None
        out = [_WORKER._ranked(p) for p in waiting]
        docs = docs[len(waiting) :]
    assert _WORKER is not None
    extract = _WORKER.extract_tuples
    out += [extract(title, abstract) for _, title, abstract in docs]
    return out


def _pool_context() -> Any:
    """fork where available: workers inherit the loaded lexicon, caches and the documents."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def extract_many(
    docs: Sequence[tuple[str, str, str]],
    config: ExtractorConfig = ExtractorConfig(),
    corpus: CorpusStats | str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
) -> dict[str, list[Keyphrase]]:
    """Extract keyphrases for ``(id, title, abstract)`` docs; ``{id: [Keyphrase, ...]}``.

    ``workers=None`` uses ``os.cpu_count()``; ``workers=1`` runs serially in-process. Each doc
    is processed independently, so the result is identical regardless of ``workers``. Keys keep
    the input order. ``corpus="auto"``: the statistics of the docs themselves (each
    ``title\nabstract``, :func:`build_corpus_stats`); on several workers the parent counts
    them while the workers already score and clean (which needs none).
    """
    global _DOCS
    auto = isinstance(corpus, str)
    if auto and corpus != "auto":
        raise ValueError(f'corpus must be CorpusStats, None or "auto", not {corpus!r}')
    docs = [(str(d[0]), d[1] or "", d[2] or "") for d in docs]
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, len(docs) or 1))
    ctx = _pool_context()
    if auto and (workers == 1 or len(docs) < 2 * workers or ctx.get_start_method() != "fork"):
        corpus, auto = _docs_stats(docs), False
    stats = None if auto else corpus
    assert not isinstance(stats, str)
    ex = KeyphraseExtractor(config, stats)  # also warms imports/lexicon before forking
    if workers == 1 or len(docs) < 2 * workers:
        return {pid: ex.extract(t, a) for pid, t, a in docs}
    spans = _spans(len(docs), workers, chunk_size)
    out: dict[str, list[Keyphrase]] = {}
    _DOCS = docs
    try:
        with contextlib.ExitStack() as stack:
            pending = None
            if auto:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="keyphrase-stats-"))
                pending = (os.path.join(tmp, "corpus.pickle"), ctx.Event(), os.getpid())
            pool = stack.enter_context(
                ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(config, stats, pending),
                )
            )
            # on an error, do not wait for the chunks not started yet
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            if ctx.get_start_method() != "fork":  # workers cannot see _DOCS: send the chunks
                parts = pool.map(_run_docs, [docs[a:b] for a, b in spans])
            else:
                parts = pool.map(_run_span, spans)  # the workers start now
            if pending is not None:
                path, ready, _ = pending
                try:
                    data = pickle.dumps(_docs_stats(docs), protocol=pickle.HIGHEST_PROTOCOL)
                    atomic_write(Path(path), data)
                finally:
                    ready.set()  # also on failure: the workers stop waiting
            for (start, _), part in zip(spans, parts, strict=True):
                for offset, kps in enumerate(part):
                    out[docs[start + offset][0]] = [
                        Keyphrase(rank, kp, norm, score)
                        for rank, (kp, norm, score) in enumerate(kps, start=1)
                    ]
    finally:
        _DOCS = []
    return out


def _docs_stats(docs: Sequence[tuple[str, str, str]]) -> CorpusStats:
    """:func:`build_corpus_stats` of ``(id, title, abstract)`` docs, each ``title\nabstract``
    as in the warehouse (``transforms.keyphrase_store.paper_text``)."""
    return build_corpus_stats(f"{title}\n{abstract}" for _, title, abstract in docs)


def _spans(n: int, workers: int, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """``[start, stop)`` chunks of ``n`` docs. ``chunk_size=None``: guided, each chunk a
    third of a worker's share of the docs left (at least 8 docs): few round trips (27 for
    2,000 docs on 2 workers), and the last chunks (~15 ms of work) end close together."""
    if chunk_size is not None:
        return [(i, min(i + chunk_size, n)) for i in range(0, n, chunk_size)]
    spans = []
    start = 0
    while start < n:
        stop = min(n, start + max(8, math.ceil((n - start) / (workers * 3))))
        spans.append((start, stop))
        start = stop
    return spans


def _run_docs(chunk: list[tuple[str, str, str]]) -> list[list[tuple[str, str, float]]]:
    global _DOCS
    _DOCS = chunk
    return _run_span((0, len(chunk)))


# --------------------------------------------------------------------------------------------
# Warehouse helpers (polars)
# --------------------------------------------------------------------------------------------


def _keyphrase_schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {
        "paper_id": pl.String,
        "rank": pl.Int32,
        "keyphrase": pl.String,
        "keyphrase_norm": pl.String,
        "score": pl.Float64,
        "extractor_version": pl.String,
    }


def __getattr__(name: str) -> Any:
    if name == "KEYPHRASE_SCHEMA":  # built on first use: importing polars costs ~0.1 s
        return _keyphrase_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def select_pending(papers: pl.DataFrame, existing: pl.DataFrame, version: str) -> pl.DataFrame:
    """Papers (``paper_id, title, abstract``) with no ``existing`` row for ``version``."""
    import polars as pl

    if existing is None or existing.height == 0:
        return papers
    done = (
        existing.lazy()
        .filter(pl.col("extractor_version") == version)
        .select(pl.col("paper_id").cast(pl.String))
        .unique()
        .collect()
    )
    if done.height == 0:
        return papers
    pid = pl.col("paper_id").cast(pl.String).alias("__pid")
    return (
        papers.with_columns(pid)
        .join(done.rename({"paper_id": "__pid"}), on="__pid", how="anti", maintain_order="left")
        .drop("__pid")
    )


def keyphrases_frame(results: dict[str, list[Keyphrase]], version: str) -> pl.DataFrame:
    """Long table with exactly the columns of ``raw.paper_keyphrases`` (see KEYPHRASE_SCHEMA)."""
    import polars as pl

    schema = _keyphrase_schema()
    rows: dict[str, list] = {k: [] for k in schema}
    for pid, kps in results.items():
        for kp in kps:
            rows["paper_id"].append(str(pid))
            rows["rank"].append(kp.rank)
            rows["keyphrase"].append(kp.keyphrase)
            rows["keyphrase_norm"].append(kp.keyphrase_norm)
            rows["score"].append(float(kp.score))
            rows["extractor_version"].append(version)
    return pl.DataFrame(rows, schema=schema)


# --------------------------------------------------------------------------------------------
# JSONL CLI helper
# --------------------------------------------------------------------------------------------


def _read_jsonl_docs(input_path: str | os.PathLike) -> list[tuple[str, str]]:
    docs: list[tuple[str, str]] = []
    with open(input_path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{input_path}: line {lineno}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("text"), str):
                raise ValueError(
                    f'{input_path}: line {lineno}: expected an object with "id" and a string "text"'
                )
            docs.append((str(obj["id"]), obj["text"]))
    return docs


def extract_jsonl(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    top: int = 10,
    workers: int | None = None,
    corpus: CorpusStats | str | None = "auto",
) -> int:
    """Read ``{"id", "text"}`` lines, write ``{"id", "keyphrases": [surface, ...]}`` (best first).

    Uses exactly the pipeline's extractor (product config with ``top`` overridden). Corpus
    statistics default to the input file itself (``corpus="auto"``), mirroring the pipeline,
    where the corpus is every paper in the warehouse; pass ``None`` for none. The output is
    written atomically (temp file in the same directory + ``os.replace``). Returns #docs.
    """
    from dataclasses import replace

    docs = _read_jsonl_docs(input_path)
    if isinstance(corpus, str):
        corpus = "auto"  # counted while the workers score (extract_many)
    config = replace(ExtractorConfig(), top=top)
    split_docs = []
    for doc_id, text in docs:
        title, _, abstract = text.partition("\n")
        split_docs.append((doc_id, title, abstract))
    results = extract_many(split_docs, config=config, corpus=corpus, workers=workers)
    lines = [
        json.dumps({"id": doc_id, "keyphrases": [k.keyphrase for k in results[doc_id]]}) + "\n"
        for doc_id, _, _ in split_docs
    ]
    atomic_write(Path(output_path), "".join(lines))
    return len(split_docs)
