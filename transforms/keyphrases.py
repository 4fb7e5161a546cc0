"""Ranked keyphrases for a paper (title + abstract), YAKE-scored and cleaned for readers.

Pipeline for one paper
----------------------
1. **YAKE scores candidates.** The title and the abstract are joined with a sentence break and
   handed to YAKE 0.7.3 (``yake.data.DataCore``, the same data structure
   ``yake.KeywordExtractor.extract_keywords`` builds; we read *all* valid n-gram candidates with
   their YAKE score ``h`` (lower = better) instead of YAKE's own top-k, i.e. the same as
   ``KeywordExtractor(lan="en", n=..., window_size=..., dedup_lim=1.0, top=all)``). n-grams
   containing a stopword or a digit token are not materialised (YAKE would reject or we would
   drop them anyway), which keeps ``n`` = 5 cheaper than plain YAKE with ``n`` = 3.
2. **Candidate filtering.** Only noun-phrase-like candidates survive, judged with the
   context-free part-of-speech lexicon of ``lemminflect`` (no tagger model): the last word must
   be able to be a noun, the other words nouns/adjectives/participles; no stopword inside the
   phrase, no verb form ("results show"), no adverb, no phrase ending in a past participle, no
   phrase starting with a verb-only gerund ("merging convolutive source"); no boilerplate of
   abstracts ("paper", "proposed method", "state-of-the-art", "experimental results"), no bare
   numbers, no single vague word ("model").
3. **Normalisation.** Every phrase gets one normal form (:func:`normalize_keyphrase`: Unicode
   NFKC, lowercase, hyphens/slashes/underscores -> spaces, whitespace collapsed, possessive
   dropped, plural folding of every word: "Language-Models" -> "language model"). Candidates with
   the same normal form are merged (best YAKE score, summed frequency). The surface form kept is
   the most frequent written form in the text.
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
   dropped too.

Score
-----
``Keyphrase.score = 1 / (1 + h')`` where ``h'`` is the re-ranked YAKE score (lower is better),
so ``score`` is in (0, 1] and **higher = better**; ranks follow descending score (ties broken by
normal form, so output is deterministic).

Versioning and incrementality
-----------------------------
``ExtractorConfig.version()`` hashes ``EXTRACTOR_CODE_VERSION`` and every config field. Rows in
``raw.paper_keyphrases`` carry that version; :func:`select_pending` returns papers that have no
rows for the current version, so a config or code change re-extracts everything and an unchanged
version extracts only new papers.

Corpus statistics are a *snapshot* taken at extraction time (document frequencies over all papers
in the warehouse). They are **not** part of the version: new papers changing the document
frequencies do not trigger re-extraction of old papers (each paper's keyphrases are computed
with the corpus as it was when the paper was extracted). Results are deterministic for a given
(config, corpus snapshot, paper). To re-rank old papers against a newer corpus, bump the code
version or change a config field.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from transforms.keyphrase_lexicon import (
    BOILERPLATE_PHRASES,
    ED_NOUNS,
    GENERIC_WORDS,
    IRREGULAR_PLURALS,
    LY_NOUNS,
    NON_HEAD_WORDS,
    NON_PLURAL_S,
    TECH_GERUNDS,
    VERB_FORMS,
    WEAK_SINGLE_WORDS,
)

EXTRACTOR_CODE_VERSION = "2026.11.1"

__all__ = [
    "EXTRACTOR_CODE_VERSION",
    "KEYPHRASE_SCHEMA",
    "CorpusStats",
    "ExtractorConfig",
    "Keyphrase",
    "KeyphraseExtractor",
    "build_corpus_stats",
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

    def version(self) -> str:
        """Stable short hash of the code version and all fields (differs when any field does)."""
        payload = json.dumps(
            {"code": EXTRACTOR_CODE_VERSION, **asdict(self)}, sort_keys=True, default=str
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
_POSSESSIVE = re.compile(r"['\u2019]s\b")
_TOKEN = re.compile(r"[^\W_]+(?:\+\+|#)?")
_NUMERIC = re.compile(r"^[0-9]+(?:[.,][0-9]+)*$")


@lru_cache(maxsize=100_000)
def fold_plural(word: str) -> str:
    """Fold an English plural (lowercase word) to its singular; leave everything else alone.

    Handles irregular forms (``matrices`` -> ``matrix``), ``-ies`` -> ``-y`` (``studies``),
    ``-sses``/``-xes``/``-ches``/``-shes`` -> drop ``es`` and plain ``-s``; words that merely
    end in s (``analysis``, ``bus``, ``process``, ``physics``, ``series``) are kept.
    """
    w = word
    if w in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[w]
    if len(w) <= 3 or w in NON_PLURAL_S or not w.endswith("s") or not w.isalpha():
        return w
    if w.endswith(("ss", "us", "is")):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("sses"):
        return w[:-2]
    if w.endswith(("xes", "ches", "shes", "zzes")):
        return w[:-2]
    return w[:-1]


@lru_cache(maxsize=200_000)
def _norm_tokens(phrase: str) -> tuple[str, ...]:
    s = unicodedata.normalize("NFKC", phrase).lower()
    s = _POSSESSIVE.sub("", s)
    s = _SEPARATORS.sub(" ", s)
    return tuple(fold_plural(t) for t in _TOKEN.findall(s))


def normalize_keyphrase(phrase: str) -> str:
    """One normal form per phrase: NFKC, lowercase, hyphens/dashes/slashes -> space, possessive
    ``'s`` dropped, punctuation removed, whitespace collapsed, every word plural-folded.

    >>> normalize_keyphrase("  Large-Language   Models ")
    'large language model'
    """
    return " ".join(_norm_tokens(phrase))


@lru_cache(maxsize=4)
def _yake_stopwords(language: str = "en") -> frozenset[str]:
    import yake

    return frozenset(yake.KeywordExtractor(lan=language).stopword_set)


def is_boilerplate(norm: str) -> bool:
    """True for normal forms that are abstract boilerplate, bare numbers or vague single words."""
    words = norm.split()
    if not words:
        return True
    if norm in BOILERPLATE_PHRASES:
        return True
    if all(_NUMERIC.match(w) for w in words):
        return True
    if all(w in GENERIC_WORDS for w in words):
        return True
    if len(words) == 1 and (
        words[0] in WEAK_SINGLE_WORDS or len(words[0]) < 2 or words[0] in _yake_stopwords()
    ):
        return True
    if any(w in VERB_FORMS for w in words):  # "results show", "proposed method"
        return True
    return "state of the art" in norm


def _is_adverb(w: str) -> bool:
    return len(w) > 4 and w.endswith("ly") and w not in LY_NOUNS


def _is_participle(w: str) -> bool:
    return len(w) > 4 and w.endswith("ed") and w not in ED_NOUNS


@lru_cache(maxsize=200_000)
def _word_class(word: str) -> tuple[bool, bool]:
    """(can_head, can_modify) for a lowercase word, from the lemminflect lexicon of possible
    parts of speech (context-free; unknown words - typically technical terms - can do both).

    A head (last word) must be able to be a noun; gerunds ("parsing", "forecasting") count as
    nouns. A modifier must be able to be a noun or an adjective, or be a participle
    ("distributed", "learning"); pure verbs ("propose") and pure adverbs cannot be either.
    """
    from lemminflect import getAllLemmas

    if word in VERB_FORMS or _is_adverb(word):
        return False, False
    pos = set(getAllLemmas(word))
    if not pos:
        return True, True
    participle = "VERB" in pos and word.endswith(("ing", "ed", "en"))
    noun = bool(pos & {"NOUN", "PROPN"}) or (participle and word.endswith("ing"))
    modifier = noun or "ADJ" in pos or participle or "NUM" in pos
    return noun, modifier


@lru_cache(maxsize=200_000)
def _verb_gerund(word: str) -> bool:
    """An -ing word the lexicon knows only as a verb ("merging", "involving"): starting a
    phrase it is almost always a verb taking an object ("merging convolutive source")."""
    from lemminflect import getAllLemmas

    return word.endswith("ing") and word not in TECH_GERUNDS and set(getAllLemmas(word)) == {"VERB"}


def _np_like(words: Sequence[str], stopwords: frozenset[str]) -> bool:
    """Cheap noun-phrase test on lowercase tokens: (modifier)* head, no stopword inside."""
    for w in words:
        if w in stopwords or len(w) < 2 or not any(c.isalpha() for c in w):
            return False
    last = words[-1]
    if last in NON_HEAD_WORDS or _is_participle(last) or not _word_class(last)[0]:
        return False
    for w in words[:-1]:
        if not _word_class(w)[1]:
            return False
    if len(words) > 1 and _verb_gerund(words[0]):
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


# --------------------------------------------------------------------------------------------
# Corpus statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusStats:
    """Document frequencies of normalised words over a corpus (picklable, deterministic)."""

    n_docs: int
    df: dict[str, int] = field(default_factory=dict, hash=False, compare=True)

    def idf(self, word: str) -> float:
        """Smoothed IDF normalised to (0, 1]: 1 for a word seen in no document."""
        n = self.n_docs
        return (math.log((n + 1) / (self.df.get(word, 0) + 1)) + 1.0) / (math.log(n + 1) + 1.0)


def _doc_words(text: str) -> set[str]:
    return set(_norm_tokens(text))


def build_corpus_stats(texts: Iterable[str]) -> CorpusStats:
    """Document frequencies of normalised words (same normalisation as keyphrases)."""
    df: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        df.update(_doc_words(text or ""))
    return CorpusStats(n_docs=n, df=dict(sorted(df.items())))


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


@dataclass
class _Cand:
    norm: str
    words: tuple[str, ...]
    h: float
    tf: float
    surfaces: Counter
    in_title: bool


_LOWER_POSSESSIVE = re.compile(r"\b([a-z][a-z]*)['\u2019]s\b")


def _clean_text(s: str) -> str:
    # YAKE's tokenizer silently drops "'s", gluing "today's knowledge economy" into one
    # candidate; a lowercase possessor is a phrase boundary, so make it one (proper-noun
    # possessors such as "Parkinson's disease" are left alone).
    return _LOWER_POSSESSIVE.sub(r"\1 ,", " ".join(s.split()))


def _join_title_abstract(title: str, abstract: str) -> tuple[str, str]:
    title = _clean_text(title or "")
    abstract = _clean_text(abstract or "")
    if title and title[-1] not in ".!?":
        title += "."
    return title, (title + " " + abstract).strip()


def _pruned_core_class():
    from yake.data import DataCore
    from yake.data.composed_word import ComposedWord

    class PrunedDataCore(DataCore):
        """YAKE's DataCore that does not materialise n-grams containing a stopword or a
        digit/"unusual" token: YAKE marks those invalid anyway (stopword at an end) or we
        drop them (stopword inside), so scores of all remaining candidates are unchanged
        while n-gram generation gets much cheaper for ``n`` = 4-5."""

        def _generate_candidates(self, term, term_obj, block_of_word_obj, n):
            candidate = [(*term, term_obj)]
            self.add_or_update_composedword(ComposedWord(candidate))
            discard = self.tags_to_discard
            if term_obj.stopword or term[0] in discard:
                return
            for w in range(
                len(block_of_word_obj) - 1, max(0, len(block_of_word_obj) - (n - 1)) - 1, -1
            ):
                prev = block_of_word_obj[w]
                if prev[2].stopword or prev[0] in discard:
                    break
                candidate.append(prev)
                self.add_or_update_composedword(ComposedWord(candidate[::-1]))

    return PrunedDataCore


class _LazyCore:
    cls = None

    def __call__(self, **kwargs):
        if _LazyCore.cls is None:
            _LazyCore.cls = _pruned_core_class()
        return _LazyCore.cls(**kwargs)


_PrunedDataCore = _LazyCore()


class KeyphraseExtractor:
    """YAKE-scored, cleaned, re-ranked keyphrases (see module docstring)."""

    def __init__(
        self, config: ExtractorConfig = ExtractorConfig(), corpus: CorpusStats | None = None
    ):
        self.config = config
        self.corpus = corpus
        self._stopwords = _yake_stopwords(config.language)
        self._core_config = {"windows_size": config.window_size, "n": config.max_words}
        n = corpus.n_docs if corpus is not None else 0
        self._idf_weight = n / (n + config.idf_prior_docs) if n else 0.0
        _word_class("model")  # load the lexicon now (shared with forked workers)

    # -- public ------------------------------------------------------------------------------

    def extract(self, title: str, abstract: str) -> list[Keyphrase]:
        title, text = _join_title_abstract(title, abstract)
        return self._extract(title, text)

    def extract_text(self, text: str) -> list[Keyphrase]:
        """``text`` is "title\\nabstract" (first line = title), as in the JSONL files."""
        title, _, abstract = (text or "").partition("\n")
        return self.extract(title, abstract)

    # -- internals ---------------------------------------------------------------------------

    def _candidates(self, title: str, text: str) -> list[_Cand]:
        if not text:
            return []
        dc = _PrunedDataCore(text=text, stopword_set=self._stopwords, config=self._core_config)
        dc.build_single_terms_features()
        title_norm = " " + " ".join(_norm_tokens(title)) + " "
        merged: dict[str, _Cand] = {}
        stop = self._stopwords
        for c in dc.candidates.values():
            if not c.is_valid():
                continue
            if not _np_like(c.unique_kw.split(), stop):
                continue
            words = _norm_tokens(c.kw)
            norm = " ".join(words)
            if is_boilerplate(norm):
                continue
            # YAKE's multi-word score, computed only for candidates that survived filtering
            # (``DataCore.build_mult_terms_features`` does the same call for every candidate).
            c.update_h()
            prev = merged.get(norm)
            if prev is None:
                merged[norm] = _Cand(
                    norm, words, c.h, c.tf, Counter({c.kw: c.tf}), f" {norm} " in title_norm
                )
            else:
                prev.h = min(prev.h, c.h)
                prev.tf += c.tf
                prev.surfaces[c.kw] += c.tf
        cands = list(merged.values())
        if self.config.drop_fragments:
            cands = _drop_fragments(cands)
        return cands

    def _rerank(self, cands: list[_Cand]) -> list[tuple[float, _Cand]]:
        cfg = self.config
        corpus = self.corpus
        idf_exp = cfg.idf_power * self._idf_weight
        out = []
        for c in cands:
            boost = cfg.length_boost ** (min(len(c.words), cfg.length_boost_cap) - 1)
            if corpus is not None and idf_exp > 0:
                boost *= (sum(corpus.idf(w) for w in c.words) / len(c.words)) ** idf_exp
            if c.in_title:
                boost *= cfg.title_boost
            out.append((c.h / boost, c))
        out.sort(key=lambda t: (t[0], t[1].norm))
        return out

    def _extract(self, title: str, text: str) -> list[Keyphrase]:
        return self._select(self._candidates(title, text), text)

    def _select(self, cands: list[_Cand], text: str = "") -> list[Keyphrase]:
        """Rank, remove near-duplicates, cut to ``top``."""
        chosen: list[tuple[float, _Cand]] = []
        seen_forms: set[str] = set()
        seen_bags: list[frozenset[str]] = []
        for h, c in self._rerank(cands):
            squashed = c.norm.replace(" ", "")
            bag = frozenset(c.words)
            if c.norm in seen_forms or squashed in seen_forms or bag in seen_bags:
                continue  # same phrase up to spaces ("data set"/"dataset") or word order
            if (
                self.config.drop_contained_single_words
                and len(c.words) == 1
                and any(bag <= b for b in seen_bags)
            ):
                continue  # "attitudes" after "computer attitudes"
            seen_forms.add(c.norm)
            seen_forms.add(squashed)
            seen_bags.append(bag)
            chosen.append((h, c))
            if len(chosen) >= self.config.top:
                break
        return [
            Keyphrase(
                rank=i,
                keyphrase=_best_surface(c, text),
                keyphrase_norm=c.norm,
                score=float(1.0 / (1.0 + h)),
            )
            for i, (h, c) in enumerate(chosen, start=1)
        ]


def _drop_fragments(cands: list[_Cand]) -> list[_Cand]:
    """Drop a phrase that (almost) only occurs inside a longer surviving candidate:
    "tract normalization" when "vocal tract normalization" occurs as often."""
    by_norm = {c.norm: c for c in cands}
    fragment: set[str] = set()
    for c in cands:
        n = len(c.words)
        if n < 2:
            continue
        for i in range(n):
            for j in range(i + 1, n + 1):
                if j - i == n:
                    continue
                sub = " ".join(c.words[i:j])
                s = by_norm.get(sub)
                if s is not None and s.tf <= c.tf:
                    fragment.add(sub)
    return [c for c in cands if c.norm not in fragment]


def _best_surface(c: _Cand, text: str) -> str:
    """Most frequent written form (ties: fewer capitals, then lexical). A capital that is only
    there because the phrase starts a sentence/title is dropped when the text also has the
    phrase in lowercase."""
    form = min(
        c.surfaces.items(), key=lambda kv: (-kv[1], sum(ch.isupper() for ch in kv[0]), kv[0])
    )[0]
    if form[:1].isupper() and form[1:2].islower():
        lowered = form[0].lower() + form[1:]
        if re.search(r"(?<![\w-])" + re.escape(lowered) + r"(?![\w-])", text):
            return lowered
    return form


# --------------------------------------------------------------------------------------------
# Batch / parallel extraction
# --------------------------------------------------------------------------------------------

_WORKER: KeyphraseExtractor | None = None


def _init_worker(config: ExtractorConfig, corpus: CorpusStats | None) -> None:
    global _WORKER
    _WORKER = KeyphraseExtractor(config, corpus)


def _run_chunk(chunk: list[tuple[str, str, str]]) -> list[tuple[str, list[Keyphrase]]]:
    assert _WORKER is not None
    return [(pid, _WORKER.extract(title, abstract)) for pid, title, abstract in chunk]


def extract_many(
    docs: Sequence[tuple[str, str, str]],
    config: ExtractorConfig = ExtractorConfig(),
    corpus: CorpusStats | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
) -> dict[str, list[Keyphrase]]:
    """Extract keyphrases for ``(id, title, abstract)`` docs; ``{id: [Keyphrase, ...]}``.

    ``workers=None`` uses ``os.cpu_count()``; ``workers=1`` runs serially in-process. Each doc
    is processed independently, so the result is identical regardless of ``workers``. Keys keep
    the input order.
    """
    docs = [(str(d[0]), d[1] or "", d[2] or "") for d in docs]
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, len(docs) or 1))
    ex = KeyphraseExtractor(config, corpus)  # also warms imports/lexicon before forking
    if workers == 1 or len(docs) < 2 * workers:
        return {pid: ex.extract(t, a) for pid, t, a in docs}
    if chunk_size is None:
        # ~8 chunks per worker: small enough to balance load, big enough to amortise IPC.
        chunk_size = max(1, math.ceil(len(docs) / (workers * 8)))
    chunks = [docs[i : i + chunk_size] for i in range(0, len(docs), chunk_size)]
    out: dict[str, list[Keyphrase]] = {}
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(config, corpus)
    ) as pool:
        for part in pool.map(_run_chunk, chunks):
            for pid, kps in part:
                out[pid] = kps
    return out


# --------------------------------------------------------------------------------------------
# Warehouse helpers (polars)
# --------------------------------------------------------------------------------------------

KEYPHRASE_SCHEMA: dict[str, pl.DataType] = {
    "paper_id": pl.String,
    "rank": pl.Int32,
    "keyphrase": pl.String,
    "keyphrase_norm": pl.String,
    "score": pl.Float64,
    "extractor_version": pl.String,
}


def select_pending(papers: pl.DataFrame, existing: pl.DataFrame, version: str) -> pl.DataFrame:
    """Papers (``paper_id, title, abstract``) with no ``existing`` row for ``version``."""
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
    rows: dict[str, list] = {k: [] for k in KEYPHRASE_SCHEMA}
    for pid, kps in results.items():
        for kp in kps:
            rows["paper_id"].append(str(pid))
            rows["rank"].append(kp.rank)
            rows["keyphrase"].append(kp.keyphrase)
            rows["keyphrase_norm"].append(kp.keyphrase_norm)
            rows["score"].append(float(kp.score))
            rows["extractor_version"].append(version)
    return pl.DataFrame(rows, schema=KEYPHRASE_SCHEMA)


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
        corpus = build_corpus_stats(text for _, text in docs)
    config = replace(ExtractorConfig(), top=top)
    split_docs = []
    for doc_id, text in docs:
        title, _, abstract = text.partition("\n")
        split_docs.append((doc_id, title, abstract))
    results = extract_many(split_docs, config=config, corpus=corpus, workers=workers)
    out = Path(output_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for doc_id, _, _ in split_docs:
                kps = results[doc_id]
                fh.write(
                    json.dumps({"id": doc_id, "keyphrases": [k.keyphrase for k in kps]}) + "\n"
                )
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return len(split_docs)
