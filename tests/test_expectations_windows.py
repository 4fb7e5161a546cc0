"""Windows of listing dates, ``run_suite`` and chunks.

* a multi-date window is one pass that names the failing dates, rows outside the window
  are not reported, whole-table invariants (papers summary, orphan keyphrases) are;
* ``run_suite`` skips the window's empty dates, and a window of empty dates only is one
  skipped result;
* a window larger than the row budget is validated in date chunks, merged into one result
  with the same verdict and failures as one pass (all history too, undated rows included).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from expectations import (
    STAGES,
    WARN,
    SuiteResult,
    results,
    run_suite,
    save_report,
    stage_suite,
    validate_frame,
    validate_stage,
    windows,
)
from expectations.merge import WindowMerge
from expectations.windows import plan_chunks, window, window_label
from tests.expectations_warehouse import D0, LAST, D, long_db, memory_db, paper_id
from transforms.warehouse import empty_day_reason


def _frame(stage: str):
    """The stage's clean frame of ``D``."""
    sql, params = stage_suite(stage).query(D)
    return memory_db().execute(sql, params).df()


def test_window_bounds_and_labels():
    assert window(D) == (D, D) and window(D0, D) == (D0, D) and window(None) == (None, None)
    assert window("2024-03-01") == (D, D)
    assert window_label(D) == "2024-03-01" and window_label(D, D) == "2024-03-01"
    assert window_label(D0, D) == "2024-02-29..2024-03-01" and window_label(None) is None
    with pytest.raises(ValueError):
        window(D, D0)
    with pytest.raises(ValueError):
        window(None, D)


@pytest.mark.parametrize("stage", STAGES)
def test_clean_multi_date_window_passes_in_one_pass(stage):
    result = validate_stage(memory_db(), stage, D0, D)
    assert result.success and result.failed == [], result.to_json()
    assert result.listing_date == "2024-02-29..2024-03-01"


def test_window_selects_the_window_rows():
    con = memory_db()
    rows = {}
    for stage in STAGES:
        for bounds in ((D0, D0), (D, D), (D0, D)):
            sql, params = stage_suite(stage).query(*bounds)
            rows[stage, bounds] = con.execute(sql, params).df()
    assert [len(rows["raw_listings", b]) for b in ((D0, D0), (D, D), (D0, D))] == [5, 6, 11]
    # papers: the window's papers (1..5 on D0; 1..6 on D, re-listed ones included) + summary
    papers = {b: rows["papers", b] for b in ((D0, D0), (D, D), (D0, D))}
    assert [len(f) for f in papers.values()] == [6, 7, 7]
    assert paper_id(6) not in set(papers[D0, D0]["paper_id"])
    assert all((f["source_table"] == "summary").sum() == 1 for f in papers.values())
    assert set(papers[D0, D0]["table_rows"].dropna()) == {6}  # whole table, not the window
    assert [len(rows["keyphrases", b]) for b in ((D0, D0), (D, D))] == [15, 18]
    # trends: one summary row per date of the window
    summary = rows["trends", (D0, D)].query("source_table == 'summary'")
    assert [d.date() for d in summary["summary_date"]] == [D0, D]
    assert list(summary["listed_papers"]) == [5, 6]


def test_an_empty_papers_table_fails_whatever_the_window():
    con = memory_db()
    assert validate_stage(con, "papers", D0).success
    con.execute("DELETE FROM papers")
    result = validate_stage(con, "papers", D0)
    assert result.row_count == 1  # the summary row alone
    assert [(f.expectation, f.column) for f in result.failed] == [
        ("expect_column_values_to_be_between", "table_rows")
    ]


