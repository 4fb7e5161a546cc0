"""Word lists used by :mod:`transforms.keyphrases` to clean YAKE candidates.

Closed lists (no model, no download). They encode three things a reader expects from a
keyphrase list of a scientific abstract:

* what is *not* a noun phrase: verb forms and adverbs that YAKE happily returns because it has
  no part-of-speech information ("results show", "significantly outperforms");
* what is boilerplate of abstracts ("paper", "proposed method", "experimental results");
* how English plurals fold (irregular forms and the words that end in ``s`` but are singular).

The lists are plain data files in ``transforms/lexicon/`` (one entry a line, ``#`` comments;
see :data:`FILES`), read once when this module is imported (before the extractor's workers
fork; ~12 ms, most of it decompressing lemminflect's inflection table). :data:`VERB_FORMS`
is generated: ``verb_lemmas.txt`` lists lemmas and lemminflect's inflection table gives their
forms (:func:`verb_forms`). The other lists are judgement calls that lemminflect cannot make; the words lemminflect already gets right are left to it
(``fold_plural`` asks lemminflect's noun lemmas, ``_verb_gerund`` its parts of speech).

Changing any list changes extractor output, and the extractor version follows by itself:
:func:`lexicon_version` (part of ``ExtractorConfig.version()``) is the sha256 of the lists'
entries (comments and blank lines do not count: editing a comment re-extracts nothing) and
lemminflect's version. No manual bump.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "BOILERPLATE_PHRASES",
    "ED_NOUNS",
    "FILES",
    "GENERIC_WORDS",
    "IRREGULAR_PLURALS",
    "LEXICON_DIGEST",
    "LEXICON_DIR",
    "LY_NOUNS",
    "NON_HEAD_WORDS",
    "NON_PLURAL_S",
    "OBJECT_WORDS",
    "OF_TERMS",
    "SUBJECT_WORDS",
    "TECH_GERUNDS",
    "VERB_FORMS",
    "WEAK_SINGLE_WORDS",
    "Lexicon",
    "LexiconError",
    "lemminflect_version",
    "lexicon_version",
    "load_lexicon",
    "verb_forms",
]

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"

#: file -> (kind of its lines, the attribute of :class:`Lexicon` it fills). Kinds: ``word``
#: (one lowercase word), ``phrase`` (lowercase words, one space apart), ``of_term`` (a phrase
#: "X of Y"), ``plural`` (``plural<TAB>singular``), ``verb`` (see ``verb_lemmas.txt``).
FILES: dict[str, tuple[str, str]] = {
    "boilerplate_phrases.txt": ("phrase", "boilerplate_phrases"),
    "ed_nouns.txt": ("word", "ed_nouns"),
    "generic_words.txt": ("word", "generic_words"),
    "irregular_plurals.txt": ("plural", "irregular_plurals"),
    "ly_nouns.txt": ("word", "ly_nouns"),
    "non_head_words.txt": ("word", "non_head_words"),
    "non_plural_s.txt": ("word", "non_plural_s"),
    "object_words.txt": ("word", "object_words"),
    "of_terms.txt": ("of_term", "of_terms"),
    "subject_words.txt": ("word", "subject_words"),
    "tech_gerunds.txt": ("word", "tech_gerunds"),
    "verb_lemmas.txt": ("verb", "verb_forms"),
    "weak_single_words.txt": ("word", "weak_single_words"),
}

#: Penn tags of lemminflect's verb inflections (``getAllInflections(lemma, upos="VERB")``).
VERB_TAGS = ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "MD")


class LexiconError(ValueError):
    """A lexicon file that cannot be read as its kind; the message names the file and line."""


@dataclass(frozen=True)
class Lexicon:
    """Every list, as read from one folder. ``digest``: sha256 of the files' entries."""

    verb_forms: frozenset[str]
    object_words: frozenset[str]
    subject_words: frozenset[str]
    of_terms: frozenset[str]
    non_head_words: frozenset[str]
    ly_nouns: frozenset[str]
    ed_nouns: frozenset[str]
    generic_words: frozenset[str]
    weak_single_words: frozenset[str]
    boilerplate_phrases: frozenset[str]
    irregular_plurals: dict[str, str]
    non_plural_s: frozenset[str]
    tech_gerunds: frozenset[str]
    digest: str


