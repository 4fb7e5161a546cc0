"""Tests for the Great Expectations suites in ``expectations``.

* a clean warehouse (``tests.expectations_warehouse``) passes every stage with no failure
  at all (not even warnings, and GX raises none);
* for every expectation of every suite there is a frame mutation that breaks
  it, and the result names that expectation with the right severity (and a
  test checks that no expectation is left without such a case);
* no expectation says again what a dbt test says (keys, nulls);
* end-to-end ``validate_stage`` cases against DuckDB (file and in-memory),
  missing tables/columns, and ``save_report``;
* the registry, the expectation tag, the lazy GX import.

Windows, ``run_suite`` and chunks: ``test_expectations_windows.py``.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expectations import (
    ERROR,
    STAGES,
    SUITES,
    WARN,
    StageSuite,
    catalog,
    gx,
    save_report,
    stage_suite,
    validate_frame,
    validate_stage,
)
from expectations.suite import non_capturing, tag
from tests.expectations_warehouse import D0, SCHEMA, D, memory_db, populate
from transforms.records import PAPER_ID_REGEX


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    populate(con)
    con.close()
    return path


@pytest.fixture(scope="module")
def suites():
    return {stage: stage_suite(stage).build() for stage in STAGES}


@pytest.fixture(scope="module")
def clean_frames(db_path):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        frames = {}
        for stage in STAGES:
            sql, params = stage_suite(stage).query(D)
            frames[stage] = con.execute(sql, params).df()
        return frames
    finally:
        con.close()


# --------------------------------------------------------------------------- clean
@pytest.mark.parametrize("stage", STAGES)
def test_clean_frame_passes_without_any_failure(stage, suites, clean_frames):
    with warnings.catch_warnings(record=True) as caught:  # GX's warnings are not filtered
        warnings.simplefilter("always")
        result = validate_frame(suites[stage], clean_frames[stage], listing_date=D)
    assert [str(w.message) for w in caught] == []
    assert result.failed == [], json.dumps(result.to_json(), indent=1)[:4000]
    assert result.success
    assert result.evaluated == len(suites[stage].expectations)
    assert result.row_count == len(clean_frames[stage]) > 0


@pytest.mark.parametrize("stage", STAGES)
def test_validate_stage_clean_file_db(stage, db_path):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        result = validate_stage(con, stage, D)
    finally:
        con.close()
    assert result.success and result.failed == [], result.to_json()
    assert not result.skipped and result.error is None


@pytest.mark.parametrize("stage", STAGES)
def test_validate_stage_all_dates(stage):
    # listing_date=None validates whole tables; D0 has 5 cards = min_rows
    result = validate_stage(memory_db(), stage, None)
    assert result.success and result.failed == [], result.to_json()


# --------------------------------------------------------------------------- mutations
def _set(frame: pd.DataFrame, row: int, **values) -> pd.DataFrame:
    for column, value in values.items():
        if value is None and frame[column].dtype.kind in "iu":
            frame[column] = frame[column].astype("Int64")
        frame.loc[frame.index[row], column] = value
    return frame


def _paper_rows(frame: pd.DataFrame, n: int = 0) -> pd.Series:
    pid = frame["paper_id"].iloc[n * 3]
    return frame["paper_id"] == pid


def _kp_set(frame, mask, **values):
    for column, value in values.items():
        frame.loc[mask, column] = value
    return frame


def _trend_row(frame: pd.DataFrame) -> int:
    return int(frame.index[frame["source_table"] == "keyword_trends"][0])


def _daily_row(frame: pd.DataFrame) -> int:
    return int(frame.index[frame["source_table"] == "keyword_daily"][0])


def _summary_row(frame: pd.DataFrame) -> int:
    return int(frame.index[frame["source_table"] == "summary"][0])


def _row_of(kind: str):
    """The position of the first row of the ``source_table`` ``kind`` (topics frame)."""
    return lambda frame: int(frame.index[frame["source_table"] == kind][0])


_paper, _keyphrase, _topic = _row_of("paper"), _row_of("keyphrase"), _row_of("topic")


# (stage, case id, mutation(frame) -> frame, expectation type, column, severity)
CASES = [
    # ---- raw_listings
    (
        "raw_listings",
        "column dropped",
        lambda f: f.drop(columns=["abstract"]),
        "expect_table_columns_to_match_set",
        None,
        ERROR,
    ),
    (
        "raw_listings",
        "no records",
        lambda f: f.head(0),
        "expect_table_row_count_to_be_between",
        None,
        ERROR,
    ),
    (
        "raw_listings",
        "date with too few records",
        lambda f: _set(f, 0, date_rows=0),
        "expect_column_values_to_be_between",
        "date_rows",
        ERROR,
    ),
    (
        "raw_listings",
        "partial pasted page",
        lambda f: f.head(2).assign(page_cards=2),
        "expect_column_values_to_be_between",
        "page_cards",
        ERROR,
    ),
    (
        "raw_listings",
        "epoch date",
        lambda f: _set(f, 1, listing_date=pd.Timestamp("1970-01-01")),
        "expect_column_values_to_be_between",
        "listing_date",
        ERROR,
    ),
    (
        "raw_listings",
        "future date",
        lambda f: _set(f, 1, listing_date=pd.Timestamp("2100-01-01")),
        "expect_column_values_to_be_between",
        "listing_date",
        ERROR,
    ),
    (
        "raw_listings",
        "null source_file",
        lambda f: _set(f, 2, source_file=None),
        "expect_column_values_to_not_be_null",
        "source_file",
        ERROR,
    ),
    (
        "raw_listings",
        "null sha",
        lambda f: _set(f, 2, file_sha256=None),
        "expect_column_values_to_not_be_null",
        "file_sha256",
        ERROR,
    ),
    (
        "raw_listings",
        "uppercase sha",
        lambda f: _set(f, 2, file_sha256="A" * 64),
        "expect_column_values_to_match_regex",
        "file_sha256",
        ERROR,
    ),
    (
        "raw_listings",
        "short sha",
        lambda f: _set(f, 2, file_sha256="abc123"),
        "expect_column_values_to_match_regex",
        "file_sha256",
        ERROR,
    ),
    (
        "raw_listings",
        "0-based position",
        lambda f: _set(f, 0, position=0),
        "expect_column_values_to_be_between",
        "position",
        ERROR,
    ),
    (
        "raw_listings",
        "null title",
        lambda f: _set(f, 0, title=None),
        "expect_column_values_to_not_be_null",
        "title",
        ERROR,
    ),
    (
        "raw_listings",
        "blank title",
        lambda f: _set(f, 0, title="        "),
        "expect_column_values_to_match_regex",
        "title",
        ERROR,
    ),
    (
        "raw_listings",
        "title 1500 chars",
        lambda f: _set(f, 0, title="x" * 1500),
        "expect_column_value_lengths_to_be_between",
        "title",
        ERROR,
    ),
    (
        "raw_listings",
        "null abstract",
        lambda f: _set(f, 0, abstract=None),
        "expect_column_values_to_not_be_null",
        "abstract",
        ERROR,
    ),
    (
        "raw_listings",
        "blank abstract",
        lambda f: _set(f, 0, abstract=" " * 80),
        "expect_column_values_to_match_regex",
        "abstract",
        ERROR,
    ),
    (
        "raw_listings",
        "abstract 20 chars",
        lambda f: _set(f, 0, abstract="An abstract of 20 ch"),
        "expect_column_value_lengths_to_be_between",
        "abstract",
        ERROR,
    ),
    (
        "raw_listings",
        "repeated card",
        lambda f: _set(f, 1, title=f["title"].iloc[0]),
        "expect_compound_columns_to_be_unique",
        "listing_date,source_file,title",
        WARN,
    ),
    (
        "raw_listings",
        "html in title",
        lambda f: _set(f, 1, title="<em>Sparse</em> attention for all"),
        "expect_column_values_to_not_match_regex",
        "title",
        WARN,
    ),
    (
        "raw_listings",
        "null raw_text",
        lambda f: _set(f, 1, raw_text=None),
        "expect_column_values_to_not_be_null",
        "raw_text",
        WARN,
    ),
    # ---- papers
    (
        "papers",
        "column dropped",
        lambda f: f.drop(columns=["times_listed"]),
        "expect_table_columns_to_match_set",
        None,
        ERROR,
    ),
    (
        "papers",
        "summary row missing",
        lambda f: f[f["source_table"] != "summary"],
        "expect_column_distinct_values_to_contain_set",
        "source_table",
        ERROR,
    ),
    (
        "papers",
        "empty table",
        lambda f: _set(f, _summary_row(f), table_rows=0),
        "expect_column_values_to_be_between",
        "table_rows",
        ERROR,
    ),
    (
        "papers",
        "full sha id",
        lambda f: _set(f, 0, paper_id="ab" * 32),
        "expect_column_values_to_match_regex",
        "paper_id",
        ERROR,
    ),
    (
        "papers",
        "blank title",
        lambda f: _set(f, 0, title=""),
        "expect_column_values_to_match_regex",
        "title",
        ERROR,
    ),
    (
        "papers",
        "first after last",
        lambda f: _set(f, 0, first_listed=pd.Timestamp("2024-03-05")),
        "expect_column_pair_values_a_to_be_greater_than_b",
        "last_listed,first_listed",
        ERROR,
    ),
    (
        "papers",
        "future last_listed",
        lambda f: _set(f, 0, last_listed=pd.Timestamp("2100-01-01"), listed_span_days=40000),
        "expect_column_values_to_be_between",
        "last_listed",
        ERROR,
    ),
    (
        "papers",
        "times_listed 0",
        lambda f: _set(f, 0, times_listed=0),
        "expect_column_values_to_be_between",
        "times_listed",
        ERROR,
    ),
    (
        "papers",
        "javascript url",
        lambda f: _set(f, 0, code_url="javascript:alert(1)"),
        "expect_column_values_to_match_regex",
        "code_url",
        ERROR,
    ),
    (
        "papers",
        "schemeless url",
        lambda f: _set(f, 0, code_url="github.com/foo/bar"),
        "expect_column_values_to_match_regex",
        "code_url",
        ERROR,
    ),
    (
        "papers",
        "quote-breaking url",
        lambda f: _set(f, 0, code_url='https://x.org/"onmouseover="x'),
        "expect_column_values_to_match_regex",
        "code_url",
        ERROR,
    ),
    (
        "papers",
        "times > span",
        lambda f: _set(f, 0, times_listed=7),
        "expect_column_pair_values_a_to_be_greater_than_b",
        "listed_span_days,times_listed",
        WARN,
    ),
    (
        "papers",
        "blank abstract",
        lambda f: _set(f, 0, abstract="   "),
        "expect_column_values_to_match_regex",
        "abstract",
        WARN,
    ),
    # ---- keyphrases (frame: one row per paper x keyphrase, per-paper aggregates repeated)
    (
        "keyphrases",
        "no papers",
        lambda f: f.head(0),
        "expect_table_row_count_to_be_between",
        None,
        ERROR,
    ),
    (
        "keyphrases",
        "orphan keyphrase",
        lambda f: _set(f, 0, paper_exists=False),
        "expect_column_values_to_be_in_set",
        "paper_exists",
        ERROR,
    ),
    (
        "keyphrases",
        "paper without keyphrases",
        lambda f: _kp_set(f, _paper_rows(f), n_keyphrases=0),
        "expect_column_values_to_be_between",
        "n_keyphrases",
        ERROR,
    ),
    (
        "keyphrases",
        "ranks from 0",
        lambda f: _kp_set(f, _paper_rows(f), min_rank=0),
        "expect_column_values_to_be_in_set",
        "min_rank",
        ERROR,
    ),
    (
        "keyphrases",
        "rank gap",
        lambda f: _kp_set(f, _paper_rows(f), max_rank=4),
        "expect_column_pair_values_to_be_equal",
        "max_rank,n_keyphrases",
        ERROR,
    ),
    (
        "keyphrases",
        "NaN score",
        lambda f: _set(f, 0, score=float("nan")),
        "expect_column_values_to_not_be_null",
        "score",
        ERROR,
    ),
    (
        "keyphrases",
        "raw yake score",
        lambda f: _set(f, 0, score=3.7),
        "expect_column_values_to_be_between",
        "score",
        ERROR,
    ),
    (
        "keyphrases",
        "null keyphrase",
        lambda f: _set(f, 0, keyphrase=None),
        "expect_column_values_to_not_be_null",
        "keyphrase",
        ERROR,
    ),
    (
        "keyphrases",
        "sentence keyphrase",
        lambda f: _set(f, 0, keyphrase="word " * 40),
        "expect_column_value_lengths_to_be_between",
        "keyphrase",
        ERROR,
    ),
    (
        "keyphrases",
        "null norm",
        lambda f: _set(f, 0, keyphrase_norm=None, keyphrase_norm_lower=None),
        "expect_column_values_to_not_be_null",
        "keyphrase_norm",
        ERROR,
    ),
    (
        "keyphrases",
        "empty norm",
        lambda f: _set(f, 0, keyphrase_norm="", keyphrase_norm_lower=""),
        "expect_column_value_lengths_to_be_between",
        "keyphrase_norm",
        ERROR,
    ),
    (
        "keyphrases",
        "blank norm",
        lambda f: _set(f, 0, keyphrase_norm="   ", keyphrase_norm_lower="   "),
        "expect_column_values_to_match_regex",
        "keyphrase_norm",
        ERROR,
    ),
    (
        "keyphrases",
        "uppercase norm",
        lambda f: _set(f, 0, keyphrase_norm="LLM", keyphrase_norm_lower="llm"),
        "expect_column_pair_values_to_be_equal",
        "keyphrase_norm,keyphrase_norm_lower",
        ERROR,
    ),
    (
        "keyphrases",
        "double space norm",
        lambda f: _set(f, 0, keyphrase_norm="large  models", keyphrase_norm_lower="large  models"),
        "expect_column_values_to_not_match_regex",
        "keyphrase_norm",
        ERROR,
    ),
    (
        "keyphrases",
        "same norm twice in paper",
        lambda f: _set(
            f,
            1,
            keyphrase_norm=f["keyphrase_norm"].iloc[0],
            keyphrase_norm_lower=f["keyphrase_norm"].iloc[0],
        ),
        "expect_compound_columns_to_be_unique",
        "paper_id,keyphrase_norm",
        WARN,
    ),
    (
        "keyphrases",
        "mixed extractor versions",
        lambda f: _set(f, 0, extractor_version="yake-0.8.0"),
        "expect_column_unique_value_count_to_be_between",
        "extractor_version",
        WARN,
    ),
    (
        "keyphrases",
        "null extractor version",
        lambda f: _set(f, 0, extractor_version=None),
        "expect_column_values_to_not_be_null",
        "extractor_version",
        WARN,
    ),
    (
        "keyphrases",
        "appended re-extraction",
        lambda f: _kp_set(f, _paper_rows(f), n_keyphrases=60, max_rank=60),
        "expect_column_values_to_be_between",
        "n_keyphrases",
        WARN,
    ),
    # ---- trends (union frame: summary / keyword_daily / keyword_trends rows)
    (
        "trends",
        "summary rows missing",
        lambda f: f[f["source_table"] != "summary"],
        "expect_column_distinct_values_to_contain_set",
        "source_table",
        ERROR,
    ),
    (
        "trends",
        "daily window empty",
        lambda f: _set(f, _summary_row(f), daily_rows=0),
        "expect_column_values_to_be_between",
        "daily_rows",
        ERROR,
    ),
    (
        "trends",
        "trend window empty",
        lambda f: _set(f, _summary_row(f), trend_rows=0),
        "expect_column_values_to_be_between",
        "trend_rows",
        ERROR,
    ),
    (
        "trends",
        "zero papers",
        lambda f: _set(f, _daily_row(f), papers=0),
        "expect_column_values_to_be_between",
        "papers",
        ERROR,
    ),
    (
        "trends",
        "papers > listed",
        lambda f: _set(f, _daily_row(f), papers=99),
        "expect_column_pair_values_a_to_be_greater_than_b",
        "papers_listed,papers",
        ERROR,
    ),
    (
        "trends",
        "share > 1",
        lambda f: _set(f, _trend_row(f), share_current=1.5),
        "expect_column_values_to_be_between",
        "share_current",
        ERROR,
    ),
    (
        "trends",
        "negative ref share",
        lambda f: _set(f, _trend_row(f), share_reference=-0.1),
        "expect_column_values_to_be_between",
        "share_reference",
        ERROR,
    ),
    (
        "trends",
        "negative current",
        lambda f: _set(f, _trend_row(f), papers_current=-1),
        "expect_column_values_to_be_between",
        "papers_current",
        ERROR,
    ),
    (
        "trends",
        "negative reference",
        lambda f: _set(f, _trend_row(f), papers_reference=-2),
        "expect_column_values_to_be_between",
        "papers_reference",
        ERROR,
    ),
    (
        "trends",
        "infinite z",
        lambda f: _set(f, _trend_row(f), z_score=math.inf),
        "expect_column_values_to_be_between",
        "z_score",
        ERROR,
    ),
    (
        "trends",
        "stale denominator",
        lambda f: _set(f, _daily_row(f), papers_listed=7),
        "expect_column_pair_values_to_be_equal",
        "papers_listed,appearances_listed",
        WARN,
    ),
    (
        "trends",
        "new with history",
        lambda f: _set(f, _trend_row(f), status="new", papers_reference=2),
        "expect_column_values_to_be_between",
        "papers_reference",
        WARN,
    ),
    # ---- topics (union frame: paper / keyphrase / topic / summary rows)
    (
        "topics",
        "summary row missing",
        lambda f: f[f["source_table"] != "summary"],
        "expect_column_distinct_values_to_contain_set",
        "source_table",
        ERROR,
    ),
    (
        "topics",
        "no topics at all",
        lambda f: _set(f, _summary_row(f), table_topics=0),
        "expect_column_values_to_be_between",
        "table_topics",
        ERROR,
    ),
    (
        "topics",
        "keyphrase without a topic",
        lambda f: _set(f, _paper(f), n_with_topic=f["n_keyphrases"].iloc[_paper(f)] - 1),
        "expect_column_pair_values_to_be_equal",
        "n_with_topic,n_keyphrases",
        ERROR,
    ),
    (
        "topics",
        "stale paper_topics",
        lambda f: _set(f, _paper(f), topic_rows=0),
        "expect_column_pair_values_to_be_equal",
        "topic_rows,n_topics",
        ERROR,
    ),
    (
        "topics",
        "chain stopped early",
        lambda f: _set(f, _keyphrase(f), topic_of_topic="language models"),
        "expect_column_pair_values_to_be_equal",
        "topic_of_topic,keyphrase_topic",
        ERROR,
    ),
    (
        "topics",
        "topic longer than keyphrase",
        lambda f: _set(f, _keyphrase(f), topic_words=9),
        "expect_column_pair_values_a_to_be_greater_than_b",
        "keyphrase_words,topic_words",
        ERROR,
    ),
    (
        "topics",
        "topic without papers",
        lambda f: _set(f, _topic(f), papers=0, topic_papers=0),
        "expect_column_values_to_be_between",
        "papers",
        ERROR,
    ),
    (
        "topics",
        "topics older than paper_topics",
        lambda f: _set(f, _topic(f), topic_papers=f["papers"].iloc[_topic(f)] + 1),
        "expect_column_pair_values_to_be_equal",
        "papers,topic_papers",
        ERROR,
    ),
    (
        "topics",
        "member list and count disagree",
        lambda f: _set(f, _topic(f), member_count=5),
        "expect_column_pair_values_to_be_equal",
        "keyphrases,member_count",
        ERROR,
    ),
    (
        "topics",
        "topics older than keyphrase_topics",
        lambda f: _set(f, _topic(f), mapped_keyphrases=7),
        "expect_column_pair_values_to_be_equal",
        "keyphrases,mapped_keyphrases",
        ERROR,
    ),
    (
        "topics",
        "first after last",
        lambda f: _set(f, _topic(f), first_listed=pd.Timestamp("2100-01-01")),
        "expect_column_pair_values_a_to_be_greater_than_b",
        "last_listed,first_listed",
        ERROR,
    ),
    (
        "topics",
        "blank label",
        lambda f: _set(f, _topic(f), label="   "),
        "expect_column_values_to_match_regex",
        "label",
        ERROR,
    ),
    (
        "topics",
        "sentence label",
        lambda f: _set(f, _topic(f), label="word " * 30),
        "expect_column_value_lengths_to_be_between",
        "label",
        ERROR,
    ),
    (
        "topics",
        "one topic holds most papers",
        lambda f: _set(f, _topic(f), paper_share=0.9),
        "expect_column_values_to_be_between",
        "paper_share",
        WARN,
    ),
]


@pytest.mark.parametrize(
    "stage,mutate,expectation,column,severity",
    [pytest.param(c[0], c[2], c[3], c[4], c[5], id=f"{c[0]}:{c[1]}") for c in CASES],
)
def test_mutation_breaks_named_expectation(
    stage, mutate, expectation, column, severity, suites, clean_frames
):
    dirty = mutate(clean_frames[stage].copy())
    with warnings.catch_warnings(record=True) as caught:  # GX's warnings are not filtered
        warnings.simplefilter("always")
        result = validate_frame(suites[stage], dirty, listing_date=D)
    assert [str(w.message) for w in caught] == []
    hits = [f for f in result.failed if f.expectation == expectation and f.column == column]
    assert hits, (
        f"{expectation}({column}) did not fail; "
        f"failed: {[(f.expectation, f.column) for f in result.failed]}"
    )
    assert any(h.severity == severity for h in hits)
    # gate failures fail the suite; warn-only failures do not
    assert result.success is not any(f.severity == ERROR for f in result.failed)
    if severity == ERROR:
        assert not result.success
    json.dumps(result.to_json(), allow_nan=False)  # always JSON-safe


@pytest.mark.parametrize("stage", STAGES)
def test_every_expectation_has_a_breaking_case(stage, suites):
    declared = {(e["expectation"], e["column"], e["severity"]) for e in catalog(suites[stage])}
    assert len(declared) == len(suites[stage].expectations), (
        "ambiguous (type, column, severity) keys"
    )
    covered = {(c[3], c[4], c[5]) for c in CASES if c[0] == stage}
    assert declared == covered, f"untested: {declared - covered}; stale cases: {covered - declared}"


@pytest.mark.parametrize("stage", STAGES)
def test_every_expectation_has_severity_and_reason(stage, suites):
    for entry in catalog(suites[stage]):
        assert entry["severity"] in (ERROR, WARN)
        assert len(entry["why"]) > 10, entry


def test_warn_only_failure_keeps_success(suites, clean_frames):
    dirty = _set(clean_frames["papers"].copy(), 0, abstract="   ")
    result = validate_frame(suites["papers"], dirty)
    assert result.success
    assert [f.severity for f in result.failed] == [WARN]
    assert result.warnings and not result.errors


def test_sample_rows_are_the_offending_rows(suites, clean_frames):
    frame = clean_frames["raw_listings"].copy()
    frame.index = frame.index + 100  # a non-range index must not confuse row lookup
    frame.loc[frame.index[3], "title"] = "x" * 1500
    result = validate_frame(suites["raw_listings"], frame)
    (hit,) = [
        f
        for f in result.failed
        if f.expectation == "expect_column_value_lengths_to_be_between" and f.column == "title"
    ]
    assert hit.observed["unexpected_count"] == 1
    assert len(hit.sample_rows) == 1
    assert hit.sample_rows[0]["position"] == 4 and hit.sample_rows[0]["title"].startswith("xxx")
    assert hit.kwargs == {"column": "title", "min_value": 5, "max_value": 400}


def test_sample_rows_capped_at_five(suites, clean_frames):
    frame = clean_frames["raw_listings"].copy()
    frame["position"] = 0
    result = validate_frame(suites["raw_listings"], frame)
    (hit,) = [
        f
        for f in result.failed
        if f.expectation == "expect_column_values_to_be_between" and f.column == "position"
    ]
    assert hit.observed["unexpected_count"] == 6
    assert len(hit.sample_rows) == 5


def test_min_rows_param(clean_frames):
    suite = stage_suite("raw_listings").build(min_rows=10)
    result = validate_frame(suite, clean_frames["raw_listings"])
    assert not result.success
    (hit,) = result.failed
    assert hit.expectation == "expect_column_values_to_be_between" and hit.column == "date_rows"
    assert hit.observed["unexpected_count"] == 6
    assert hit.dates == [D.isoformat()]


def test_min_rows_is_per_date_in_a_window():
    """D0 has 5 records, D has 6: min_rows=6 fails D0 only, even though the window has 11."""
    suite = stage_suite("raw_listings").build(min_rows=6)
    result = validate_stage(memory_db(), "raw_listings", D0, D, min_rows=6)
    assert result.row_count == 11 and not result.success
    (hit,) = result.failed
    assert hit.column == "date_rows" and hit.dates == [D0.isoformat()]
    assert len(suite.expectations) == result.evaluated


def test_python_date_objects_are_accepted(suites, clean_frames):
    frame = clean_frames["raw_listings"].copy()
    frame["listing_date"] = [d.date() for d in frame["listing_date"]]
    assert validate_frame(suites["raw_listings"], frame).success


# --------------------------------------------------------------------------- end to end
def test_a_card_twice_in_a_file_in_db_names_both_rows(tmp_path):
    path = tmp_path / "dup.duckdb"
    con = duckdb.connect(str(path))
    populate(con)
    con.execute(
        f"INSERT INTO raw.listings SELECT * FROM raw.listings WHERE listing_date = '{D}' LIMIT 1"
    )
    result = validate_stage(con, "raw_listings", D)
    con.close()
    assert result.success  # a soft signal: the row key itself is dbt's test
    (hit,) = [f for f in result.failed if f.expectation == "expect_compound_columns_to_be_unique"]
    assert hit.severity == WARN and len(hit.sample_rows) == 2
    key = ("listing_date", "source_file", "title")
    assert [hit.sample_rows[0][k] for k in key] == [hit.sample_rows[1][k] for k in key]


# dbt model -> (GE stage, the model's column names as the suite's frame names them)
DBT_MODELS = {
    "papers": ("papers", {}),
    "stg_raw__listings": ("raw_listings", {"page_rank": "position"}),
    "stg_raw__paper_keyphrases": ("keyphrases", {"keyphrase_rank": "rank"}),
    "keyword_daily": ("trends", {}),
    "keyword_trends": ("trends", {}),
    "keyphrase_topics": ("topics", {"topic": "keyphrase_topic"}),
    "paper_topics": ("topics", {}),
    "topics": ("topics", {}),
}


@pytest.mark.parametrize("model", sorted(DBT_MODELS))
def test_keys_and_nulls_are_dbts_not_the_suites(model, suites, dbt_manifest):
    """What dbt tests on a model (its not-null columns, its unique key; Dagster checks of the
    step that builds it), the stage's suite does not say again."""
    stage, renamed = DBT_MODELS[model]
    manifest = json.loads(dbt_manifest.read_text())
    not_null, keys = set(), []
    for n in manifest["nodes"].values():
        if n["resource_type"] != "test" or n.get("attached_node") != f"model.papertrends.{model}":
            continue
        name, kwargs = n["test_metadata"]["name"], n["test_metadata"]["kwargs"]
        columns = {renamed.get(c, c) for c in kwargs.get("columns") or [kwargs.get("column_name")]}
        if name == "not_null_columns":
            not_null |= columns
        elif name in ("unique", "unique_combination_of_columns"):
            keys.append(columns)
    assert not_null and keys, model
    for e in suites[stage].expectations:
        if e.expectation_type == "expect_column_values_to_not_be_null":
            assert e.column not in not_null, (stage, e.column)
        if e.expectation_type in (
            "expect_column_values_to_be_unique",
            "expect_compound_columns_to_be_unique",
        ):
            columns = {e.column} if hasattr(e, "column") else set(e.column_list)
            assert columns not in keys, (stage, columns)