# (stage, SQL that breaks a row of D0 or of paper 6 only, window without it, window with
# it, failing expectation, column, dates named)
OUTSIDE_CASES = [
    (
        "raw_listings",
        "UPDATE raw.listings SET title = repeat('x', 1500) "
        "WHERE listing_date = DATE '2024-02-29' AND \"position\" = 2",
        (D, D),
        (D0, D),
        "expect_column_value_lengths_to_be_between",
        "title",
        ["2024-02-29"],
    ),
    (
        "papers",
        f"UPDATE papers SET code_url = 'javascript:alert(1)' WHERE paper_id = '{paper_id(6)}'",
        (D0, D0),
        (D0, D),
        "expect_column_values_to_match_regex",
        "code_url",
        [],
    ),
    (
        "keyphrases",
        f"DELETE FROM raw.paper_keyphrases WHERE paper_id = '{paper_id(6)}' AND rank = 2",
        (D0, D0),
        (D, D),
        "expect_column_pair_values_to_be_equal",
        "max_rank,n_keyphrases",
        [],
    ),
    (
        "trends",
        "UPDATE keyword_daily SET papers = 0 WHERE listing_date = DATE '2024-02-29' "
        "AND keyphrase_norm = 'diffusion models'",
        (D, D),
        (D0, D),
        "expect_column_values_to_be_between",
        "papers",
        ["2024-02-29"],
    ),
    (  # paper 6 (listed on D only) lost a keyphrase, paper_topics still has its topic
        "topics",
        f"DELETE FROM paper_keyphrases WHERE paper_id = '{paper_id(6)}' AND keyphrase_rank = 2",
        (D0, D0),
        (D, D),
        "expect_column_pair_values_to_be_equal",
        "topic_rows,n_topics",
        [],
    ),
]


@pytest.mark.parametrize(
    "stage,sql,without,within,expectation,column,dates",
    OUTSIDE_CASES,
    ids=[c[0] for c in OUTSIDE_CASES],
)
def test_bad_row_outside_the_window_is_not_reported(
    stage, sql, without, within, expectation, column, dates
):
    con = memory_db()
    con.execute(sql)
    excluded = validate_stage(con, stage, *without)
    assert excluded.success and excluded.failed == [], excluded.to_json()
    included = validate_stage(con, stage, *within)
    hits = [f for f in included.failed if (f.expectation, f.column) == (expectation, column)]
    assert hits and not included.success, included.to_json()
    assert hits[0].dates == dates


def test_window_with_one_date_missing_its_trends_fails_naming_that_date():
    con = memory_db()
    con.execute("DELETE FROM keyword_trends WHERE as_of_date = ?", [D0])
    result = validate_stage(con, "trends", D0, D)
    assert not result.success
    (hit,) = result.failed
    assert (hit.expectation, hit.column) == ("expect_column_values_to_be_between", "trend_rows")
    assert hit.dates == [D0.isoformat()]
    assert [(r["summary_date"], r["trend_rows"]) for r in hit.sample_rows] == [(D0.isoformat(), 0)]
    assert validate_stage(con, "trends", D).success  # D alone still has its trends


def test_orphan_keyphrases_are_found_whatever_the_window():
    con = memory_db()
    con.execute(
        "INSERT INTO raw.paper_keyphrases "
        "VALUES ('ffffffffffffffff', 1, 'Ghost', 'ghost', 0.5, 'yake-0.7.3')"
    )
    for bounds in ((D0, D0), (D, D), (None, None)):
        result = validate_stage(con, "keyphrases", *bounds)
        (hit,) = result.failed
        assert (hit.expectation, hit.column) == (
            "expect_column_values_to_be_in_set",
            "paper_exists",
        )
        assert hit.sample_rows[0]["paper_id"] == "ffffffffffffffff"


# --------------------------------------------------------------------------- run_suite
EMPTY1, EMPTY2 = dt.date(2024, 2, 27), dt.date(2024, 2, 28)  # nothing landed


@pytest.mark.parametrize("stage", STAGES)
def test_run_suite_one_date_and_all_history(stage):
    con = memory_db()
    one = run_suite(con, stage, D)
    assert isinstance(one, SuiteResult) and one.success
    assert one.listing_date == "2024-03-01" and one.skipped_dates == {}
    assert run_suite(con, stage, "2024-03-01").listing_date == "2024-03-01"
    every = run_suite(con, stage, None)
    assert every.success and every.listing_date is None


