"""Every listing format through ingest and dbt: one paper per arXiv id across sources, pasted
titles joining their arXiv paper, replacements not listed, unusable files named, and a day
whose only file gives no paper failing instead of publishing an empty digest.

Only the day that fails is a whole run (nothing downstream of the failure may run); the
others run the steps whose tables they read: the ingest step and the warehouse models for
the papers, the ingest step then the digest (on a copy of the session's built sample home)
for the day with no listing published."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from orchestration import env
from orchestration.definitions import defs
from orchestration.defs.ingest import raw_listings
from orchestration.runs import RunFailed, materialize
from tests.conftest import invoke, run_job, sample_cards, write_listing
from transforms.landing import read_landing_day
from transforms.warehouse import RAW_DDL, ensure_raw_schema

FORMATS = Path(__file__).resolve().parent / "fixtures" / "formats"
DAY = dt.date(2026, 9, 24)
NOW = dt.datetime(2026, 9, 24, 7, 0)

# Records each real sample gives, as its .source.md counts them.
COUNTS = {
    "hf_api_daily_papers_2026-06-12.json": ("hf_api_daily_papers", 5),
    "hf_api_daily_papers_2026-07-31.json": ("hf_api_daily_papers", 5),
    "hf_api_papers_search_diffusion.json": ("hf_api_search", 3),
    "hf_api_paper_2608.09888.json": ("hf_api_paper", 1),
    "arxiv_api_query_2026-02-12_ti-random.xml": ("arxiv_api_atom", 5),
    "arxiv_api_query_2026-03-26_attention-mechanism.xml": ("arxiv_api_atom", 3),
    "arxiv_api_query_2025-10-17_cs.RO-neural.xml": ("arxiv_api_atom", 2),
    "arxiv_rss2_2026-09-24_cs.LG+cs.AI+cs.CL+stat.ML.xml": ("arxiv_rss", 4),
    "arxiv_rss2_2026-04-27_cs.AI.xml": ("arxiv_rss", 3),
    "arxiv_rss_atom_2026-09-25_cs.LG.xml": ("arxiv_feed_atom", 3),
    "kaggle_arxiv_snapshot_0704.0001-0704.0023.jsonl": ("arxiv_snapshot", 23),
    "kaggle_arxiv_snapshot_0704.0024-0704.0034.jsonl": ("arxiv_snapshot", 11),
}
HF_DAILY = "hf_api_daily_papers_2026-06-12.json"
RSS = "arxiv_rss2_2026-09-24_cs.LG+cs.AI+cs.CL+stat.ML.xml"
INGEST = sorted(raw_listings.keys)
#: The ingest step and the dbt models of papers and paper_appearances (with their checks).
WAREHOUSE = INGEST + sorted(defs.resolve_assets_def("papers").keys)


def query(home: env.Home, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def hf_first_item() -> dict:
    return json.loads((FORMATS / HF_DAILY).read_text(encoding="utf-8"))[0]["paper"]


def test_fixture_counts_match_the_sources() -> None:
    """The table above is the .source.md counts, not the parser's."""
    for name, (_, count) in COUNTS.items():
        text = (FORMATS / f"{name}.source.md").read_text(encoding="utf-8")
        assert f"{count} " in text, name


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_papertrends_parse_gives_each_sample_its_records(name) -> None:
    result = invoke("parse", str(FORMATS / name), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    fmt, count = COUNTS[name]
    assert (doc["format"], len(doc["records"])) == (fmt, count)
    first = doc["records"][0]
    assert {"title", "abstract", "arxiv_id", "authors", "upvotes", "github_url", "published"} <= (
        set(first)
    )
    assert first["arxiv_id"] and first["title"] and first["abstract"]
    assert "raw_text" not in first


def test_papertrends_parse_table_and_unusable_file(tmp_path: Path) -> None:
    table = invoke("parse", str(FORMATS / RSS))
    assert table.exit_code == 0
    out = table.stdout
    assert "arxiv_rss" in out and "4 record(s)" in out and "2609.26811" in out
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    refused = invoke("parse", str(pdf))
    assert refused.exit_code == 1
    err = refused.stderr
    assert err.count("\n") == 1 and "PDF document" in err
    as_json = invoke("parse", str(pdf), "--format", "json")
    assert as_json.exit_code == 1
    doc = json.loads(as_json.stdout)
    assert doc["records"] == [] and "PDF document" in doc["rejected"][0]["reason"]


def test_landing_day_reads_every_format_with_provenance(tmp_path: Path) -> None:
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    for name in COUNTS:
        shutil.copy(FORMATS / name, folder / name)
    (folder / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (folder / ".fetch-hf.json").write_text(
        json.dumps(
            {
                "source": "hf",
                "status": "ok",
                "fetched_at": "2026-09-24T06:30:00Z",
                "files": [{"file": HF_DAILY, "url": "http://127.0.0.1/api", "http_status": 200}],
            }
        )
    )
    batch = read_landing_day(folder, DAY, NOW)
    per_file = dict(batch.listings.group_by("source_file").len().rows())
    assert per_file == {name: count for name, (_, count) in COUNTS.items()}
    formats = dict(batch.listings.select("source_file", "format").unique().rows())
    assert formats == {name: fmt for name, (fmt, _) in COUNTS.items()}
    (png,) = batch.rejected.filter(pl.col("source_file") == "scan.png").rows(named=True)
    assert "PNG image" in png["reason"]
    landed = {r["source_file"]: r for r in batch.landed.rows(named=True)}
    assert set(landed) == {*COUNTS, "scan.png"}
    assert landed[HF_DAILY]["fetched_url"] == "http://127.0.0.1/api"
    assert landed[HF_DAILY]["http_status"] == 200 and landed[HF_DAILY]["source"] == "hf"
    assert landed[RSS]["source"] == "arxiv" and landed[RSS]["fetched_url"] is None
    assert landed["scan.png"]["records"] == 0 and "PNG" in landed["scan.png"]["note"]
    rss = batch.listings.filter(pl.col("source_file") == RSS)
    assert sorted(rss["announce_type"].to_list()) == ["cross", "new", "new", "replace"]


def test_no_listing_published_sidecar_is_an_empty_day_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / DAY.isoformat()
    folder.mkdir()
    (folder / ".fetch-arxiv.json").write_text(
        json.dumps({"source": "arxiv", "status": "no_listing", "message": "0 entries", "files": []})
    )
    batch = read_landing_day(folder, DAY, NOW)
    assert batch.files == [] and batch.no_listing == [("arxiv", "0 entries")]
    (row,) = batch.landed.rows(named=True)
    assert row["note"] == "no listing published: 0 entries" and row["format"] is None


def test_old_warehouse_gains_the_metadata_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(RAW_DDL["listings"])
        con.execute(
            "insert into raw.listings values "
            "('2026-01-01', 'a.txt', 'x', 1, 'A title', 'An abstract', 'raw', now())"
        )
        ensure_raw_schema(con)
        ensure_raw_schema(con)  # idempotent
        row = con.execute("select title, arxiv_id, authors, source from raw.listings").fetchone()
    assert row == ("A title", None, None, None)


@pytest.mark.slow
def test_every_source_in_one_day_gives_one_paper_per_arxiv_id(home: env.Home) -> None:
    folder = home.landing / DAY.isoformat()
    folder.mkdir(parents=True)
    for name in COUNTS:  # every real sample, in one day
        shutil.copy(FORMATS / name, folder / name)
    hf = hf_first_item()
    # A pasted page: five sample cards and the HF paper's title (re-cased) with a blurb.
    cards = [*sample_cards()[:5], (hf["title"].upper(), "A pasted blurb about it. " * 4)]
    write_listing(folder / "pasted.txt", cards)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)))

    run_job(DAY, selection=WAREHOUSE)

    per_file = dict(query(home, "select source_file, count(*) from raw.listings group by all"))
    assert per_file == {name: count for name, (_, count) in COUNTS.items()} | {"pasted.txt": 6}
    (pdf_reason,) = query(
        home, "select reason from raw.rejected_records where source_file = 'notes.pdf'"
    )
    assert "PDF document" in pdf_reason[0]

    joined = f"arxiv:{hf['id']}"
    (paper,) = query(
        home,
        "select paper_id, arxiv_id, title, authors, url, published from papers where paper_id = ?",
        [joined],
    )
    assert paper[1] == hf["id"] and paper[2] == hf["title"]  # the API's title, not the paste's
    assert paper[3] == [a["name"] for a in hf["authors"] if not a.get("hidden")]
    assert paper[4] == f"https://huggingface.co/papers/{hf['id']}"
    assert paper[5] == dt.date.fromisoformat(hf["publishedAt"][:10])
    (appearance,) = query(
        home,
        "select source, upvotes, cards from paper_appearances where paper_id = ?",
        [joined],
    )
    assert appearance == ("hf_api,hf_page", hf["upvotes"], 2)

    # The replaced paper (2009.13987) was not listed; the cross-listed one was.
    ids = {r[0] for r in query(home, "select arxiv_id from papers where arxiv_id is not null")}
    assert "2205.06398" in ids and "2009.13987" not in ids
    assert query(
        home, "select count(*) from paper_appearances where paper_id = 'arxiv:2009.13987'"
    ) == [(0,)]
    # Pasted titles that match no arXiv paper keep the folded-title hash id.
    hashed = query(home, "select count(*) from papers where paper_id not like 'arxiv:%'")
    assert hashed == [(5,)]
    versions = dict(
        query(
            home,
            "select arxiv_id, arxiv_version from raw.listings where source_file like 'arxiv_api%'",
        )
    )
    assert versions["2101.02199"] == 5


