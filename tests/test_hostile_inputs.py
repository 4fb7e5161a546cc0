"""Hostile and broken input files: nothing raises, good cards are kept, the rest is quarantined.

Each hostile file is first read next to a good file at the ``read_landing_day`` level
(cheap); then one end-to-end ``papertrends run`` lands all of them for one date, through
the real CLI (in this process), and the warehouse is checked: raw.listings, raw.rejected_records, papers.
A 50 MB file is parsed in a subprocess that reports its time and peak memory.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration import env
from tests.conftest import SAMPLE, invoke, landing_sensor_tick, sample_cards, write_listing
from transforms.landing import DayBatch, LandingError, land_files, listing_files, read_landing_day
from transforms.listing import MAX_FILE_BYTES, clean_line

DAY = dt.date(2026, 11, 21)
NOW = dt.datetime(2026, 11, 21, 7, 0)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "listings"
HEADER = ["Get trending papers in your email inbox once a day!", "Subscribe"]

CARDS = sample_cards()
GOOD = CARDS[:6]  # the good file of every day: at least 5 cards for the raw-listings gate
# Hostile files use ASCII cards (any encoding can hold them), each its own, after GOOD.
_ASCII = iter(c for c in CARDS[6:] if (c[0] + c[1]).isascii())


def take(n: int) -> list[tuple[str, str]]:
    return [next(_ASCII) for _ in range(n)]


def page(cards: list[tuple[str, str]], header: bool = True) -> str:
    lines = list(HEADER) if header else []
    for title, abstract in cards:
        lines += [title, abstract]
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    """One hostile file: its bytes, the titles it must give, and its quarantine reasons."""

    name: str
    data: Callable[[], bytes]
    titles: list[str]
    reasons: list[str] = field(default_factory=list)  # substrings, in line order
    check: Callable[[DayBatch], None] | None = None


def _titles(cards: list[tuple[str, str]]) -> list[str]:
    return [t for t, _ in cards]


# ----------------------------------------------------------------------------- the cases

_LATIN1 = [("Réseaux neuronaux à très grande échelle: modélisation façon Müller", take(1)[0][1])]
_LATIN1 += take(1)
_UTF16 = take(2)
_UTF16LE = take(1)
_BAD_UTF8 = [("Schrödinger Bridges for Naïve Sequence Models", take(1)[0][1]), *take(2)]
_TITLE_END = take(2)
_ABSTRACT_FIRST = take(3)
_MARKUP = [
    (title, abstract)
    for title, (_, abstract) in zip(
        [
            "<script>alert('xss')</script> Attention Is Not All You Need",
            '<img src=x onerror="alert(1)"> Scaling Laws for Hostile Inputs',
            "[Click here](javascript:alert(document.cookie)) Diffusion Beats GANs",
            "**Bold** _claims_ about `code` and <b>tags</b> in Titles",
        ],
        take(4),
        strict=True,
    )
]
_SQL_TITLE = "Robert'); drop table papers; -- Little Bobby Tables Learns to Rank"
_SQL = [(_SQL_TITLE, take(1)[0][1] + " '); delete from raw.listings; --")]
_INVISIBLE_CLEAN = take(1)[0]


def _invisible_title(title: str) -> str:
    """The title with zero-width, bidi and control characters strewn inside its words."""
    return (
        "\ufeff"
        + title[:3]
        + "\x00"
        + title[3:6]
        + "\u200b"
        + title[6:9]
        + "\x07\u202e"
        + title[9:12]
        + "\u00ad\x1b"
        + title[12:]
        + "\u200d\x7f"
    )


_INVISIBLE = [(_invisible_title(_INVISIBLE_CLEAN[0]), _INVISIBLE_CLEAN[1])]
_ODD_SIZES = take(3)
_ODD_SIZES_GOOD = take(1)
_DUP = take(1)


def _bad_utf8() -> bytes:
    (t1, a1), (t2, a2), (t3, a3) = _BAD_UTF8
    half = len(a2) // 2
    text = page([(t1, a1), (t2, a2[:half] + "@@" + a2[half:]), (t3, a3)])
    return text.encode().replace(b"@@", b"\xff\xfe\x80\xc3")


def _five_mb_line() -> bytes:
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    return (words * (5_000_000 // len(words) + 1)).encode()[:5_000_000]


def _odd_sizes() -> str:
    (_, a1), (t2, _), (t3, a3) = _ODD_SIZES
    huge = " ".join([a3] * (10_500 // len(a3) + 1))
    return page(
        [
            ("GPT", a1),  # title shorter than the gate's 5 characters
            (t2, "Short note. See the code."),  # abstract shorter than 50
            (t3, huge),  # abstract longer than 10,000 (one line, under 20,000)
            *_ODD_SIZES_GOOD,
        ]
    )


def _check_latin1(batch: DayBatch) -> None:
    [summary] = [f for f in batch.files if f.name == "latin1.txt"]
    assert summary.encoding in ("cp1252", "latin-1")


def _check_bad_utf8(batch: DayBatch) -> None:
    [summary] = [f for f in batch.files if f.name == "bad utf8.txt"]
    assert summary.encoding == "utf-8"
    assert any("invalid UTF-8" in w for w in summary.warnings)
    rows = batch.listings.filter(source_file="bad utf8.txt").sort("position")
    assert "\ufffd" in rows["abstract"][1]
    assert rows["title"][0] == _BAD_UTF8[0][0]  # real UTF-8 text elsewhere is intact


def _check_long_line(batch: DayBatch) -> None:
    [raw] = batch.rejected.filter(source_file="one 5mb line.txt")["raw_text"]
    assert 0 < len(raw) <= 2000


def _check_invisible(batch: DayBatch) -> None:
    [row] = batch.listings.filter(source_file="invisible.txt").iter_rows(named=True)
    assert row["title"] == _INVISIBLE_CLEAN[0]
    assert row["raw_text"].startswith(_INVISIBLE[0][0])  # raw text kept as it was


CASES = [
    Case("empty.txt", lambda: b"", [], ["empty file"]),
    Case("blank.txt", lambda: b"\n  \r\n\t\n\n", [], ["empty file"]),
    Case(
        "header only.txt",
        lambda: page([]).encode() + b"Trending Papers\n\xe2\x80\x8b\n",
        [],
        ["only page chrome"],
    ),
    Case(
        "picture.png",
        lambda: (FIXTURES / "binary.png").read_bytes(),
        [],
        ["PNG image, not a listing"],
    ),
    Case("noise.bin", lambda: random.Random(7).randbytes(6000), [], ["binary data"]),
    Case(
        "latin1.txt",
        lambda: page(_LATIN1).encode("latin-1"),
        _titles(_LATIN1),
        check=_check_latin1,
    ),
    Case("utf16.txt", lambda: page(_UTF16).encode("utf-16"), _titles(_UTF16)),
    Case("utf16le no bom.txt", lambda: page(_UTF16LE).encode("utf-16-le"), _titles(_UTF16LE)),
    Case("bad utf8.txt", _bad_utf8, _titles(_BAD_UTF8), check=_check_bad_utf8),
    Case("one 5mb line.txt", _five_mb_line, [], ["longer than 20,000"], check=_check_long_line),
    Case(
        "title at end.txt",
        lambda: (page(_TITLE_END[:1]) + _TITLE_END[1][0]).encode(),
        _titles(_TITLE_END[:1]),
        ["title without abstract at end of file"],
    ),
    Case(
        "abstract first.txt",
        lambda: (_ABSTRACT_FIRST[0][1] + "\n" + page(_ABSTRACT_FIRST[1:], header=False)).encode(),
        _titles(_ABSTRACT_FIRST[1:]),
        ["abstract without title"],
    ),
    Case("markup.txt", lambda: page(_MARKUP).encode(), _titles(_MARKUP)),
    Case("sql.txt", lambda: page(_SQL).encode(), [_SQL_TITLE]),
    Case(
        "invisible.txt",
        lambda: page(_INVISIBLE).encode(),
        [_INVISIBLE_CLEAN[0]],
        check=_check_invisible,
    ),
    Case(
        "odd sizes.txt",
        lambda: _odd_sizes().encode(),
        _titles(_ODD_SIZES_GOOD),
        [
            "title of 3 characters is shorter than 5",
            "abstract of 25 characters is shorter than 50",
            "is longer than 10,000",
        ],
    ),
]
CASE_IDS = [c.name for c in CASES]


def _write(folder: Path, name: str | bytes, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = os.path.join(os.fsencode(folder), name) if isinstance(name, bytes) else folder / name
    with open(path, "wb") as handle:
        handle.write(data)


def assert_every_file_accounted(batch: DayBatch) -> None:
    """Every file has records or at least one quarantine row, under a valid UTF-8 name."""
    names = [f.name for f in batch.files]
    assert len(names) == len(set(names))
    for summary in batch.files:
        assert summary.records + summary.rejected > 0, summary
        assert summary.name.encode("utf-8")
    sources = set(batch.listings["source_file"]) | set(batch.rejected["source_file"])
    assert sources == set(names)
    assert batch.rejected["reason"].null_count() == 0
    keys = batch.listings.select("source_file", "position")
    assert keys.n_unique() == keys.height


def rejected_reasons(batch: DayBatch, name: str) -> list[str]:
    return batch.rejected.filter(source_file=name).sort("position")["reason"].to_list()


def listed_titles(batch: DayBatch, name: str) -> list[str]:
    return batch.listings.filter(source_file=name).sort("position")["title"].to_list()


def assert_reasons(got: list[str], expected: list[str]) -> None:
    assert len(got) == len(expected), got
    for reason, part in zip(got, expected, strict=True):
        assert part in reason, (part, reason)
        assert "\n" not in reason


# ---------------------------------------------------------------- read_landing_day level


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_hostile_file_next_to_a_good_one(tmp_path: Path, case: Case) -> None:
    write_listing(tmp_path / "good.txt", GOOD)
    _write(tmp_path, case.name, case.data())
    batch = read_landing_day(tmp_path, DAY, NOW)
    assert listed_titles(batch, "good.txt") == _titles(GOOD)
    assert listed_titles(batch, case.name) == case.titles
    assert_reasons(rejected_reasons(batch, case.name), case.reasons)
    assert_every_file_accounted(batch)
    if case.check:
        case.check(batch)


def test_markup_and_sql_are_kept_verbatim(tmp_path: Path) -> None:
    _write(tmp_path, "markup.txt", page(_MARKUP + _SQL).encode())
    batch = read_landing_day(tmp_path, DAY, NOW)
    rows = batch.listings.sort("position").rows(named=True)
    assert [(r["title"], r["abstract"]) for r in rows] == _MARKUP + _SQL


def test_same_file_under_two_names_is_quarantined_once(tmp_path: Path) -> None:
    data = page(_DUP).encode()
    _write(tmp_path, "a listing.txt", data)
    _write(tmp_path, "b copy of the listing.txt", data)
    batch = read_landing_day(tmp_path, DAY, NOW)
    assert listed_titles(batch, "a listing.txt") == _titles(_DUP)
    assert listed_titles(batch, "b copy of the listing.txt") == []
    [reason] = rejected_reasons(batch, "b copy of the listing.txt")
    assert "same content as a listing.txt" in reason
    assert_every_file_accounted(batch)


# Names a file can have when someone creates it in landing/<date>/ by hand.
ODD_NAMES: list[str | bytes] = [
    "name with spaces.txt",
    "論文 — liste é ü.txt",
    "a\\..\\..\\b.txt",  # backslashes are plain characters in a POSIX name
    "new\nline.txt",
    b"caf\xe9 latin-1 name.txt",  # not UTF-8
    b"caf\xef latin-1 name.txt",  # differs from the one above only in the bad byte
]


def test_odd_file_names_in_the_landing_folder_ingest(tmp_path: Path) -> None:
    cards = take(len(ODD_NAMES))
    for name, card in zip(ODD_NAMES, cards, strict=True):
        _write(tmp_path, name, page([card]).encode())
    batch = read_landing_day(tmp_path, DAY, NOW)
    assert_every_file_accounted(batch)
    assert batch.rejected.height == 0
    assert sorted(batch.listings["title"]) == sorted(_titles(cards))
    names = set(batch.listings["source_file"])
    assert "name with spaces.txt" in names and "論文 — liste é ü.txt" in names
    assert {"caf\\xe9 latin-1 name.txt", "caf\\xef latin-1 name.txt"} <= names
    assert "new\\x0aline.txt" in names  # one line in logs and tables


def test_oversized_file_is_quarantined_unread(tmp_path: Path) -> None:
    write_listing(tmp_path / "good.txt", GOOD)
    with open(tmp_path / "huge.txt", "wb") as handle:  # sparse: no disk, no time
        handle.truncate(MAX_FILE_BYTES + 1)
    batch = read_landing_day(tmp_path, DAY, NOW)
    [reason] = rejected_reasons(batch, "huge.txt")
    assert "larger than" in reason and "huge.txt" in reason
    assert listed_titles(batch, "good.txt") == _titles(GOOD)


_BIG_PARSE = textwrap.dedent(
    """
    import datetime as dt, json, sys, time
    from pathlib import Path
    from transforms.landing import read_landing_day

    def status_mb(key):  # this process's own memory (ru_maxrss would count the parent's)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024

    before = status_mb("VmRSS")
    started = time.perf_counter()
    batch = read_landing_day(Path(sys.argv[1]), dt.date(2026, 11, 21), dt.datetime(2026, 11, 21))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 2), "rss_before_mb": round(before),
                      "rss_peak_mb": round(status_mb("VmHWM")),
                      "records": batch.listings.height, "rejected": batch.rejected.height}))
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_50_mb_file_parses_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """~37,000 distinct cards; parsed in a fresh process so its peak RSS is the parse's."""
    chunks, size, n = [], 0, 0
    while size < 50_000_000:
        title, abstract = CARDS[n % len(CARDS)]
        chunk = f"{title} (part {n})\n{abstract}\n".encode()
        chunks.append(chunk)
        size += len(chunk)
        n += 1
    folder = tmp_path / "day"
    _write(folder, "big listing.txt", b"".join(chunks))
    del chunks
    proc = subprocess.run(
        [sys.executable, "-c", _BIG_PARSE, str(folder)],
        capture_output=True,
        text=True,
        cwd=env.REPO_ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = json.loads(proc.stdout)
    stats["file_mb"] = size / 1e6
    print(f"\n50 MB listing: {json.dumps(stats)}")
    assert stats["records"] == n and stats["rejected"] == 0
    assert stats["seconds"] < 45, stats
    assert stats["rss_peak_mb"] - stats["rss_before_mb"] < 1500, stats


# ------------------------------------------------------------------- property: any bytes

_FILE_BYTES = st.one_of(
    st.binary(max_size=600),
    st.builds(
        lambda prefix, text, cut, noise: (
            prefix + text.encode()[: cut % (len(text) + 1)] + noise + text.encode()[cut:]
        ),
        st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00"]),
        st.sampled_from([page(GOOD[:2]), page(_MARKUP[:1]), page([]), page(_INVISIBLE)]),
        st.integers(min_value=0, max_value=2000),
        st.binary(max_size=40),
    ),
)
_FILE_NAME = st.binary(min_size=1, max_size=24).filter(lambda b: b"/" not in b and b"\0" not in b)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.tuples(_FILE_NAME, _FILE_BYTES), min_size=1, max_size=4))
def test_any_bytes_any_name_never_raise_and_every_file_is_accounted(
    files: list[tuple[bytes, bytes]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, (name, data) in enumerate(files):
            _write(folder, b"f%d-" % i + name, data)
        batch = read_landing_day(folder, DAY, NOW)
        assert len(batch.files) == len(listing_files(folder)) == len(files)
        assert_every_file_accounted(batch)


# ------------------------------------------------------------------ landing from the CLI


def test_land_files_keeps_every_file_inside_the_date_folder(home: env.Home, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    sources = {
        src / "sub" / ".." / "name with spaces é 論文.txt": "name with spaces é 論文.txt",
        src / "..\\..\\evil name.txt": "evil name.txt",
        src / "..hidden.txt": "hidden.txt",
        src / "~draft.txt": "draft.txt",
        src / ("x" * 240 + ".txt"): "x" * 196 + ".txt",
        Path(os.fsdecode(os.path.join(os.fsencode(src), b"caf\xe9.txt"))): "caf\ufffd.txt",
    }
    for i, path in enumerate(sources):
        path.write_text(page([GOOD[i]]))
    landed = land_files(home.landing / DAY.isoformat(), list(sources))
    folder = (home.landing / DAY.isoformat()).resolve()
    assert [p.name for p in landed] == list(sources.values())
    for path in landed:
        assert path.resolve().parent == folder
    # Nothing hidden from the landing reader, and nothing anywhere else in the home.
    assert sorted(p.name for p in listing_files(folder)) == sorted(sources.values())
    assert [p for p in home.landing.rglob("*") if p.is_file() and p.parent != folder] == []
    assert not (home.root.parent / "evil name.txt").exists()


def test_land_files_name_taken_by_other_content_or_a_folder(home: env.Home, tmp_path: Path) -> None:
    folder = home.landing / DAY.isoformat()
    (folder / "page.txt").mkdir(parents=True)  # a folder squatting the name
    first, second = tmp_path / "a" / "page.txt", tmp_path / "b" / "page.txt"
    write_listing(first, GOOD[:1])
    write_listing(second, GOOD[1:2])
    landed = land_files(folder, [first, second, first])
    assert [p.name for p in landed] == ["page-2.txt", "page-3.txt", "page-2.txt"]


def test_land_files_lands_nothing_unless_every_file_is_there(
    home: env.Home, tmp_path: Path
) -> None:
    good = write_listing(tmp_path / "good.txt", GOOD)
    with pytest.raises(LandingError, match="listing file not found"):
        land_files(home.landing / DAY.isoformat(), [good, tmp_path / "missing.txt"])
    assert not any(home.landing.iterdir())


@pytest.mark.parametrize(
    ("date", "code", "message"),
    [
        ("not-a-date", 2, "not a YYYY-MM-DD date: 'not-a-date'"),
        ("../../etc", 2, "not a YYYY-MM-DD date"),
        ("1999-01-01", 1, "papertrends: listing date 1999-01-01 is outside the pipeline's dates"),
    ],
)
def test_run_refuses_a_bad_date_and_lands_nothing(
    home: env.Home, date: str, code: int, message: str
) -> None:
    result = invoke("run", "--listing", str(SAMPLE), "--date", date)
    assert result.exit_code == code
    assert message in result.stderr.strip().splitlines()[-1]
    assert not any(home.landing.iterdir())


# ------------------------------------------------------------------------------- sensor


def test_landing_sensor_ignores_folders_that_are_not_dates(home: env.Home) -> None:
    write_listing(home.landing / DAY.isoformat() / "good.txt", GOOD)
    for name in ("not-a-date", "2026-02-30", "2026-11-21 copy", "..2026-11-21"):
        write_listing(home.landing / name / "good.txt", GOOD)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    result, _ = landing_sensor_tick(home, log_handler=handler)
    assert [r.partition_key for r in result.run_requests] == [DAY.isoformat()]
    messages = [r.getMessage() for r in records]
    for name in ("not-a-date", "2026-02-30", "2026-11-21 copy", "..2026-11-21"):
        assert any(f"landing/{name}:" in m and "ignored" in m for m in messages), messages


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_all_hostile_files_in_one_day_end_to_end(home: env.Home, tmp_path: Path) -> None:
    """One real `papertrends run` (in this process, click's CliRunner): every hostile file
    lands next to a good one."""
    folder = home.landing / DAY.isoformat()
    # Created by hand in landing/<date>/, with odd names.
    odd_cards = take(len(ODD_NAMES))
    for name, card in zip(ODD_NAMES, odd_cards, strict=True):
        _write(folder, name, page([card]).encode())
    # Landed by the CLI: every case, the good file, a duplicate, and hostile paths.
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    args = ["run", "--date", DAY.isoformat()]
    for case in CASES:
        _write(src, case.name, case.data())
        args += ["--listing", str(src / case.name)]
    good = write_listing(src / "good.txt", GOOD)
    dup_data = page(_DUP).encode()
    _write(src, "dup a.txt", dup_data)
    _write(src, "..\\..\\dup b.txt", dup_data)
    args += ["--listing", str(good), "--listing", str(src / "dup a.txt")]
    args += ["--listing", str(src / "..\\..\\dup b.txt")]
    traversal = take(1)
    _write(src, "traversal card.txt", page(traversal).encode())
    args += ["--listing", str(src / "sub" / ".." / "traversal card.txt")]

    result = invoke(*args)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr

    # Everything landed inside landing/<date>/ under a plain name.
    landed = sorted(os.fsencode(p.name) for p in folder.iterdir())
    expected_names = [c.name for c in CASES] + ["good.txt", "dup a.txt", "dup b.txt"]
    expected_names += ["traversal card.txt"]
    assert {os.fsencode(n) for n in expected_names} <= set(landed)
    assert [p for p in home.landing.rglob("*") if p.is_file() and p.parent != folder] == []

    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        titles: dict[str, list[str]] = {}
        for source, title in con.execute(
            "select source_file, title from raw.listings where listing_date = $1"
            " order by source_file, position",
            [DAY],
        ).fetchall():
            titles.setdefault(source, []).append(title)
        reasons: dict[str, list[str]] = {}
        for source, reason in con.execute(
            "select source_file, reason from raw.rejected_records where listing_date = $1"
            " order by source_file, position",
            [DAY],
        ).fetchall():
            reasons.setdefault(source, []).append(reason)
        papers = {t for (t,) in con.execute("select title from papers").fetchall()}
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}

    assert titles["good.txt"] == _titles(GOOD)
    for case in CASES:
        assert titles.get(case.name, []) == case.titles, case.name
        assert_reasons(reasons.get(case.name, []), case.reasons)
    assert titles["dup a.txt"] == _titles(_DUP)
    assert "same content as dup a.txt" in reasons["dup b.txt"][0]
    assert titles["traversal card.txt"] == _titles(traversal)
    for card in odd_cards:
        assert any(card[0] in ts for ts in titles.values())
    # Markup and SQL-looking text are plain text in the warehouse; papers is intact.
    assert {t for t, _ in _MARKUP} | {_SQL_TITLE} <= papers
    assert "papers" in tables and "listings" in tables
    kept = set(_titles(GOOD)) | {t for c in CASES for t in c.titles} | set(_titles(_DUP))
    kept |= set(_titles(traversal)) | set(_titles(odd_cards))
    assert papers == kept
    # Every landed file has records or a quarantine row.
    assert len(set(titles) | set(reasons)) == len(list(folder.iterdir()))
    assert "papers parsed" in result.stdout and "quarantined" in result.stdout


def test_clean_line_matches_what_the_cases_expect() -> None:
    assert clean_line(_invisible_title(_INVISIBLE_CLEAN[0])) == _INVISIBLE_CLEAN[0]