@pytest.mark.parametrize("stage", STAGES)
def test_run_suite_skips_the_empty_dates_of_a_window(stage):
    con = memory_db()
    result = run_suite(con, stage, EMPTY1, D)
    assert isinstance(result, SuiteResult) and result.success, result.to_json()
    assert result.listing_date == "2024-02-27..2024-03-01"
    assert result.skipped_dates == {
        "2024-02-27": "no listing landed for 2024-02-27",
        "2024-02-28": "no listing landed for 2024-02-28",
    }
    assert result.to_json()["skipped_dates"] == result.skipped_dates


def test_run_suite_on_empty_dates_is_skipped():
    con = memory_db()
    one = run_suite(con, "papers", EMPTY1)
    # what `papertrends validate --date` shows: the date's reason
    assert isinstance(one, SuiteResult)
    assert one.skipped == empty_day_reason(con, EMPTY1) == "no listing landed for 2024-02-27"
    assert one.success and one.listing_date == "2024-02-27"
    assert one.skipped_dates == {"2024-02-27": one.skipped}
    assert (one.evaluated, one.failed, one.row_count, one.chunks) == (0, [], 0, [])
    both = run_suite(con, "trends", EMPTY1, EMPTY2)
    assert both.skipped and both.listing_date == "2024-02-27..2024-02-28"
    assert set(both.skipped_dates) == {"2024-02-27", "2024-02-28"}
    assert both.skipped == (
        "nothing to validate in 2024-02-27..2024-02-28: "
        "no listing landed for 2024-02-27; no listing landed for 2024-02-28"
    )
    assert both.to_json() == {
        "suite": "trends",
        "success": True,
        "skipped": True,
        "error": None,
        "listing_date": "2024-02-27..2024-02-28",
        "skipped_dates": both.skipped_dates,
        "evaluated": 0,
        "n_failed_error": 0,
        "n_failed_warn": 0,
        "row_count": 0,
        "seconds": 0.0,
        "chunks": [],
        "html_chunk": None,
        "failed": [],
    }
    json.dumps(both.to_json())


def test_save_report_of_a_window(tmp_path):
    result = validate_stage(memory_db(), "trends", D0, D)
    path = save_report(result, tmp_path, html=False)
    assert path.name == "trends__2024-02-29..2024-03-01.json"
    assert json.loads(path.read_text())["listing_date"] == "2024-02-29..2024-03-01"


# --------------------------------------------------------------------------- chunks
ONE_PASS = 10**9  # a row budget no window here reaches


def _verdict(result) -> tuple:
    """What must not depend on chunking: the verdict and each failure with its dates."""
    return result.success, sorted(
        (f.expectation, f.column or "", f.severity, tuple(f.dates)) for f in result.failed
    )


def test_plan_chunks():
    plan = plan_chunks
    counts = {None: 1, D0: 5, D: 6}
    assert plan(counts, D0, D, 100) == [(D0, D)]
    assert plan(counts, D0, D, 6) == [(D0, D0), (D, D)]  # the None rows go with chunk 1
    # consecutive chunks cover the window; a date above the budget is a chunk of its own
    assert plan({EMPTY1: 3, D: 50, D + dt.timedelta(1): 2}, EMPTY1, LAST, 10) == [
        (EMPTY1, D0),
        (D, D),
        (D + dt.timedelta(1), LAST),
    ]
    assert plan({D: 50}, EMPTY1, LAST, 10) == [(EMPTY1, LAST)]
    assert plan({}, D0, D, 1) == [(D0, D)]