# A word as keyphrases.py tokenizes it (lowercase, no space, hyphen or underscore): an entry
# that is not one could never match.
_WORD = re.compile(r"[^\W_]+(?:\+\+|#)?")
_COMMENT = re.compile(r"(?:^|\s)#.*")  # "#" at the start or after a space ("c#" is a word)


_Entries = list[tuple[int, str, str]]


def _entries(text: str) -> _Entries:
    """(line number, entry, the line as written) of the lines that hold an entry: comments
    dropped, whitespace runs folded to one space."""
    out = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = " ".join(_COMMENT.sub("", raw).split())
        if line:
            out.append((lineno, line, raw))
    return out


def _error(path: Path, lineno: int, problem: str, raw: str) -> LexiconError:
    return LexiconError(f"{path}, line {lineno}: {problem}: {raw.strip()!r}")


def _is_word(s: str) -> bool:
    return _WORD.fullmatch(s) is not None and s == s.lower()


def _is_phrase(s: str) -> bool:
    return all(_is_word(w) for w in s.split(" "))


def load_lexicon(folder: str | os.PathLike = LEXICON_DIR) -> Lexicon:
    """Read and check every file of :data:`FILES` in ``folder`` (uncached: the module reads
    the package's folder once, at import). Raises :class:`LexiconError` naming the file and
    line of the first malformed entry, a missing file or a file that is not in FILES."""
    folder = Path(folder)
    try:
        present = {p.name for p in folder.iterdir() if p.suffix == ".txt"}
    except OSError as exc:
        raise LexiconError(f"{folder}: cannot read the lexicon folder ({exc})") from None
    unknown = sorted(present - FILES.keys())
    if unknown:
        raise LexiconError(f"{folder / unknown[0]}: not a lexicon file (known: {', '.join(FILES)})")
    digest = hashlib.sha256()
    values: dict[str, object] = {}
    for name in sorted(FILES):
        kind, attr = FILES[name]
        path = folder / name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LexiconError(f"{path}: cannot read the lexicon file ({exc})") from None
        entries = _entries(text)
        # the entries, not the bytes: a comment edit does not re-extract every paper
        digest.update(f"{name}\n".encode())
        digest.update("".join(f"{line}\n" for _, line, _ in entries).encode("utf-8"))
        digest.update(b"\0")
        if kind == "verb":
            values[attr] = _verb_entries(path, entries)
        elif kind == "plural":
            values[attr] = _plural_entries(path, entries)
        else:
            values[attr] = _list_entries(path, entries, kind)
    return Lexicon(**values, digest=digest.hexdigest())  # type: ignore[arg-type]


def _list_entries(path: Path, entries: _Entries, kind: str) -> frozenset[str]:
    seen: dict[str, int] = {}
    for lineno, line, raw in entries:
        if kind == "word" and not _is_word(line):
            raise _error(path, lineno, "expected one lowercase word", raw)
        if kind != "word" and not _is_phrase(line):
            raise _error(path, lineno, "expected lowercase words separated by spaces", raw)
        if kind == "of_term" and len(line.split(" of ")) != 2:
            raise _error(path, lineno, 'expected a term "X of Y" with one " of "', raw)
        if line in seen:
            raise _error(path, lineno, f"duplicate entry (first on line {seen[line]})", raw)
        seen[line] = lineno
    return frozenset(seen)


def _plural_entries(path: Path, entries: _Entries) -> dict[str, str]:
    out: dict[str, str] = {}
    lines: dict[str, int] = {}
    for lineno, line, raw in entries:
        parts = line.split(" ")
        if len(parts) != 2 or not all(_is_word(p) for p in parts):
            raise _error(path, lineno, "expected 'plural<TAB>singular' (two lowercase words)", raw)
        plural, singular = parts
        if plural in out:
            raise _error(path, lineno, f"duplicate plural (first on line {lines[plural]})", raw)
        out[plural], lines[plural] = singular, lineno
    return out


