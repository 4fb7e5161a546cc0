"""Tests for transforms.listing, the parser of pasted Hugging Face Papers pages.

Messy inputs are built from real cards of data/samples/hf_papers_sequence.txt, read
straight from the file (not through the parser), so expectations do not depend on the
code under test. Small encoded fixtures live in tests/fixtures/listings/ (made by
make_fixtures.py there).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.listing import (
    MAX_LINE_CHARS,
    ListingFileError,
    ListingRecord,
    ParseResult,
    Rejection,
    clean_line,
    decode_listing,
    file_sha256,
    parse_listing,
    parse_listing_file,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "hf_papers_sequence.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "listings"
FIRST_TITLE = (
    "Multi-Objective-Guided Discrete Flow Matching for Controllable Biological Sequence Design"
)
HEADERS = (
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
)

_SAMPLE_LINES = SAMPLE.read_text(encoding="utf-8").split("\n")
# (title, abstract) of the 200 cards, as the file has them (line 3 on, alternating).
CARDS: list[tuple[str, str]] = [
    (_SAMPLE_LINES[i].removeprefix("Subscribe"), _SAMPLE_LINES[i + 1])
    for i in range(2, len(_SAMPLE_LINES), 2)
]
A, B, C, D = CARDS[0], CARDS[1], CARDS[2], CARDS[3]
NYSTROM = next(c for c in CARDS if c[0].startswith("Nyströmformer"))
SIGMA = next(c for c in CARDS if c[0].startswith("σ-GPTs"))


def listing(*parts: tuple[str, ...] | str, end: str = "\n") -> str:
    """Text of cards (tuples of lines) and single lines, one per line."""
    out: list[str] = []
    for part in parts:
        out.extend([part] if isinstance(part, str) else part)
    return end.join(out) + end


def pairs(result: ParseResult) -> list[tuple[str, str]]:
    return [(r.title, r.abstract) for r in result.records]


def physical_lines(text: str) -> list[str]:
    """The parser's notion of lines: LF, CRLF and lone CR all end a line."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def assert_accounted(text: str, result: ParseResult) -> None:
    """Every non-blank line is in exactly one record, rejection or the chrome list."""
    lines = physical_lines(text)
    nonblank = [n for n, raw in enumerate(lines, start=1) if raw.strip()]
    covered: list[int] = list(result.chrome)
    for record in result.records:
        assert record.lines and record.lines[0] == record.first_line
        assert record.raw_text.split("\n") == [lines[n - 1] for n in record.lines]
        covered.extend(record.lines)
    for rejection in result.rejections:
        assert rejection.lines and rejection.lines[0] == rejection.line
        covered.extend(rejection.lines)
    assert sorted(covered) == nonblank


@pytest.fixture(scope="module")
def sample() -> ParseResult:
    result, _ = parse_listing_file(SAMPLE)
    return result


# --------------------------------------------------------------------------- sample


def test_sample_gives_200_records_without_rejections(sample: ParseResult) -> None:
    assert len(sample.records) == 200
    assert sample.rejections == []
    assert [r.position for r in sample.records] == list(range(1, 201))
    assert sample.encoding == "utf-8"
    assert sample.warnings == []


def test_sample_first_title_has_subscribe_stripped(sample: ParseResult) -> None:
    first = sample.records[0]
    assert first.title == FIRST_TITLE
    assert first.first_line == 3
    assert first.raw_text.startswith("Subscribe" + FIRST_TITLE)


def test_sample_headers_are_chrome(sample: ParseResult) -> None:
    assert sample.chrome == [1, 2]
    assert _SAMPLE_LINES[:2] == list(HEADERS)


def test_sample_records_match_file_and_keep_raw_text(sample: ParseResult) -> None:
    assert pairs(sample) == CARDS
    for record in sample.records:
        assert record.title.split()[0] in record.raw_text
        assert record.lines == (record.first_line, record.first_line + 1)
    assert sample.records[-1].abstract.endswith("GPUs.")
    assert_accounted(SAMPLE.read_text(encoding="utf-8"), sample)


def test_sample_file_hash() -> None:
    _, digest = parse_listing_file(SAMPLE)
    assert digest == file_sha256(SAMPLE.read_bytes())
    assert len(digest) == 64


# --------------------------------------------------------------------------- chrome


CHROME_LINES = [
    *HEADERS,
    "Subscribe",
    "42",
    "1.2k upvotes",
    "Published on Jun 3",
    "Submitted by akhaliq",
    "Daily Papers",
    "Trending Papers",
    "Load more",
    "Search by arxiv id or title",
    "·",
    "2025-06-03",
]


@pytest.mark.parametrize("chrome", CHROME_LINES)
def test_chrome_line_between_cards_is_dropped(chrome: str) -> None:
    text = listing(A, chrome, B, C)
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    assert result.rejections == []
    assert result.chrome == [3]
    assert_accounted(text, result)