@pytest.mark.parametrize("budget", [1, 12])
@pytest.mark.parametrize("stage", STAGES)
def test_chunked_clean_window_passes_like_one_pass(stage, budget):
    con = long_db()
    whole = validate_stage(con, stage, D0, LAST, chunk_rows=ONE_PASS)
    chunked = validate_stage(con, stage, D0, LAST, chunk_rows=budget)
    assert len(whole.chunks) == 1 and whole.html_chunk is None
    assert len(chunked.chunks) > 1 and chunked.success and chunked.failed == [], chunked.to_json()
    assert chunked.listing_date == whole.listing_date == f"{D0}..{LAST}"
    assert chunked.evaluated == whole.evaluated == len(stage_suite(stage).build().expectations)
    windows = [c["window"] for c in chunked.chunks]  # consecutive, covering the window
    assert windows[0].startswith(str(D0)) and windows[-1].endswith(str(LAST))
    assert chunked.row_count == sum(c["rows"] for c in chunked.chunks)
    assert chunked.seconds == pytest.approx(sum(c["seconds"] for c in chunked.chunks), abs=0.01)
    if stage in ("raw_listings", "trends"):  # rows of one date each; a paper listed on
        assert chunked.row_count == whole.row_count  # dates of two chunks is in both


LAST_SQL = f"DATE '{LAST}'"
# (stage, SQL breaking rows of several dates / chunks)
CHUNK_CASES = [
    (
        "raw_listings",
        "UPDATE raw.listings SET title = repeat('x', 1500) WHERE \"position\" = 2 "
        f"AND listing_date IN (DATE '{D0}', {LAST_SQL})",
    ),
    (
        "raw_listings",
        f"UPDATE raw.listings SET file_sha256 = 'XYZ', raw_text = NULL WHERE listing_date = {LAST_SQL}",
    ),
    (
        "papers",
        f"UPDATE papers SET code_url = 'javascript:alert(1)' WHERE paper_id = '{paper_id(6)}'",
    ),
    ("papers", f"UPDATE papers SET times_listed = 0 WHERE paper_id = '{paper_id(6)}'"),
    (
        "papers",
        f"UPDATE papers SET first_listed = last_listed + 1 WHERE paper_id = '{paper_id(2)}'",
    ),
    (
        "keyphrases",
        f"DELETE FROM raw.paper_keyphrases WHERE paper_id = '{paper_id(6)}' AND rank = 2",
    ),
    (
        "keyphrases",
        "INSERT INTO raw.paper_keyphrases "
        "VALUES ('ffffffffffffffff', 1, 'Ghost', 'ghost', 0.5, 'yake-0.7.3')",
    ),
    (
        "trends",
        f"UPDATE keyword_daily SET papers = 0 WHERE listing_date IN (DATE '{D0}', {LAST_SQL})",
    ),
    ("trends", f"DELETE FROM keyword_trends WHERE as_of_date IN (DATE '{D}', {LAST_SQL})"),
    (
        "trends",
        f"UPDATE keyword_trends SET status = 'bogus', z_score = 'inf' WHERE as_of_date = {LAST_SQL}",
    ),
    ("topics", "DELETE FROM keyphrase_topics WHERE keyphrase_norm = 'graph neural networks'"),
    ("topics", "UPDATE topics SET papers = 0, label = ' ' WHERE topic = 'diffusion models'"),
    ("topics", "DELETE FROM topics"),  # the whole-table floor, with the first chunk only
]


@pytest.mark.parametrize("budget", [1])
@pytest.mark.parametrize(
    "stage,sql", CHUNK_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CHUNK_CASES)]
)
def test_chunked_window_fails_like_one_pass(stage, sql, budget):
    con = long_db()
    con.execute(sql)
    whole = validate_stage(con, stage, D0, LAST, chunk_rows=ONE_PASS)
    chunked = validate_stage(con, stage, D0, LAST, chunk_rows=budget)
    assert len(chunked.chunks) > 1 and not whole.success, whole.to_json()
    assert _verdict(chunked) == _verdict(whole), (chunked.to_json(), whole.to_json())
    # one failure per expectation, however many chunks saw it
    keys = [(f.expectation, f.column, f.severity, json.dumps(f.kwargs)) for f in chunked.failed]
    assert len(keys) == len(set(keys))
    for f in chunked.failed:
        assert 0 < len(f.sample_rows) <= results.SAMPLE_ROWS or not any(
            g.sample_rows for g in whole.failed if g.expectation == f.expectation
        )


