"""LaTeX in titles and abstracts turned into plain readable text (pylatexenc).

arXiv abstracts keep their authors' LaTeX (``na\\"ive``, ``$O(n^2)$``, ``\\emph{...}``);
split into words as they are, they give keyphrases such as "ive linear flow matching".
:func:`decode_latex` converts them with pylatexenc's ``LatexNodes2Text`` (accents to letters,
macros to their text, inline math to readable text: ``$O(n^2)$`` -> ``O(n^2)``).

pylatexenc parses in pure Python (~6 us a character), so only the pieces of a text that hold
LaTeX are handed to it: the text is cut at whitespace into words, a word holding ``\\`` or
``$`` starts a piece that runs on until its ``$`` and braces balance, and all pieces go
through one ``latex_to_text`` call, joined by a separator the parser passes through.
Everything else, whitespace included, is kept as written (so are braces with no LaTeX around
them: ``{0, 1}``). Plain-text uses of LaTeX's special characters are escaped first: a ``$``
that does not open or close an inline formula (``$`` after no letter or digit, then a
non-space ... a non-space, then ``$`` before no digit) is a currency sign ("from $8 to $1,409",
"US$50"), and ``%`` (a comment to the line's end),
``&`` and ``~`` are literal.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

__all__ = ["decode_latex"]

_SPECIAL = re.compile(r"[\\${}]")
_LATEX = re.compile(r"[\\$]")  # what starts a piece to convert
_MATH = re.compile(r"\$\$[^$]+\$\$|(?<![\w$])\$(?=\S)[^$]*?(?<=\S)\$(?!\d)")
_DOLLAR = re.compile(r"(?<!\\)\$")
_WORDS = re.compile(r"(\s+)")  # split keeping the whitespace
_ESCAPED = re.compile(r"\\.", re.DOTALL)
# Plain-text characters LaTeX would eat: "5% of" (a comment to the line's end), "A & B", "~10".
_PLAIN = re.compile(r"(?<!\\)([%&~])")
_PLAIN_REPL = {"%": r"\%", "&": r"\&", "~": r"\textasciitilde{}"}
# Between two pieces in one parse: not whitespace (a macro would swallow it) and not in texts.
_SEP = "\u2063"
# Citations and cross-references carry no words of the abstract.
_DISCARDED_MACROS = ("cite", "citep", "citet", "ref", "eqref", "label", "footnote")


@lru_cache(maxsize=1)
def _converter() -> Any:
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    # a malformed macro is logged as a warning: to the application's handlers, if any,
    # never printed on stderr by logging's last resort
    logging.getLogger("pylatexenc").addHandler(logging.NullHandler())
    db = get_default_latex_context_db()
    db.add_context_category(
        "papertrends-discarded",
        prepend=True,
        macros=[MacroTextSpec(name, discard=True) for name in _DISCARDED_MACROS],
    )
    return LatexNodes2Text(latex_context=db)


def _balance(word: str) -> tuple[int, int]:
    """(unescaped ``$`` count, open braces minus closed ones) of a word."""
    bare = _ESCAPED.sub("", word)
    return bare.count("$"), bare.count("{") - bare.count("}")


def _escape_currency(text: str) -> str:
    """Every unescaped ``$`` outside an inline formula escaped (``\\$``: a literal dollar)."""
    out, pos = [], 0
    for m in _MATH.finditer(text):
        out += [_DOLLAR.sub(r"\\$", text[pos : m.start()]), m[0]]
        pos = m.end()
    out.append(_DOLLAR.sub(r"\\$", text[pos:]))
    return "".join(out)


def _to_text(latex: str) -> str:
    return _converter().latex_to_text(_PLAIN.sub(lambda m: _PLAIN_REPL[m[1]], latex))


def decode_latex(text: str) -> str:
    """``text`` with its LaTeX turned into plain text (``na\\"ive`` -> ``naïve``,
    ``$O(n^2)$`` -> ``O(n^2)``, ``\\emph{x}`` -> ``x``). A text with no ``\\``, ``$``, ``{``
    or ``}`` comes back unchanged; malformed LaTeX never raises: a piece that cannot be
    converted is kept as written."""
    if not text or not _SPECIAL.search(text):
        return text
    if "$" in text:
        text = _escape_currency(text)
    parts = _WORDS.split(text)  # words at even indexes, whitespace at odd ones
    pieces: list[tuple[int, int]] = []  # [start, stop) part indexes of the LaTeX pieces
    i = 0
    while i < len(parts):
        if not _LATEX.search(parts[i]):
            i += 2
            continue
        start, dollars, braces = i, 0, 0
        while i < len(parts):
            d, b = _balance(parts[i])
            dollars, braces = dollars + d, braces + b
            i += 2
            if dollars % 2 == 0 and braces <= 0:
                break
        pieces.append((start, i - 1))
    latex = ["".join(parts[a:b]) for a, b in pieces]
    try:
        decoded = _to_text(_SEP.join(latex)).split(_SEP)
    except Exception:
        decoded = []
    if len(decoded) != len(latex):  # a piece spilled into the next one: one at a time
        decoded = []
        for piece in latex:
            try:
                decoded.append(_to_text(piece))
            except Exception:
                decoded.append(piece)
    for (a, b), piece in zip(reversed(pieces), reversed(decoded), strict=True):
        parts[a:b] = [piece]
    return "".join(parts)
