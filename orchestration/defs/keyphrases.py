"""Keyphrases: YAKE-based extraction for every paper, incremental and parallel."""

import time

import dagster as dg
import polars as pl

from orchestration.defs.partitions import daily_asset
from orchestration.metadata import markdown_table
from orchestration.resources import PapertrendsHome
from transforms.keyphrase_store import plan_keyphrases, write_keyphrases
from transforms.keyphrases import ExtractorConfig, extract_many

RAW_PAPER_KEYPHRASES = dg.AssetKey(["raw", "paper_keyphrases"])


class KeyphraseSettings(dg.Config):
    """Run-time knobs; the extractor configuration itself lives in ExtractorConfig."""

    workers: int | None = None  # processes; None = one per core
    top: int = 10


@daily_asset(
    dg.AssetSpec(
        RAW_PAPER_KEYPHRASES,
        deps=[dg.AssetKey(["papers"])],
        group_name="keyphrases",
        kinds={"python", "polars", "duckdb"},
    )
)
def paper_keyphrases(
    context: dg.AssetExecutionContext, config: KeyphraseSettings, papertrends: PapertrendsHome
) -> dg.MaterializeResult:
    """Ranked keyphrases for every paper in `papers` not yet extracted with this extractor.

    A paper whose rows carry the current extractor version is skipped; a new extractor
    configuration (or code version) re-extracts everything. Extraction runs in a process
    pool over the cores; its output equals a serial run. Document frequencies over all
    papers in the warehouse feed the re-ranking: kept incrementally in the warehouse
    (`raw.keyphrase_doc_freq`, `raw.keyphrase_counted_papers`), a run counts only the new
    (or changed) papers and takes out those gone, in the transaction that writes the
    keyphrases (see transforms/keyphrase_store.py).
    """
    extractor = ExtractorConfig(top=config.top)
    started = time.perf_counter()
    with papertrends.connect() as con:
        plan = plan_keyphrases(con, extractor)
    planned = time.perf_counter()
    results = extract_many(
        plan.pending, config=extractor, corpus=plan.corpus, workers=config.workers
    )
    extracted = time.perf_counter()
    with papertrends.connect() as con:
        # Keyphrases of ids no longer in papers (a pasted title re-keyed to its arXiv id)
        # go in the same transaction: they would count twice.
        frame = write_keyphrases(con, plan, results)
    seconds = extracted - planned
    pending = len(plan.pending)
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
            "papers_extracted": pending,
            "papers_skipped": plan.papers_total - pending,
            "keyphrases_written": frame.height,
            "extractor_version": plan.version,
            "seconds": round(seconds, 2),
            "papers_per_second": round(pending / seconds, 1) if pending else 0.0,
            "step_seconds": round(time.perf_counter() - started, 2),
            "corpus_papers": plan.corpus.n_docs,
            "corpus_papers_counted": len(plan.counted),
            "corpus_papers_removed": plan.papers_removed,
            "preview": dg.MetadataValue.md(
                markdown_table(preview.rows(), ["paper_id", "top keyphrases"])
            ),
        }
    )


defs = dg.Definitions(assets=[paper_keyphrases])