def test_chrome_fixture_page() -> None:
    result, _ = parse_listing_file(FIXTURES / "chrome.txt")
    assert pairs(result) == [A, B, C]
    assert result.rejections == []
    assert result.chrome == [1, 2, 5, 6, 9, 10, 11]
    assert result.records[0].title == FIRST_TITLE


@pytest.mark.parametrize(
    "title",
    [
        "Search-R1: Training LLMs to Reason and Leverage Search Engines",
        "Published Results Are Not Enough: Reproducing Sequence Models",
        "Submitted Papers and Their Reviews",
        "Load Balancing for Mixture-of-Experts Sequence Models",
    ],
)
def test_title_starting_like_chrome_is_kept(title: str) -> None:
    """Chrome patterns match whole lines only, never a title that starts alike."""
    card = (title, B[1])
    result = parse_listing(listing(A, card, C))
    assert pairs(result) == [A, card, C]
    assert result.chrome == []


# ------------------------------------------------------------------ line ends, BOM


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["nobom", "bom"])
@pytest.mark.parametrize("final_newline", [True, False], ids=["eol", "noeol"])
def test_line_ends_bom_and_last_line(
    tmp_path: Path, end: str, bom: bytes, final_newline: bool
) -> None:
    text = listing(*HEADERS, A, B, C, end=end)
    if not final_newline:
        text = text[: -len(end)]
    path = tmp_path / "page.txt"
    path.write_bytes(bom + text.encode("utf-8"))
    result, _ = parse_listing_file(path)
    assert pairs(result) == [A, B, C]
    assert result.rejections == []
    assert result.chrome == [1, 2]
    assert result.encoding == "utf-8"
    assert not any("\r" in r.raw_text or "\ufeff" in r.raw_text for r in result.records)


def test_blank_lines_between_cards_are_fine() -> None:
    text = "\n\n" + listing(A, "", "   ", B, "\t", "", "", C) + "\n\n"
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    assert result.rejections == []
    assert_accounted(text, result)


# ------------------------------------------------------------------------ encodings


@pytest.mark.parametrize("damage", [b"\xff\xfe", b"\xe2\x82", b"\xc3(", b"\x81\x8d"], ids=repr)
def test_invalid_utf8_in_abstract_keeps_record(tmp_path: Path, damage: bytes) -> None:
    head, tail = B[1].split(" ", 1)
    data = listing(A, (B[0],)).encode() + head.encode() + b" " + damage
    data += b" " + tail.encode()
    data += b"\n" + listing(C).encode()
    path = tmp_path / "damaged.txt"
    path.write_bytes(data)
    result, _ = parse_listing_file(path)
    assert [r.title for r in result.records] == [A[0], B[0], C[0]]
    assert result.rejections == []
    assert "\ufffd" in result.records[1].abstract
    assert result.records[1].abstract.startswith(head)
    assert result.records[1].abstract.endswith(tail)
    assert result.encoding == "utf-8"
    assert len(result.warnings) == 1 and "U+FFFD" in result.warnings[0]


def test_damaged_utf8_with_real_non_ascii_text_stays_utf8() -> None:
    data = listing(NYSTROM, A).encode() + b"\xff" + listing(C).encode()
    text, encoding, warnings = decode_listing(data)
    assert encoding == "utf-8"
    assert NYSTROM[0] in text and "\ufffd" in text
    assert warnings


def test_cp1252_fixture_decodes_accents() -> None:
    result, _ = parse_listing_file(FIXTURES / "cp1252.txt")
    assert result.encoding == "cp1252"
    assert result.warnings == []
    assert [r.title for r in result.records] == [A[0], NYSTROM[0], B[0]]
    assert result.records[2].abstract == "Like the Schrödinger “bridge” – we note: " + B[1]
    assert result.rejections == []


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_single_byte_encodings(tmp_path: Path, codec: str) -> None:
    card = (NYSTROM[0], "Schrödinger bridges, à la carte. " + C[1])
    path = tmp_path / "latin.txt"
    path.write_bytes(listing(A, card).encode(codec))
    result, _ = parse_listing_file(path)
    assert pairs(result) == [A, card]
    assert result.encoding in ("cp1252", "latin-1")
    assert result.warnings == []


@pytest.mark.parametrize("name", ["utf16le.txt", "utf16be.txt"])
def test_utf16_with_bom(name: str) -> None:
    result, _ = parse_listing_file(FIXTURES / name)
    assert pairs(result) == [NYSTROM, SIGMA, C]
    assert result.encoding == "utf-16"
    assert result.rejections == []


# --------------------------------------------------------------------- file errors


def _one_line_naming(exc: ListingFileError, name: str) -> None:
    message = str(exc)
    assert name in message
    assert "\n" not in message and "\r" not in message


def test_binary_file_raises_naming_it() -> None:
    with pytest.raises(ListingFileError) as info:
        parse_listing_file(FIXTURES / "binary.png")
    _one_line_naming(info.value, "binary.png")


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ListingFileError) as info:
        parse_listing_file(tmp_path / "nope.txt")
    _one_line_naming(info.value, "nope.txt")