def test_bad_row_in_the_last_chunk_is_found():
    con = long_db()
    con.execute(
        f"UPDATE keyword_daily SET papers = 0 WHERE listing_date = {LAST_SQL} "
        "AND keyphrase_norm = 'diffusion models'"
    )
    result = validate_stage(con, "trends", D0, LAST, chunk_rows=1)
    assert [c["window"] for c in result.chunks][-1] == str(LAST)
    assert [c["failed"] for c in result.chunks] == [0, 0, 0, 0, 1]
    (hit,) = result.failed
    assert (hit.expectation, hit.column, hit.dates) == (
        "expect_column_values_to_be_between",
        "papers",
        [str(LAST)],
    )
    (row,) = hit.sample_rows
    assert row["_chunk"] == str(LAST) and row["keyphrase_norm"] == "diffusion models"
    assert hit.observed["unexpected_count"] == 1
    assert result.html_chunk == str(LAST)  # the GE page is the failing chunk's


def test_whole_table_failures_are_computed_and_reported_once():
    con = long_db()
    con.execute(
        "INSERT INTO raw.paper_keyphrases "
        "VALUES ('ffffffffffffffff', 1, 'Ghost', 'ghost', 0.5, 'yake-0.7.3')"
    )
    keyphrases = validate_stage(con, "keyphrases", D0, LAST, chunk_rows=1)
    assert len(keyphrases.chunks) == 5
    (orphan,) = keyphrases.failed
    assert orphan.column == "paper_exists" and orphan.observed["unexpected_count"] == 1
    assert orphan.sample_rows[0]["_chunk"] == str(D0)  # the orphans came with chunk 1 only
    papers = validate_stage(con, "papers", D0, LAST, chunk_rows=1)
    assert len(papers.chunks) == 5 and papers.success
    # the chunks after the first carry neither the summary row nor the orphans
    for stage in ("papers", "keyphrases"):
        sql, params = stage_suite(stage).query(D, LAST, whole_table=False)
        frame = con.execute(sql, params).df()
        if stage == "papers":
            assert "summary" not in set(frame["source_table"])
            assert "table_rows" in set(frame.columns)
        else:
            assert "ffffffffffffffff" not in set(frame["paper_id"])


def test_window_aggregates_are_judged_on_the_whole_window():
    """Distinct values and row counts are the window's, not a chunk's."""
    suite = stage_suite("keyphrases").build()
    merge = WindowMerge(suite, f"{D0}..{D}")
    for chunk, version in ((str(D0), "yake-0.7.3"), (str(D), "yake-0.8.0")):
        frame = _frame("keyphrases")
        frame.loc[frame["n_keyphrases"] > 0, "extractor_version"] = version
        part = validate_frame(suite, frame, listing_date=chunk)
        assert part.success and part.failed == []  # each chunk has one version
        merge.add(chunk, frame, part)
    (hit,) = merge.result().failed
    assert hit.expectation == "expect_column_unique_value_count_to_be_between"
    assert hit.severity == WARN and hit.observed["observed_value"] == 2
    # an empty chunk fails the row count alone, not within a window with rows
    suite = stage_suite("raw_listings").build()
    merge = WindowMerge(suite, None)
    frame = _frame("raw_listings")
    for part_frame in (frame, frame.iloc[0:0]):
        merge.add("x", part_frame, validate_frame(suite, part_frame))
    assert merge.chunks[1]["failed"] == 1 and merge.result().failed == []


