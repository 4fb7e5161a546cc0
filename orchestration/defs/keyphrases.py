"""Keyphrases: YAKE-based extraction for every paper, incremental and parallel."""

import time

import dagster as dg
import polars as pl

from orchestration.defs.partitions import daily_partitions
from orchestration.env import DUCKDB_POOL
from orchestration.metadata import markdown_table
from orchestration.resources import PapertrendsHome
from transforms.keyphrases import (
    ExtractorConfig,
    build_corpus_stats,
    extract_many,
    keyphrases_frame,
    select_pending,
)
from transforms.warehouse import ensure_raw_schema, replace_rows

RAW_PAPER_KEYPHRASES = dg.AssetKey(["raw", "paper_keyphrases"])


class KeyphraseSettings(dg.Config):
    """Run-time knobs; the extractor configuration itself lives in ExtractorConfig."""

    workers: int | None = None  # processes; None = one per core
    top: int = 10


@dg.asset(
    key=RAW_PAPER_KEYPHRASES,
    deps=[dg.AssetKey(["papers"])],
    group_name="keyphrases",
    kinds={"python", "polars", "duckdb"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=DUCKDB_POOL,
)
def paper_keyphrases(
    context: dg.AssetExecutionContext, config: KeyphraseSettings, papertrends: PapertrendsHome
) -> dg.MaterializeResult:
    """Ranked keyphrases for every paper in `papers` not yet extracted with this extractor.

    A paper whose rows carry the current extractor version is skipped; a new extractor
    configuration (or code version) re-extracts everything. Extraction runs in a process
    pool over the cores; its output equals a serial run. Document frequencies over all
    papers in the warehouse feed the re-ranking (a snapshot taken at extraction time).
    """
    extractor = ExtractorConfig(top=config.top)
    version = extractor.version()
    with papertrends.connect() as con:
        ensure_raw_schema(con)
        papers = con.execute("select paper_id, title, abstract from papers").pl()
        existing = con.execute(
            "select distinct paper_id, extractor_version from raw.paper_keyphrases"
        ).pl()
    pending = select_pending(papers, existing, version)
    started = time.perf_counter()
    corpus = build_corpus_stats(
        f"{title}\n{abstract}" for title, abstract in papers.select("title", "abstract").rows()
    )
    results = extract_many(
        pending.select("paper_id", "title", "abstract").rows(),
        config=extractor,
        corpus=corpus,
        workers=config.workers,
    )
    seconds = time.perf_counter() - started
    frame = keyphrases_frame(results, version)
    with papertrends.connect() as con:
        # Keyphrases of ids no longer in papers (a pasted title re-keyed to its arXiv id)
        # go in the same transaction: they would count twice.
        replace_rows(
            con,
            "raw.paper_keyphrases",
            "paper_id",
            pending["paper_id"],
            frame,
            keep="select paper_id from papers",
        )
    without = [pid for pid, phrases in results.items() if not phrases]
    if without:
        context.log.warning(f"{len(without)} paper(s) got no keyphrases: {without[:5]}")
    preview = (
        frame.filter(pl.col("rank") <= 3)
        .group_by("paper_id", maintain_order=True)
        .agg(pl.col("keyphrase").str.join(", "))
        .head(10)
    )
    return dg.MaterializeResult(
        metadata={
            "papers_extracted": pending.height,
            "papers_skipped": papers.height - pending.height,
            "keyphrases_written": frame.height,
            "extractor_version": version,
            "seconds": round(seconds, 2),
            "papers_per_second": round(pending.height / seconds, 1) if pending.height else 0.0,
            "preview": dg.MetadataValue.md(
                markdown_table(preview.rows(), ["paper_id", "top keyphrases"])
            ),
        }
    )


defs = dg.Definitions(assets=[paper_keyphrases])