def test_directory_raises(tmp_path: Path) -> None:
    folder = tmp_path / "a_folder.txt"
    folder.mkdir()
    with pytest.raises(ListingFileError) as info:
        parse_listing_file(folder)
    _one_line_naming(info.value, "a_folder.txt")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(listing(A))
    path.chmod(0)
    try:
        with pytest.raises(ListingFileError) as info:
            parse_listing_file(path)
        _one_line_naming(info.value, "locked.txt")
    finally:
        path.chmod(0o600)


def test_truncated_utf16_raises() -> None:
    with pytest.raises(ListingFileError):
        decode_listing(b"\xff\xfe" + "abc".encode("utf-16-le") + b"\x00", "odd.txt")


# ------------------------------------------------------------- quarantined cards


def test_duplicate_card_is_quarantined() -> None:
    text = listing(A, B, A, C)
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    assert [r.position for r in result.records] == [1, 2, 3]
    [dup] = result.rejections
    assert dup.reason.startswith("duplicate card")
    assert "position 1" in dup.reason
    assert dup.line == 5 and dup.lines == (5, 6)
    assert_accounted(text, result)


@pytest.mark.parametrize(
    ("parts", "good", "bad_line", "reason"),
    [
        ((A, B, (C[0],)), [A, B], 5, "title without abstract at end of file"),
        ((A, (D[0],), B, C), [A, B, C], 3, "title without abstract"),
        ((A, (D[1],), B, C), [A, B, C], 3, "abstract without title"),
        (((D[1],), A, B), [A, B], 1, "abstract without title"),
    ],
    ids=["title-at-end", "title-in-middle", "abstract-in-middle", "abstract-first"],
)
def test_broken_card_is_rejected_and_neighbours_kept(
    parts: tuple, good: list, bad_line: int, reason: str
) -> None:
    text = listing(*parts)
    result = parse_listing(text)
    assert pairs(result) == good
    [rejection] = result.rejections
    assert rejection.line == bad_line
    assert rejection.reason.startswith(reason)
    assert_accounted(text, result)


def test_title_at_end_without_newline_is_rejected() -> None:
    text = listing(A, B) + C[0]
    result = parse_listing(text)
    assert pairs(result) == [A, B]
    assert [r.reason for r in result.rejections] == ["title without abstract at end of file"]


@pytest.mark.parametrize(
    "dirty",
    [
        A[0].replace("Discrete", "Dis\u200bcrete"),
        A[0].replace("Flow", "\u2060Flow\u200d"),
        "\ufeff" + A[0].replace("Matching", "Match\u00ading"),
        A[0].replace(" for ", " \x07for\x1b "),
        A[0] + "\x00\u202e",
        "\t" + A[0].replace(" ", "  ") + " \x7f",
    ],
    ids=["zwsp", "wj-zwj", "bom-shy", "bel-esc", "nul-rlo", "spaces-del"],
)
def test_invisible_and_control_characters_removed_from_titles(dirty: str) -> None:
    text = listing((dirty, A[1]), B)
    result = parse_listing(text)
    assert pairs(result) == [A, B]
    assert clean_line(dirty) == A[0]