SQL_CASES = [
    (
        "raw_listings",
        "DELETE FROM raw.listings WHERE listing_date = DATE '2024-03-01' AND \"position\" > 1",
        "expect_column_values_to_be_between",
        "page_cards",
    ),
    (
        "raw_listings",
        "DELETE FROM raw.listings WHERE listing_date = DATE '2024-03-01'",
        "expect_table_row_count_to_be_between",
        None,
    ),
    (
        "raw_listings",
        "UPDATE raw.listings SET title = ' ' WHERE listing_date = DATE '2024-03-01'",
        "expect_column_values_to_match_regex",
        "title",
    ),
    (
        "keyphrases",
        "DELETE FROM raw.paper_keyphrases "
        "WHERE rank = 2 AND paper_id = (SELECT min(paper_id) FROM papers)",
        "expect_column_pair_values_to_be_equal",
        "max_rank,n_keyphrases",
    ),
    (
        "keyphrases",
        "DELETE FROM raw.paper_keyphrases WHERE paper_id = (SELECT min(paper_id) FROM papers)",
        "expect_column_values_to_be_between",
        "n_keyphrases",
    ),
    (
        "keyphrases",
        "UPDATE raw.paper_keyphrases SET rank = rank - 1",
        "expect_column_values_to_be_in_set",
        "min_rank",
    ),
    (
        "keyphrases",
        "INSERT INTO raw.paper_keyphrases "
        "VALUES ('ffffffffffffffff', 1, 'Ghost', 'ghost', 0.5, 'yake-0.7.3')",
        "expect_column_values_to_be_in_set",
        "paper_exists",
    ),
    (
        "keyphrases",
        "UPDATE raw.paper_keyphrases SET keyphrase_norm = 'Étude' WHERE rank = 1",
        "expect_column_pair_values_to_be_equal",
        "keyphrase_norm,keyphrase_norm_lower",
    ),
    ("trends", "DELETE FROM keyword_trends", "expect_column_values_to_be_between", "trend_rows"),
    (
        "trends",
        "UPDATE keyword_daily SET papers = papers_listed + 1 "
        "WHERE keyphrase_norm = 'diffusion models'",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "papers_listed,papers",
    ),
    (
        "topics",
        "DELETE FROM keyphrase_topics WHERE keyphrase_norm = 'vision transformers'",
        "expect_column_pair_values_to_be_equal",
        "n_with_topic,n_keyphrases",
    ),
    (  # the grouped keyphrase's topic is regrouped itself: the chain stops one step early
        "topics",
        "UPDATE keyphrase_topics SET topic = 'graph neural networks' "
        "WHERE keyphrase_norm = 'diffusion models'",
        "expect_column_pair_values_to_be_equal",
        "topic_of_topic,keyphrase_topic",
    ),
    (
        "topics",
        "DELETE FROM paper_topics WHERE topic_rank = 3",
        "expect_column_pair_values_to_be_equal",
        "topic_rows,n_topics",
    ),
    ("topics", "DELETE FROM topics", "expect_column_values_to_be_between", "table_topics"),
    (
        "topics",
        "UPDATE topics SET papers = papers + 1 WHERE topic = 'diffusion models'",
        "expect_column_pair_values_to_be_equal",
        "papers,topic_papers",
    ),
]


