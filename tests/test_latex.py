"""Tests for transforms.latex.decode_latex (pylatexenc, no network)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transforms.latex as latex
from transforms.latex import decode_latex


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        (r"the na\"ive linear flow", "the naïve linear flow"),
        (r"Nystr\"{o}mformer and Pok{\'e}mon", "Nyströmformer and Pokémon"),
        ("cost $O(n^2)$ time", "cost O(n^2) time"),
        (r"cost $O(n \log n)$ per step", "cost O(n log n) per step"),
        (r"an \emph{x} and \textbf{two words} end", "an x and two words end"),
        (r"$\alpha$-stable laws", "α-stable laws"),
        (r"as shown in \cite{smith2020}, we", "as shown in , we"),
        (r"costs \$5 each", "costs $5 each"),
    ],
)
def test_latex_becomes_readable_text(text, plain):
    assert decode_latex(text) == plain


def test_text_without_latex_comes_back_unchanged():
    text = "Plain abstract: 5% of runs, A & B, ~10 nodes.\n\nSecond   paragraph."
    assert decode_latex(text) is text
    assert decode_latex("") == ""


def test_plain_text_around_latex_is_kept_as_written():
    # a comment sign, an ampersand, a tilde and currency are plain text in an abstract
    text = "We gain 5% on A & B with ~10 runs,\n  from $8 to $1,409 (US$50), at $O(1)$ cost."
    assert decode_latex(text) == (
        "We gain 5% on A & B with ~10 runs,\n  from $8 to $1,409 (US$50), at O(1) cost."
    )
    assert decode_latex("sets {0, 1} and $x$") == "sets {0, 1} and x"


def test_a_piece_that_cannot_be_converted_is_kept(monkeypatch):
    def broken(piece: str) -> str:
        raise ValueError("parser failure")

    monkeypatch.setattr(latex, "_to_text", broken)
    text = r"the na\"ive model, $O(n)$ cost"
    assert decode_latex(text) == text


@pytest.mark.parametrize(
    "text",
    [r"\frac{1}", "{", "}}}{", "\\", r"\begin{itemize} \item a", r"\verb|x", "$$", r"a $x"],
)
def test_malformed_latex_does_not_raise(text):
    assert isinstance(decode_latex(text), str)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\${}%&~^_ ab\n'\"")), max_size=30))
def test_never_raises(text):
    out = decode_latex(text)
    assert isinstance(out, str)
    if not any(c in text for c in "\\${}"):
        assert out == text