def test_overlong_line_rejected_rest_kept() -> None:
    monster = "lorem ipsum " * (MAX_LINE_CHARS // 12 + 10)
    text = listing(A, monster, B, C)
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    [rejection] = result.rejections
    assert rejection.line == 3
    assert "longer than" in rejection.reason
    assert len(rejection.raw_text) <= 2000
    assert_accounted(text, result)


# ----------------------------------------------------------------------- wrapping


def wrap_cards(cards: list[tuple[str, str]], width: int, hyphens: bool) -> str:
    out: list[str] = []
    for title, abstract in cards:
        out += textwrap.wrap(title, width, break_on_hyphens=hyphens)
        out += textwrap.wrap(abstract, width, break_on_hyphens=hyphens)
    return "\n".join(out) + "\n"


def test_wrapped_three_cards_come_back_exactly() -> None:
    cards = [CARDS[0], CARDS[17], CARDS[42]]
    text = wrap_cards(cards, 80, hyphens=False)
    assert max(len(x) for x in text.splitlines()) <= 80
    assert len(text.splitlines()) > 20
    result = parse_listing(text)
    assert pairs(result) == cards
    assert result.rejections == []
    assert_accounted(text, result)


def test_wrapped_with_chrome_tail_looking_line() -> None:
    """The wrapped last line of a sentence is text, even if it reads like chrome."""
    abstract = "We release code and weights for every model on Hugging Face."
    width = next(w for w in range(40, 80) if textwrap.wrap(abstract, w)[-1] == "Hugging Face.")
    cards = [A, (B[0], B[1] + " " + abstract), C]
    text = wrap_cards(cards, width, hyphens=False)
    result = parse_listing(text)
    assert result.records[1].abstract.endswith(abstract)
    assert_accounted(text, result)


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("hyphens", [False, True], ids=["nohyph", "hyph"])
def test_wrapped_sample_mostly_recovered(width: int, hyphens: bool) -> None:
    text = wrap_cards(CARDS, width, hyphens)
    result = parse_listing(text)
    got = set(pairs(result))
    exact = sum(card in got for card in CARDS)
    assert exact >= 0.95 * len(CARDS), f"{exact}/200 recovered at width {width}"
    assert_accounted(text, result)


# ---------------------------------------------------------------------- dataclasses


def test_dataclasses_keep_positional_construction() -> None:
    record = ListingRecord(1, "T", "A", "T\nA", 7)
    assert record.lines == ()
    rejection = Rejection(3, "x", "why")
    assert rejection.lines == ()
    assert ParseResult().chrome == []


# ---------------------------------------------------------------------------- fuzz

_CONTROL = st.text(
    alphabet=st.sampled_from(
        "\x00\x01\x07\x0b\x0c\x1b\x1c\x1f\x7f\x85\x9f\u200b\u200d\u2028\u2029\u202e\ufeff\xad\t "
    ),
    min_size=1,
    max_size=6,
)
_LINE = st.one_of(
    st.sampled_from([x for card in CARDS[:40] for x in card]),
    st.sampled_from([*CHROME_LINES, "Subscribe" + A[0], "SubscribeSubscribe"]),
    st.text(max_size=80),
    _CONTROL,
    st.builds(lambda a, b: a + b, st.sampled_from(CARDS[5]), _CONTROL),
    st.just(""),
    st.just("   "),
)
_END = st.sampled_from(["\n", "\r\n", "\r"])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.tuples(_LINE, _END), max_size=30), st.booleans())
def test_fuzz_parse_never_raises_and_loses_nothing(
    items: list[tuple[str, str]], final_newline: bool
) -> None:
    text = "".join(line + end for line, end in items)
    if not final_newline and items:
        text = text[: -len(items[-1][1])]
    result = parse_listing(text)
    assert [r.position for r in result.records] == list(range(1, len(result.records) + 1))
    assert_accounted(text, result)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda p, b, s: p + b + s,
            st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]),
            st.binary(max_size=200),
            st.sampled_from([b"", b"\x00", b"abc\n"]),
        ),
    )
)
def test_fuzz_decode_returns_text_or_file_error(data: bytes) -> None:
    try:
        text, encoding, warnings = decode_listing(data, "fuzz.bin")
    except ListingFileError as exc:
        assert "fuzz.bin" in str(exc) and "\n" not in str(exc)
        return
    assert isinstance(text, str) and isinstance(encoding, str)
    assert all(isinstance(w, str) for w in warnings)
    parse_listing(text)


# ------------------------------------------------------- HF Papers pages (fixtures)
#
# Pages built by tests/fixtures/listings/make_pages.py from real cards of the sample, in
# the layouts of /work/shared/samples/formats/README.md section 0. Titles and abstracts
# are checked against the sample file itself; the metadata values are stated here.


def _load_pages_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_pages", FIXTURES / "make_pages.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["make_pages"] = module
    spec.loader.exec_module(module)
    return module


PAGES = _load_pages_module()


def parse_fixture(name: str) -> ParseResult:
    result, _ = parse_listing_file(FIXTURES / name)
    assert_accounted((FIXTURES / name).read_text(encoding="utf-8"), result)
    return result


def meta(record: ListingRecord) -> tuple:
    return (
        record.upvotes,
        record.author_count,
        record.github_stars,
        record.published,
        record.organization,
        record.summary_is_ai,
    )


def links(record: ListingRecord) -> tuple:
    return (record.arxiv_id, record.url, record.github_url)


def test_fixture_pages_are_up_to_date() -> None:
    for name, make in PAGES.PAGES.items():
        assert (FIXTURES / name).read_text(encoding="utf-8") == make(), name


DAILY_META = [
    (117, 4, 3290, dt.date(2026, 10, 3), "Chatterjee Lab", True),
    (42, 3, None, dt.date(2026, 10, 2), None, False),
    (0, 7, None, dt.date(2026, 10, 3), "NVIDIA", True),
    (8, 5, 131, dt.date(2026, 10, 1), None, False),
    (1200, 11, None, dt.date(2026, 9, 30), "Westlake University", False),
    (61, 12, 17400, dt.date(2026, 10, 3), "DeepSeek", True),
]
DAILY_LINKS = [
    ("2610.03917", "https://github.com/programmablebio/mog-dfm"),
    ("2610.04102", None),
    ("2610.02288", None),
    ("2610.01345", "https://github.com/ml-jku/plstm_experiments"),
    ("2610.00522", None),
    ("2610.04876", "https://github.com/deepseek-ai/Janus"),
]


def daily_expected() -> list[tuple[str, str]]:
    return [(CARDS[c.index][0], c.summary or CARDS[c.index][1]) for c in PAGES.DAILY]