@pytest.mark.slow
def test_a_day_whose_only_file_is_a_pdf_fails_in_one_line(home: env.Home) -> None:
    folder = home.landing / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "listing.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    with pytest.raises(RunFailed) as failure:
        materialize(home, DAY)
    message = str(failure.value)
    assert "\n" not in message
    assert "gives a paper" in message and "listing.pdf: PDF document" in message
    assert query(home, "select count(*) from raw.rejected_records") == [(1,)]
    assert not (home.publish / DAY.isoformat()).exists()


@pytest.mark.slow
def test_a_day_with_no_listing_published_gets_a_digest_saying_so(
    sample_home_copy: env.Home,
) -> None:
    home = sample_home_copy
    folder = home.landing / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / ".fetch-hf.json").write_text(
        json.dumps(
            {
                "source": "hf",
                "status": "no_listing",
                "message": "HF published no daily papers for 2026-09-24 (HTTP 200, [])",
                "files": [{"file": None, "url": "http://127.0.0.1/x", "http_status": 200}],
            }
        )
    )
    run_job(DAY, selection=INGEST)
    # the digest after the ingest (the marts, which order them in a whole run, not rebuilt)
    run_job(DAY, selection=[dg.AssetKey("digest")])
    digest = (home.publish / DAY.isoformat() / "digest.md").read_text(encoding="utf-8")
    assert "no listing was published for 2026-09-24" in digest
    assert "HF published no daily papers" in digest