def _verb_entries(path: Path, entries: _Entries) -> frozenset[str]:
    """``verb_lemmas.txt``: ``lemma`` (all its forms), ``lemma TAG ...`` (the forms of those
    tags), ``lemma -TAG ...`` (all but those), ``+form`` (one form added as written)."""
    forms: set[str] = set()
    for lineno, line, raw in entries:
        lemma, *tags = line.split(" ")
        if lemma.startswith("+"):
            if tags or not _is_word(lemma[1:]):
                raise _error(path, lineno, "expected '+form' (one lowercase word)", raw)
            forms.add(lemma[1:])
            continue
        if not _is_word(lemma):
            raise _error(path, lineno, "expected a lowercase lemma", raw)
        exclude = bool(tags) and all(t.startswith("-") for t in tags)
        names = [t.removeprefix("-") for t in tags] if exclude else tags
        bad = [t for t in names if t not in VERB_TAGS]
        if bad:
            problem = f"unknown tag {bad[0]!r} (tags: {' '.join(VERB_TAGS)}; all '-TAG' or none)"
            raise _error(path, lineno, problem, raw)
        inflections = verb_forms(lemma)
        if not inflections:
            problem = "lemminflect has no verb inflections for this lemma (add '+form' lines)"
            raise _error(path, lineno, problem, raw)
        keep = [t for t in inflections if not tags or (t not in names if exclude else t in names)]
        chosen = {f for t in keep for f in inflections[t] if _is_word(f)}
        if not chosen:
            raise _error(path, lineno, "these tags give no form of this lemma", raw)
        forms |= chosen
    return frozenset(forms)


# -------------------------------------------------------------------- lemminflect's inflections


@lru_cache(maxsize=1)
def _lemminflect_resources() -> Path:
    from importlib.util import find_spec

    spec = find_spec("lemminflect")  # locate the package without importing it (numpy...)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("lemminflect is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