@pytest.mark.parametrize("name", ["hf_daily_page.txt", "hf_daily_page.md"])
def test_daily_page(name: str) -> None:
    result = parse_fixture(name)
    assert result.format == ("hf_page_markdown" if name.endswith(".md") else "hf_page_text")
    assert result.rejections == []
    assert pairs(result) == daily_expected()
    # The wrapped title is one title; the abstract shown with a line break is one abstract.
    assert result.records[1].title == CARDS[20][0]
    assert result.records[4].abstract == CARDS[1][1]
    assert [meta(r) for r in result.records] == DAILY_META
    if name.endswith(".md"):
        assert [links(r) for r in result.records] == [
            (arxiv, f"https://huggingface.co/papers/{arxiv}", repo) for arxiv, repo in DAILY_LINKS
        ]
    else:
        assert all(links(r) == (None, None, None) for r in result.records)


TRENDING_META = [
    (58, None, 512, dt.date(2024, 7, 13), "Cartesia AI", True),
    (21, 1, 273, dt.date(2023, 11, 3), None, True),
    (9, None, 1080, dt.date(2024, 5, 13), "Tencent", True),
    (14, 3, None, dt.date(2023, 9, 20), None, True),
    (33, None, 96, dt.date(2023, 6, 9), "OpenProtein.AI", True),
    (27, 6, 243, dt.date(2024, 2, 8), None, True),
]


@pytest.mark.parametrize("name", ["hf_trending_page.txt", "hf_trending_page.md"])
def test_trending_page_reads_every_card_once(name: str) -> None:
    result = parse_fixture(name)
    assert result.rejections == []
    assert pairs(result) == [(CARDS[c.index][0], c.summary) for c in PAGES.TRENDING]
    assert [meta(r) for r in result.records] == TRENDING_META
    if name.endswith(".md"):
        assert [links(r) for r in result.records] == [
            (
                c.arxiv,
                f"https://huggingface.co/papers/{c.arxiv}",
                f"https://github.com/{c.repo}" if c.repo else None,
            )
            for c in PAGES.TRENDING
        ]
    # The mobile copies are chrome: every title line of the page but the first copies.
    text = (FIXTURES / name).read_text(encoding="utf-8")
    record_lines = {n for r in result.records for n in r.lines}
    for card in PAGES.TRENDING:
        numbers = [
            n for n, raw in enumerate(physical_lines(text), start=1) if CARDS[card.index][0] in raw
        ]
        assert len(numbers) == 2
        assert numbers[0] in record_lines and numbers[1] in result.chrome


SEARCH_META = [
    (34, 3, 2610, dt.date(2021, 10, 31), None, False),
    (2, 4, 566, dt.date(2018, 8, 4), None, False),
    (0, 2, None, dt.date(2024, 6, 27), None, False),
    (3, 3, 12, dt.date(2024, 4, 10), None, False),
    (5, 5, None, dt.date(2021, 7, 5), None, False),
    (1, 4, None, dt.date(2025, 5, 26), "ElnaggarLab", False),
]


def test_search_page_with_metadata_and_url_lines() -> None:
    result = parse_fixture("hf_search_page_meta.txt")
    assert result.format == "hf_page_text"
    assert result.rejections == []
    assert pairs(result) == [CARDS[c.index] for c in PAGES.SEARCH]
    assert [meta(r) for r in result.records] == SEARCH_META
    # The URL line after a title gives the paper's id and page, and is not a title.
    assert [r.arxiv_id for r in result.records] == [
        None,
        "1808.01400",
        None,
        None,
        "2107.02027",
        None,
    ]
    assert result.records[1].url == "https://huggingface.co/papers/1808.01400"
    assert result.records[0].title == CARDS[28][0]  # "Subscribe" glued to it, stripped


def test_search_page_with_one_hard_wrapped_abstract() -> None:
    """Wrapping is judged per paragraph: one abstract wrapped at 80 columns (under a
    title longer than 80) and one card wrapped at 72 among long lines."""
    text = (FIXTURES / "hf_search_mixed_wrap.txt").read_text(encoding="utf-8")
    assert "\n".join(textwrap.wrap(CARDS[43][1], 80)) in text
    assert "\n".join(textwrap.wrap(CARDS[130][0], 72)) in text
    result = parse_fixture("hf_search_mixed_wrap.txt")
    assert result.rejections == []
    assert pairs(result) == [CARDS[i] for i in PAGES.MIXED]
    assert result.chrome == [1, 2]


BREAKS_META = [
    (12, 4, None, dt.date(2025, 5, 11), None, False),
    (4, 6, None, dt.date(2024, 12, 28), None, False),
    (0, 2, 123, dt.date(2019, 4, 7), None, False),
    (7, 5, 307, dt.date(2023, 12, 20), None, False),
]


