"""Fetch: download the day's listing from each source into landing/<date>/.

One asset per source (``fetch/hf_daily_papers``, ``fetch/arxiv_listing``). Fetching is off
unless ``PAPERTRENDS_SOURCES`` names the source (or a run config turns it on, as
``papertrends fetch`` does): off, the asset materializes as a no-op that touches no
network, and the pipeline runs on whatever is in landing/.
"""

import datetime as dt

import dagster as dg
from pydantic import Field

from orchestration.defs.partitions import daily_asset
from orchestration.metadata import markdown_table
from orchestration.resources import PapertrendsHome
from transforms.fetch import (
    DEFAULT_ARXIV_API_URL,
    DEFAULT_ARXIV_CATEGORIES,
    DEFAULT_HF_BASE_URL,
    SOURCES,
    FetchError,
    FetchOutcome,
    FetchSettings,
    fetch_listing,
    user_agent,
)

HF_DAILY_PAPERS = dg.AssetKey(["fetch", "hf_daily_papers"])
ARXIV_LISTING = dg.AssetKey(["fetch", "arxiv_listing"])
# Ingest (raw/listings) runs after these: its specs take deps=FETCH_ASSET_KEYS.
FETCH_ASSET_KEYS = [HF_DAILY_PAPERS, ARXIV_LISTING]
SOURCE_KEYS = {"hf": HF_DAILY_PAPERS, "arxiv": ARXIV_LISTING}

__all__ = [
    "ARXIV_LISTING",
    "FETCH_ASSET_KEYS",
    "HF_DAILY_PAPERS",
    "FetchConfig",
    "ListingSources",
    "fetch_run_config",
]


class ListingSources(dg.ConfigurableResource):
    """Which listing sources to fetch, where they are and how politely to ask them.

    Built from the environment by ``orchestration.env.listing_sources`` (PAPERTRENDS_SOURCES,
    PAPERTRENDS_HF_BASE_URL, PAPERTRENDS_ARXIV_API_URL, PAPERTRENDS_ARXIV_CATEGORIES, ...).
    """

    sources: list[str] = Field(
        default_factory=list, description="Sources fetched by default: hf, arxiv (none: off)."
    )
    hf_base_url: str = DEFAULT_HF_BASE_URL
    arxiv_api_url: str = DEFAULT_ARXIV_API_URL
    arxiv_categories: list[str] = Field(default_factory=lambda: list(DEFAULT_ARXIV_CATEGORIES))
    timeout_s: float = Field(default=30.0, description="Per-request timeout, seconds.")
    attempts: int = Field(default=4, description="Requests per URL, the first included.")
    backoff_s: float = Field(default=2.0, description="First retry delay; doubles each time.")
    max_retry_after_s: float = Field(default=120.0, description="Cap on a Retry-After wait.")
    arxiv_min_interval_s: float = Field(
        default=3.0, description="Minimum seconds between two arXiv API requests."
    )
    contact: str = Field(default="", description="Contact (e-mail or URL) for the User-Agent.")

    def enabled(self, source: str) -> bool:
        return source in self.sources

    def settings(self) -> FetchSettings:
        return FetchSettings(
            hf_base_url=self.hf_base_url,
            arxiv_api_url=self.arxiv_api_url,
            arxiv_categories=tuple(self.arxiv_categories),
            timeout_s=self.timeout_s,
            connect_timeout_s=min(10.0, self.timeout_s),
            attempts=self.attempts,
            backoff_s=self.backoff_s,
            max_backoff_s=max(60.0, self.backoff_s),
            max_retry_after_s=self.max_retry_after_s,
            arxiv_min_interval_s=self.arxiv_min_interval_s,
            user_agent=user_agent(self.contact),
        )

    def endpoint(self, source: str) -> str:
        if source == "hf":
            return self.hf_base_url.rstrip("/") + "/api/daily_papers"
        return self.arxiv_api_url


class FetchConfig(dg.Config):
    enabled: bool | None = Field(
        default=None,
        description="Fetch this source in this run: true/false; unset: PAPERTRENDS_SOURCES.",
    )