# (stage, SQL adding a row that only an all-history pass sees: no listing date at all)
UNDATED_CASES = [
    (
        "raw_listings",
        "INSERT INTO raw.listings SELECT * REPLACE (NULL AS listing_date, NULL AS title) "
        f"FROM raw.listings WHERE listing_date = DATE '{D}' AND \"position\" = 1",
    ),
    (  # no listing date, and listed 0 times (its null dates are dbt's not_null test)
        "papers",
        "INSERT INTO papers VALUES ('ab12cd34ef56ab78', 'Never listed', 'An abstract.', NULL, "
        "NULL, NULL, 0)",
    ),
    (
        "keyphrases",
        "INSERT INTO papers VALUES ('ab12cd34ef56ab78', 'Never listed', 'An abstract.', NULL, "
        f"DATE '{D}', DATE '{D}', 1); INSERT INTO raw.paper_keyphrases VALUES "
        "('ab12cd34ef56ab78', 2, 'Ghost', 'ghost', 0.5, 'yake-0.7.3')",
    ),
    ("trends", "INSERT INTO keyword_daily VALUES (NULL, 'ghost', 0, 5)"),
    (  # keyphrases, but no topic, for a paper never listed on a date
        "topics",
        "INSERT INTO papers VALUES ('ab12cd34ef56ab78', 'Never listed', 'An abstract.', NULL, "
        f"DATE '{D}', DATE '{D}', 1); INSERT INTO paper_keyphrases VALUES "
        "('ab12cd34ef56ab78', 'ghost', 'Ghost', 1, 0.5)",
    ),
]


@pytest.mark.parametrize("stage,sql", UNDATED_CASES, ids=[c[0] for c in UNDATED_CASES])
def test_all_history_is_chunked_and_keeps_the_undated_rows(stage, sql):
    con = long_db()
    clean = validate_stage(con, stage, None, chunk_rows=1)
    assert len(clean.chunks) > 1 and clean.success and clean.failed == [], clean.to_json()
    assert clean.listing_date is None
    con.execute(sql)
    whole = validate_stage(con, stage, None, chunk_rows=ONE_PASS)
    chunked = validate_stage(con, stage, None, chunk_rows=1)
    assert len(whole.chunks) == 1 and len(chunked.chunks) > 1
    assert not whole.success and _verdict(chunked) == _verdict(whole), chunked.to_json()
    again = run_suite(con, stage, None, chunk_rows=1)  # run_suite: the same chunks
    assert [c["window"] for c in again.chunks] == [c["window"] for c in chunked.chunks]


def test_run_suite_chunks_with_the_module_budget(monkeypatch):
    con = long_db()
    con.execute(f"DELETE FROM keyword_trends WHERE as_of_date = {LAST_SQL}")
    monkeypatch.setattr(windows, "CHUNK_ROWS", 20)
    result = run_suite(con, "trends", EMPTY1, LAST)
    assert len(result.chunks) > 1 and set(result.skipped_dates) == {str(EMPTY1), str(EMPTY2)}
    (hit,) = result.failed
    assert hit.column == "trend_rows" and hit.dates == [str(LAST)]
    assert len(run_suite(con, "trends", D).chunks) == 1  # a date is never split


def test_save_report_of_a_chunked_window(tmp_path):
    con = long_db()
    con.execute(f"DELETE FROM keyword_trends WHERE as_of_date = DATE '{D}'")
    result = validate_stage(con, "trends", D0, LAST, chunk_rows=1)
    path = save_report(result, tmp_path)
    data = json.loads(path.read_text())
    assert [c["window"] for c in data["chunks"]] == [
        str(D0 + dt.timedelta(days=i)) for i in range(5)
    ]
    assert data["html_chunk"] == str(D) and [f["dates"] for f in data["failed"]] == [[str(D)]]
    assert (tmp_path / f"trends__{D0}..{LAST}.html").exists()
    clean = validate_stage(long_db(), "trends", D0, LAST, chunk_rows=1)
    assert clean.html_chunk == str(D0)  # nothing failed: the first chunk's page