def test_markdown_with_backslash_breaks_url_lines_and_split_title_link() -> None:
    text = (FIXTURES / "hf_search_breaks_urls.md").read_text(encoding="utf-8")
    assert text.count("\\\\\n") > 40
    result = parse_fixture("hf_search_breaks_urls.md")
    assert result.format == "hf_page_markdown"
    assert result.rejections == []
    assert pairs(result) == [CARDS[c.index] for c in PAGES.BREAKS]
    assert [meta(r) for r in result.records] == BREAKS_META
    assert [links(r) for r in result.records] == [
        (
            c.arxiv,
            f"https://huggingface.co/papers/{c.arxiv}",
            f"https://github.com/{c.repo}" if c.repo else None,
        )
        for c in PAGES.BREAKS
    ]
    assert result.records[0].title == FIRST_TITLE  # split across the link text


# ------------------------------------------------- the failures seen on real captures


KANDINSKY = "Kandinsky 6.0 Video: A Family of Open Video Generation Models"
PAGED = "Efficient Memory Management for Large Language Model Serving with PagedAttention"


def test_markdown_heading_link_gives_plain_title_and_id() -> None:
    text = listing(
        f"### [{KANDINSKY}](https://huggingface.co/papers/2610.05608)",
        "",
        A[1],
        "",
        f"### [{B[0]}](https://huggingface.co/papers/2502.07299)",
        "",
        B[1],
    )
    result = parse_listing(text)
    assert result.format == "hf_page_markdown"
    assert pairs(result) == [(KANDINSKY, A[1]), B]
    assert result.records[0].arxiv_id == "2610.05608"
    assert result.records[0].url == "https://huggingface.co/papers/2610.05608"
    assert result.rejections == []
    assert_accounted(text, result)


def test_title_wrapped_inside_a_markdown_link() -> None:
    text = listing(
        "### [Efficient Memory Management for Large Language Model Serving with",
        "PagedAttention](https://huggingface.co/papers/2309.06180)",
        "",
        A[1],
        "",
        f"### [{C[0]}](https://huggingface.co/papers/2412.01234v2)",
        C[1],
    )
    result = parse_listing(text)
    assert pairs(result) == [(PAGED, A[1]), C]
    assert result.records[0].lines == (1, 2, 4)
    assert result.records[0].arxiv_id == "2309.06180"
    assert (result.records[1].arxiv_id, result.records[1].arxiv_version) == ("2412.01234", 2)
    assert result.rejections == []


AUDIO_ABSTRACT = (
    "Discrete audio tokens are the interface between speech and language models. "
    "Yet, unlike text tokens, which are invertible, audio tokens are extracted from "
    "lossy codecs whose reconstructions drift from the input signal, so that a model "
    "trained on them inherits their errors. We measure this drift on four codecs and "
    "show that a short fine-tuning of the decoder removes most of it, improving "
    "intelligibility by 12% on LibriSpeech without any change to the tokenizer."
)


@pytest.mark.parametrize("end", ["", "\\\\", "\\"], ids=["wrap", "double-backslash", "backslash"])
def test_one_wrapped_abstract_among_long_lines(end: str) -> None:
    """The user's page: one abstract wrapped at ~80 columns (or with Markdown breaks)
    in a file of long lines turned its lines into papers."""
    wrapped = textwrap.wrap(AUDIO_ABSTRACT, 80)
    wrapped = [line + end for line in wrapped[:-1]] + wrapped[-1:]
    text = listing(A, (NYSTROM[0], *wrapped), B, C)
    result = parse_listing(text)
    assert pairs(result) == [A, (NYSTROM[0], AUDIO_ABSTRACT), B, C]
    assert result.rejections == []
    assert_accounted(text, result)


def test_url_line_after_each_title_is_not_the_title() -> None:
    text = listing(
        (A[0], "https://huggingface.co/papers/2410.05434", A[1]),
        (B[0], "https://arxiv.org/abs/2502.07299v3", B[1]),
        (C[0], "huggingface.co/papers/2310.00001", C[1]),
    )
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    assert [(r.arxiv_id, r.arxiv_version) for r in result.records] == [
        ("2410.05434", None),
        ("2502.07299", 3),
        ("2310.00001", None),
    ]
    assert result.records[1].url == "https://arxiv.org/abs/2502.07299v3"
    assert result.chrome == [2, 5, 8]
    assert result.rejections == []


def test_card_metadata_lines_are_not_rejected() -> None:
    text = listing(
        "Submitted by",
        "akhaliq",
        A,
        "Kandinsky Lab · Published on Oct 4, 2026",
        "GitHub 131 arXiv Page",
        "[-] 1",
        "Submitted by",
        "taesiri",
        B,
        "· Dec 28, 2024",
        "Upvote",
        "117",
        C,
        "· 4 authors",
        "Upvote 3",
        "GitHub 3.29k",
        "arXiv Page",
    )
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    assert result.rejections == []
    a, b, c = result.records
    assert (a.organization, a.published, a.github_stars) == (
        "Kandinsky Lab",
        dt.date(2026, 10, 4),
        131,
    )
    assert (b.published, b.upvotes) == (dt.date(2024, 12, 28), 117)
    assert (c.author_count, c.upvotes, c.github_stars) == (4, 3, 3290)
    assert_accounted(text, result)