@pytest.mark.parametrize(
    "stage,sql,expectation,column", SQL_CASES, ids=[f"{c[0]}:{i}" for i, c in enumerate(SQL_CASES)]
)
def test_validate_stage_detects_sql_mutation(stage, sql, expectation, column):
    con = memory_db()
    con.execute(sql)
    result = validate_stage(con, stage, D)
    assert not result.success
    assert any(f.expectation == expectation and f.column == column for f in result.failed), (
        result.to_json()
    )


def test_small_api_listing_is_not_a_partial_page():
    """Two records from an API or feed file are what the source published: no page floor."""
    con = memory_db()
    con.execute(
        "DELETE FROM raw.listings WHERE listing_date = DATE '2024-03-01' AND \"position\" > 2;"
        "UPDATE raw.listings SET format = 'arxiv_api_atom' WHERE listing_date = DATE '2024-03-01'"
    )
    result = validate_stage(con, "raw_listings", D)
    assert result.success, result.to_json()


def test_missing_table_is_a_clear_failure_or_a_skip():
    con = duckdb.connect()
    con.execute(SCHEMA)
    con.execute("DROP TABLE keyword_trends")
    result = validate_stage(con, "trends", D)
    assert not result.success and not result.skipped
    assert result.failed[0].expectation == "table_exists"
    assert "keyword_trends" in result.error
    skipped = validate_stage(con, "trends", D, missing_ok=True)
    assert skipped.success and skipped.skipped and skipped.evaluated == 0 and skipped.failed == []