@lru_cache(maxsize=1)
def _inflection_tables() -> tuple[str, dict[str, dict[str, tuple[str, ...]]]]:
    """(the text of ``resources/infl_lu.csv.gz``, lines ``word,category,forms...`` sorted,
    lemma -> tag -> forms of ``resources/infl_overrides.csv``): the tables lemminflect 0.2.3
    answers ``getAllInflections`` from. Read directly (~6 ms) instead of importing lemminflect
    (~0.3 s)."""
    resources = _lemminflect_resources()
    data = gzip.decompress((resources / "infl_lu.csv.gz").read_bytes()).decode("utf-8")
    overrides: dict[str, dict[str, tuple[str, ...]]] = {}
    with open(resources / "infl_overrides.csv", encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip()
            if line and not line.startswith("#"):
                word, tag, form = line.split(",")
                overrides.setdefault(word, {})[tag] = (form.lower(),)
    return data, overrides


def _table_lines(text: str, word: str) -> list[str]:
    """The lines of a sorted table ``text`` whose first field is ``word``: a binary search
    over the text (splitting its 40,000 lines would cost ~4 ms)."""
    key = word + ","
    lo, hi = 0, len(text)  # line starts; every line before lo sorts below key, none from hi
    while lo < hi:
        mid = (lo + hi) // 2
        start = text.rfind("\n", lo, mid) + 1 or lo  # the line holding mid
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if text[start:end] < key:
            lo = end + 1
        else:
            hi = start
    out = []
    while text.startswith(key, lo):
        end = text.find("\n", lo)
        end = len(text) if end < 0 else end
        out.append(text[lo:end])
        lo = end + 1
    return out


# lemminflect hard-codes the modals and "be" over its table (InflectionLUCodec.updateForAuxMod)
_AUX_MODAL: dict[str, dict[str, tuple[str, ...]]] = {
    "can": {"VB": ("can",), "VBD": ("could",)},
    "may": {"VB": ("may",), "VBD": ("might",)},
    "will": {"VB": ("will",), "VBD": ("would",)},
    "shall": {"VB": ("shall",), "VBD": ("should",)},
    "must": {"VB": ("must",), "VBD": ("must",)},
    "ought": {"VB": ("ought",), "VBD": ("ought",)},
    "dare": {"VB": ("dare",)},
    "be": {
        "VB": ("be",),
        "VBD": ("was", "were"),
        "VBG": ("being",),
        "VBN": ("been",),
        "VBP": ("am", "are"),
        "VBZ": ("is",),
    },
}


def verb_forms(lemma: str) -> dict[str, tuple[str, ...]]:
    """lemminflect's ``getAllInflections(lemma, upos="VERB")`` for a lowercase lemma: Penn tag
    -> spellings ({} for a lemma it has no verb for). tests/test_keyphrases.py checks it
    against lemminflect for every lemma of its table."""
    table, overrides = _inflection_tables()
    forms: dict[str, tuple[str, ...]] = {}
    if lemma in _AUX_MODAL:
        forms = dict(_AUX_MODAL[lemma])
    else:
        for line in _table_lines(table, lemma):
            _, category, *fields = line.split(",")
            if category != "verb":
                continue  # a noun, adjective or adverb line adds no verb tag
            for tag, field in zip(("VBD", "VBN", "VBG", "VBZ"), fields, strict=False):
                if field:
                    forms[tag] = tuple(f.lower() for f in field.split("/"))
            forms["VB"] = forms["VBP"] = (lemma,)
    forms.update(overrides.get(lemma, {}))
    return {tag: forms[tag] for tag in VERB_TAGS if tag in forms}


# ------------------------------------------------------------------------------ the version


@lru_cache(maxsize=1)
def lemminflect_version() -> str:
    """The installed lemminflect's version (its tables decide verb forms and noun lemmas):
    its ``__version__``, read from its ``__init__.py`` (importing lemminflect costs ~0.3 s,
    ``importlib.metadata`` ~30 ms)."""
    init = _lemminflect_resources().parent / "__init__.py"
    found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", init.read_text("utf-8"), re.M)
    if found:
        return found.group(1)
    from importlib.metadata import version

    return version("lemminflect")


def lexicon_version() -> str:
    """What the extractor version takes from the lists: the sha256 of the loaded files'
    entries (:data:`LEXICON_DIGEST`) and lemminflect's version."""
    return f"{LEXICON_DIGEST}+lemminflect-{lemminflect_version()}"


# ------------------------------------------------------------------------- the loaded lists

_LEXICON = load_lexicon()

#: sha256 of the entries of every file of :data:`FILES` (sorted by name), as loaded.
LEXICON_DIGEST: str = _LEXICON.digest

#: Verb forms (and a few auxiliaries) that essentially never occur inside a technical noun
#: phrase: a candidate with one of them as any of its words is dropped (verb_lemmas.txt).
VERB_FORMS: frozenset[str] = _LEXICON.verb_forms
#: Words that follow a verb but not a noun (object_words.txt).
OBJECT_WORDS: frozenset[str] = _LEXICON.object_words
#: Words that come before a verb but not before a noun phrase (subject_words.txt).
SUBJECT_WORDS: frozenset[str] = _LEXICON.subject_words
#: "X of Y" terms kept whole (of_terms.txt).
OF_TERMS: frozenset[str] = _LEXICON.of_terms
#: Words that cannot end (or start) a keyphrase (non_head_words.txt).
NON_HEAD_WORDS: frozenset[str] = _LEXICON.non_head_words
#: Words ending in "-ly" that are not adverbs (ly_nouns.txt).
LY_NOUNS: frozenset[str] = _LEXICON.ly_nouns
#: Words ending in "-ed" that are not participles (ed_nouns.txt).
ED_NOUNS: frozenset[str] = _LEXICON.ed_nouns
#: Words that carry no topic on their own (generic_words.txt).
GENERIC_WORDS: frozenset[str] = _LEXICON.generic_words
#: Words fine inside a phrase but too vague alone (weak_single_words.txt).
WEAK_SINGLE_WORDS: frozenset[str] = _LEXICON.weak_single_words
#: Whole phrases (normal forms) that are boilerplate (boilerplate_phrases.txt).
BOILERPLATE_PHRASES: frozenset[str] = _LEXICON.boilerplate_phrases
#: Plural -> singular where lemminflect's noun lemma is missing or wrong
#: (irregular_plurals.txt).
IRREGULAR_PLURALS: dict[str, str] = _LEXICON.irregular_plurals
#: Words ending in "s" that are not plurals, where lemminflect does not know it
#: (non_plural_s.txt).
NON_PLURAL_S: frozenset[str] = _LEXICON.non_plural_s
#: -ing words lemminflect lists only as verbs that are technical nouns (tech_gerunds.txt).
TECH_GERUNDS: frozenset[str] = _LEXICON.tech_gerunds