def test_abstract_with_a_line_break_stays_one_abstract() -> None:
    sentences = B[1].split(". ")
    first, rest = ". ".join(sentences[:2]) + ".", ". ".join(sentences[2:])
    # On a page with card metadata, and wherever the break leaves a sentence open.
    text = listing(A, "Upvote 4", (B[0], first, rest), "Upvote 7", C, "Upvote 9")
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    assert [r.upvotes for r in result.records] == [4, 7, 9]
    head, tail = A[1].split(", often conflicting, ")
    text = listing((A[0], head + ", often", "conflicting, " + tail), B)
    assert pairs(parse_listing(text)) == [A, B]


def test_isolated_repeated_card_on_a_page_of_metadata_is_a_duplicate() -> None:
    text = listing(A, "Upvote 4", B, "Upvote 7", A, "Upvote 4", C, "Upvote 9")
    result = parse_listing(text)
    assert pairs(result) == [A, B, C]
    [dup] = result.rejections
    assert dup.reason == "duplicate card: same title and abstract as position 1"
    assert dup.lines == (7, 8)


# ------------------------------------------- robustness: other orders, missing parts

_SUMMARY = "A short summary of the paper that a model wrote, in one sentence, for the card."
_PART_LINES = {
    "count": lambda m: [m["up"]],
    "upvote2": lambda m: ["Upvote", m["up"]],
    "upvote1": lambda m: [f"Upvote {m['up']}"],
    "submitted2": lambda m: ["Submitted by", m["user"]],
    "submitted1": lambda m: [f"Submitted by {m['user']}"],
    "authors": lambda m: [f"· {m['authors']} authors"],
    "org_date": lambda m: [f"{m['org']} · Published on {m['date']}"],
    "date": lambda m: [f"· {m['date']}"],
    "authors_date": lambda m: [f"· {m['authors']} authors · {m['date']}"],
    "github_arxiv": lambda m: [f"GitHub {m['stars']} arXiv Page" if m["stars"] else "arXiv Page"],
    "github": lambda m: [f"GitHub {m['stars']}"] if m["stars"] else [],
    "arxiv": lambda m: ["arXiv Page"],
    "ui": lambda m: ["Share", "Comment"],
}
LAYOUTS = {
    "daily": "count title submitted2 authors blurb org_date github_arxiv",
    "daily-upvote-label": "upvote2 title submitted2 authors blurb org_date github arxiv",
    "trending": "title org_date blurb upvote2 github arxiv",
    "search": "title blurb authors_date upvote2 github arxiv",
    "submitter-first": "submitted1 title blurb authors upvote1 github_arxiv",
    "meta-between": "title submitted2 date authors blurb ui upvote1",
    "count-only": "count title blurb",
    "trailing-only": "title blurb upvote1",
}


def _layout_page(
    layout: str, blurbs: str, cards: list[tuple[str, str]], twice: bool = False
) -> tuple[str, list]:
    """A page of cards in a layout (every card twice when ``twice``), and what each
    card must give: (title, blurb, upvotes, stars, author count)."""
    out = ["Get trending papers in your email inbox!", "Subscribe", "Daily Papers"]
    expected = []
    parts = LAYOUTS[layout].split()
    for i, (title, abstract) in enumerate(cards):
        m = {
            "up": "-" if i == 2 else str(10 + i),
            "user": f"user{i}",
            "authors": i + 2,
            "org": f"Lab {i}",
            "date": f"Mar {i + 1}, 2025",
            "stars": f"{i + 1}.5k" if i % 2 == 0 else None,  # every other card has no repo
        }
        blurb = f"{_SUMMARY[:-1]} number {i}." if blurbs == "ai" else abstract
        card: list[str] = []
        for part in parts:
            if part == "title":
                card.append(title)
            elif part == "blurb":
                card.append(blurb)
            else:
                card += _PART_LINES[part](m)
        out += card * (2 if twice else 1)
        up = 0 if m["up"] == "-" else int(m["up"])
        stars = int((i + 1.5) * 1000) if m["stars"] else None
        expected.append(
            (
                title,
                blurb,
                up,
                stars if {"github", "github_arxiv"} & set(parts) else None,
                m["authors"] if {"authors", "authors_date"} & set(parts) else None,
            )
        )
    out.append("Previous")
    return "\n".join(out) + "\n", expected