def test_missing_column_is_named_not_a_traceback():
    con = memory_db()
    con.execute("ALTER TABLE raw.listings DROP COLUMN raw_text")
    result = validate_stage(con, "raw_listings", D)
    assert not result.success
    hit = [f for f in result.failed if f.expectation == "expect_table_columns_to_match_set"]
    assert hit and "raw_text" in json.dumps(hit[0].observed)
    con.execute("ALTER TABLE papers RENAME COLUMN first_listed TO first_seen")
    result = validate_stage(con, "papers", D)
    assert not result.success and result.failed[0].expectation == "query_succeeds"
    assert "first_listed" in result.error


def test_unknown_stage():
    with pytest.raises(ValueError):
        validate_stage(duckdb.connect(), "nope", D)


def test_save_report_writes_valid_json_atomically(tmp_path, suites, clean_frames):
    dirty = _set(clean_frames["papers"].copy(), 1, paper_id="ab" * 32)  # a full sha id
    result = validate_frame(suites["papers"], dirty, listing_date=D)
    path = save_report(result, tmp_path / "reports")
    assert path == tmp_path / "reports" / "papers__2024-03-01.json"
    data = json.loads(path.read_text())
    assert data["success"] is False and data["suite"] == "papers"
    assert data["listing_date"] == "2024-03-01"
    assert any(f["expectation"] == "expect_column_values_to_match_regex" for f in data["failed"])
    html = (tmp_path / "reports" / "papers__2024-03-01.html").read_text()
    assert "expect_column_values_to_match_regex" in html or "paper_id" in html
    # overwrite in place, no temp files left behind
    save_report(result, tmp_path / "reports", html=False)
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "papers__2024-03-01.html",
        "papers__2024-03-01.json",
    ]


