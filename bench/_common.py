"""Shared helpers for the keyphrase benchmarks (data loading and the scoring protocol).

Scoring protocol (see /work/shared/bench/keyphrase/README.md): each gold and predicted phrase is
lowercased, split into words on every non-alphanumeric character, each word Porter-stemmed
(nltk ``PorterStemmer``) and the words joined with spaces. Predictions are de-duplicated keeping
the first occurrence *before* the top-k cut; exact match; gold phrases absent from the text
still count; P/R/F1@k per document, macro-averaged.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_KEYPHRASE = REPO_ROOT / ".." / "shared" / "bench" / "keyphrase"
DEFAULT_TEST = SHARED_KEYPHRASE / "inspec" / "test.jsonl"
DEFAULT_ALL = SHARED_KEYPHRASE / "inspec" / "all_union.jsonl"

_SPLIT = re.compile(r"[^0-9a-z]+")


def resolve_data(path: str | Path | None, default: Path) -> Path:
    """Resolve a data path (relative paths are taken from the repo root); exit 2 if missing."""
    p = Path(path) if path is not None else default
    if not p.is_absolute():
        p = REPO_ROOT / p
    p = p.resolve()
    if not p.is_file():
        sys.exit(
            f"error: benchmark data file not found: {p}\n"
            "The Inspec files live outside the repo (licence) under ../shared/bench/keyphrase/; "
            "pass --data PATH to point at a JSONL file with lines "
            '{"id": ..., "text": ..., "keyphrases": [...]}.'
        )
    return p


def load_jsonl(path: Path, split: str | None = None) -> list[dict]:
    docs = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                if split is None or d.get("split") == split:
                    docs.append(d)
    return docs


@lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem import PorterStemmer  # dev dependency, benchmark-only

    return PorterStemmer()


@lru_cache(maxsize=200_000)
def _stem_word(w: str) -> str:
    return _stemmer().stem(w)


def norm_eval(phrase: str) -> str:
    return " ".join(_stem_word(w) for w in _SPLIT.split(phrase.lower()) if w)


def prf_at_k(pred: Sequence[str], gold: Iterable[str], k: int) -> tuple[float, float, float]:
    gold_set = {g for g in (norm_eval(x) for x in gold) if g}
    seen: set[str] = set()
    preds: list[str] = []
    for p in pred:
        n = norm_eval(p)
        if n and n not in seen:
            seen.add(n)
            preds.append(n)
    top = preds[:k]
    hits = sum(1 for p in top if p in gold_set)
    prec = hits / k
    rec = hits / len(gold_set) if gold_set else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return prec, rec, f1


def evaluate(preds: Sequence[Sequence[str]], golds: Sequence[Sequence[str]], ks=(5, 10)) -> dict:
    """Macro-averaged P/R/F1 (in percent) for each k."""
    out = {}
    n = len(golds)
    for k in ks:
        tot = [0.0, 0.0, 0.0]
        for p, g in zip(preds, golds, strict=False):
            for i, v in enumerate(prf_at_k(p, g, k)):
                tot[i] += v
        out[k] = tuple(100.0 * t / n for t in tot) if n else (0.0, 0.0, 0.0)
    return out


def labelled_files() -> list[Path]:
    """Every labelled JSONL file under ../shared/bench/keyphrase/ (read there, never copied)."""
    root = SHARED_KEYPHRASE.resolve()
    return sorted(root.glob("*/*.jsonl")) if root.is_dir() else []


def split_text(text: str) -> tuple[str, str]:
    """``title\\nabstract`` -> (title, abstract), as the CLI and the pipeline read it."""
    title, _, abstract = text.partition("\n")
    return title, abstract


def plain_yake():
    """Plain YAKE as the README's reference: ``yake.KeywordExtractor(lan="en", n=3, top=10)``
    (the ``yake`` package is a dev dependency: the product no longer imports it)."""
    import yake

    y = yake.KeywordExtractor(lan="en", n=3, top=10)
    return lambda text: [kw for kw, _ in y.extract_keywords(text)]


def compiled_yake():
    """The compiled scorer alone with the same settings: ``yake_rust.Yake(language="en",
    ngrams=3)`` (its defaults: de-duplication as YAKE's), top 10."""
    import yake_rust

    y = yake_rust.Yake(language="en", ngrams=3)
    return lambda text: [kw for kw, _ in y.get_n_best(text, n=10)]