@pytest.mark.parametrize("blurbs", ["abstract", "ai"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_card_layouts_give_titles_and_metadata(layout: str, blurbs: str) -> None:
    text, expected = _layout_page(layout, blurbs, CARDS[30:36])
    result = parse_listing(text)
    got = [(r.title, r.abstract, r.upvotes, r.github_stars, r.author_count) for r in result.records]
    assert got == expected
    assert result.rejections == []
    assert all(r.summary_is_ai == (blurbs == "ai") for r in result.records)
    assert_accounted(text, result)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_card_layouts_repeated_twice_like_the_trending_page(layout: str) -> None:
    text, expected = _layout_page(layout, "ai", CARDS[40:45], twice=True)
    result = parse_listing(text)
    got = [(r.title, r.abstract, r.upvotes, r.github_stars, r.author_count) for r in result.records]
    assert got == expected
    assert result.rejections == []
    assert_accounted(text, result)


def test_markdown_keeps_tex_backslashes_and_drops_writer_escapes() -> None:
    tex = "We simulate the state space model \\( x'(t) = Ax(t) \\) and na\\\"ive baselines. " + B[1]
    text = listing(
        f"## [{A[0]}](https://huggingface.co/papers/2505.07086)",
        "",
        "Designing biological\\_sequences with \\*stars\\* and \\[brackets\\]. " + A[1],
        "",
        f"## [{B[0]}](https://huggingface.co/papers/2502.07299)",
        "",
        tex,
    )
    result = parse_listing(text)
    assert [r.abstract for r in result.records] == [
        "Designing biological_sequences with *stars* and [brackets]. " + A[1],
        tex,
    ]


def test_unknown_ui_labels_and_paper_page_sections_are_chrome() -> None:
    text = listing(
        "Daily Papers",
        "Featured",
        "Monday, Oct 6",
        "12",
        A,
        "3 comments",
        "Add to collection",
        "7",
        B,
        "Featured",
        "Collections including this paper",
        "Models citing this paper 4",
    )
    result = parse_listing(text)
    assert pairs(result) == [A, B]
    assert [r.upvotes for r in result.records] == [12, 7]
    assert result.rejections == []
    assert_accounted(text, result)


def test_display_name_after_submitted_by_and_nearest_count_is_the_upvote() -> None:
    text = listing(
        "5",
        "Submitted by",
        "Adina Yakefu",
        A,
        "2",  # a comment count after the card ...
        "31",  # ... and the next card's upvotes before its title
        "Submitted by",
        "akhaliq",
        B,
        "1",
    )
    result = parse_listing(text)
    assert pairs(result) == [A, B]
    assert [r.upvotes for r in result.records] == [5, 31]
    assert result.rejections == []


def test_trending_page_with_all_desktop_cards_then_all_mobile_cards() -> None:
    desktop, mobile = [], []
    for card in PAGES.TRENDING:
        desktop += [CARDS[card.index][0], card.date_line(), card.summary, "Upvote", card.upvotes]
        mobile += [CARDS[card.index][0], card.summary, f"Upvote {card.upvotes}"]
    text = listing("Trending Papers", *desktop, *mobile)
    result = parse_listing(text)
    assert pairs(result) == [(CARDS[c.index][0], c.summary) for c in PAGES.TRENDING]
    assert [r.upvotes for r in result.records] == [int(c.upvotes) for c in PAGES.TRENDING]
    assert result.rejections == []
    assert_accounted(text, result)


@pytest.mark.parametrize("width", [60, 72, 80, 100])
def test_daily_page_with_hard_wrapped_blurbs(width: int) -> None:
    out = ["Daily Papers", "by AK and the research community"]
    for card in PAGES.DAILY:
        out += [card.upvotes, CARDS[card.index][0], "Submitted by", card.submitter]
        out += [*textwrap.wrap(card.blurb, width), "arXiv Page"]
    text = listing(*out)
    result = parse_listing(text)
    assert pairs(result) == daily_expected()
    assert result.rejections == []
    assert_accounted(text, result)


_PAGE_PART = st.one_of(
    _LINE,
    st.sampled_from(
        [
            "Submitted by",
            "akhaliq",
            "· 4 authors",
            "Kandinsky Lab · Published on Oct 4, 2026",
            "· Dec 28, 2024",
            "Upvote",
            "117",
            "-",
            "[-] 1",
            "GitHub 131 arXiv Page",
            "GitHub 3.29k",
            "Upvote 12",
            "https://huggingface.co/papers/2410.05434",
            f"### [{A[0]}](https://huggingface.co/papers/2505.07086)",
            "### [Efficient Memory Management for Large Language Model Serving with",
            "PagedAttention](https://huggingface.co/papers/2309.06180)",
            "[GitHub 3.29k](https://github.com/a/b) [arXiv Page](https://arxiv.org/abs/2410.05434)",
            "![Image 1](https://cdn-thumbnails.huggingface.co/x.png)",
            "===",
        ]
    ),
    st.builds(lambda w: w + "\\\\", st.sampled_from(textwrap.wrap(B[1], 80))),
    st.sampled_from(textwrap.wrap(C[1], 72)),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.tuples(_PAGE_PART, _END), max_size=40), st.integers(0, 2))
def test_fuzz_page_parts_never_raise_and_lose_nothing(
    items: list[tuple[str, str]], repeat: int
) -> None:
    """Card metadata, Markdown syntax, wrapped lines, repeated layouts: every line still
    ends up in exactly one record, rejection or the chrome list."""
    text = "".join(line + end for line, end in items) * (repeat + 1)
    result = parse_listing(text)
    assert [r.position for r in result.records] == list(range(1, len(result.records) + 1))
    assert_accounted(text, result)