def test_no_gx_state_left_in_cwd(tmp_path, suites, clean_frames):
    before = set(os.listdir("."))
    validate_frame(suites["papers"], clean_frames["papers"])
    assert set(os.listdir(".")) == before
    assert not Path("gx").exists()


def test_gx_imported_once():
    first = gx.gx()
    assert gx.gx() is first
    assert gx.GX_IMPORT_SECONDS is not None


def test_importing_the_suites_and_the_checks_does_not_import_gx():
    """GX costs seconds to import: only building or validating a suite imports it."""
    code = (
        "import sys, expectations, orchestration.defs.quality; "
        "assert expectations.registry.stage_suite('papers').tables; "
        "assert 'great_expectations' not in sys.modules, 'imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_registry_lists_every_stage_suite():
    assert STAGES == ("raw_listings", "papers", "keyphrases", "trends", "topics")
    assert list(SUITES) == list(STAGES)
    for name, spec in SUITES.items():
        assert isinstance(spec, StageSuite) and spec.name == name and spec.tables
        assert spec is importlib.import_module(f"expectations.{name}").SUITE
    with pytest.raises(ValueError, match="unknown stage 'nope'"):
        stage_suite("nope")


def test_tag_sets_severity_and_reason_on_the_ge_expectation():
    gxe = gx.gx().expectations
    e = tag(gxe.ExpectColumnValuesToNotBeNull(column="x", meta={"k": 1}), why="because")
    assert e.meta == {"k": 1, "severity": ERROR, "why": "because"}
    assert tag(gxe.ExpectColumnValuesToNotBeNull(column="x"), why="w", severity=WARN).meta == {
        "severity": WARN,
        "why": "w",
    }
    with pytest.raises(ValueError):
        tag(gxe.ExpectColumnValuesToNotBeNull(column="x"), why="w", severity="fatal")


@pytest.mark.parametrize(
    "regex,matches,misses",
    [
        (PAPER_ID_REGEX, ["arxiv:2403.01234", "arxiv:hep-th/9901001", "0123456789abcdef"], ["x"]),
        (r"a(b|c)\(d\)[(]e(?:f)", ["ab(d)(ef", "ac(d)(ef"], ["ad(d)(ef", "abde"]),
        (r"[^]()]+(x)", ["abx", "zzx"], ["(x", ")x"]),
        (r"[]()](x)", ["(x", "]x"], ["ax"]),
    ],
)
def test_non_capturing_keeps_the_matches_without_groups(regex, matches, misses):
    plain = non_capturing(regex)
    assert re.compile(plain).groups == 0
    for text in matches + misses:
        assert bool(re.search(plain, text)) == bool(re.search(regex, text)), text
    assert all(re.search(plain, t) for t in matches) and not any(
        re.search(plain, t) for t in misses
    )
