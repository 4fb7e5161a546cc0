"""papertrends' Dagster definitions: one code location, assets split by stage in defs/."""

import dagster as dg

from orchestration import env, sqlite_storage
from orchestration.defs import (
    automation,
    dbt_models,
    fetch,
    ingest,
    keyphrases,
    publish,
    quality,
)
from orchestration.resources import PapertrendsHome

# Dagster's SQLite run and event storage in WAL mode, as Dagster means it (see the module).
sqlite_storage.use_wal()

defs = dg.Definitions.merge(
    fetch.defs,
    ingest.defs,
    keyphrases.defs,
    quality.defs,
    publish.defs,
    dbt_models.defs,
    automation.defs,
    dg.Definitions(
        resources={
            "papertrends": PapertrendsHome(),
            "listing_sources": fetch.ListingSources(**env.listing_sources()),
        }
    ),
)