def fetch_run_config(sources: set[str] | frozenset[str]) -> dict:
    """Run config that fetches exactly ``sources`` (the others off), for the daily job."""
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown listing source(s): {', '.join(sorted(unknown))}")
    return {
        "ops": {
            SOURCE_KEYS[s].to_python_identifier(): {"config": {"enabled": s in sources}}
            for s in SOURCES
        }
    }


def _fetch(
    source: str,
    context: dg.AssetExecutionContext,
    config: FetchConfig,
    papertrends: PapertrendsHome,
    listing_sources: ListingSources,
) -> dg.MaterializeResult:
    enabled = config.enabled if config.enabled is not None else listing_sources.enabled(source)
    endpoint = listing_sources.endpoint(source)
    if not enabled:
        context.log.info(f"{source}: source disabled (PAPERTRENDS_SOURCES), nothing fetched")
        return dg.MaterializeResult(
            metadata={
                "status": "source disabled",
                "requests": 0,
                "papers": 0,
                "url": dg.MetadataValue.url(endpoint),
                "preview": dg.MetadataValue.md(
                    f"source disabled: set PAPERTRENDS_SOURCES={source} to fetch it"
                ),
            }
        )
    settings = listing_sources.settings()
    outcomes: list[FetchOutcome] = []
    for key in context.partition_keys:  # one date, or every date of a backfill range
        day = dt.date.fromisoformat(key)
        try:
            outcomes.append(
                fetch_listing(source, day, papertrends.landing / key, settings, logger=context.log)
            )
        except FetchError as exc:
            raise dg.Failure(description=str(exc)) from None
    statuses = sorted({o.status for o in outcomes})
    titles = [(o.listing_date, t) for o in outcomes for t in o.titles][:10]
    files = [(o.listing_date, o.status, f) for o in outcomes for f in o.files]
    first_url = next((o.url for o in outcomes if o.url), endpoint)
    return dg.MaterializeResult(
        metadata={
            "status": statuses[0] if len(statuses) == 1 else ", ".join(statuses),
            "requests": sum(o.requests for o in outcomes),
            "papers": sum(o.papers for o in outcomes),
            "url": dg.MetadataValue.url(first_url),
            "message": "; ".join(f"{o.listing_date}: {o.message}" for o in outcomes),
            "files": dg.MetadataValue.md(
                markdown_table(
                    [
                        (d, s, f.get("file") or "-", *(f.get(k) for k in FILE_COLUMNS))
                        for d, s, f in files
                    ],
                    ["date", "status", "file", "http", "bytes", "papers"],
                )
            ),
            "preview": dg.MetadataValue.md(markdown_table(titles, ["listing_date", "title"])),
            "landing": dg.MetadataValue.path(str(papertrends.landing)),
        }
    )


FILE_COLUMNS = ("http_status", "bytes", "papers")


@daily_asset(
    dg.AssetSpec(HF_DAILY_PAPERS, group_name="ingest", kinds={"python", "huggingface", "json"})
)
def hf_daily_papers(
    context: dg.AssetExecutionContext,
    config: FetchConfig,
    papertrends: PapertrendsHome,
    listing_sources: ListingSources,
) -> dg.MaterializeResult:
    """Download ``/api/daily_papers?date=D`` page by page (100 a page) into
    ``landing/<date>/hf-daily-papers-D-pK.json``, bytes as received, with the sidecar
    ``.fetch-hf.json``. A date without papers (``[]``) lands only the sidecar
    (``no_listing``); a refresh with fewer papers keeps the earlier files."""
    return _fetch("hf", context, config, papertrends, listing_sources)


@daily_asset(dg.AssetSpec(ARXIV_LISTING, group_name="ingest", kinds={"python", "arxiv", "xml"}))
def arxiv_listing(
    context: dg.AssetExecutionContext,
    config: FetchConfig,
    papertrends: PapertrendsHome,
    listing_sources: ListingSources,
) -> dg.MaterializeResult:
    """Query the arXiv API for the submissions announced on the date in
    PAPERTRENDS_ARXIV_CATEGORIES (200 a page, one request every 3 s at most) into
    ``landing/<date>/arxiv-D-startS.xml`` with the sidecar ``.fetch-arxiv.json``. Weekends
    (no announcement) and empty results land only the sidecar (``no_listing``)."""
    return _fetch("arxiv", context, config, papertrends, listing_sources)


defs = dg.Definitions(assets=[hf_daily_papers, arxiv_listing])
