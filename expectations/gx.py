"""Great Expectations itself: imported lazily, and one ephemeral context per process.

* ``import great_expectations`` costs ~2.7 s, so it happens the first time a suite is
  built or validated (``gx()``), once per process; ``GX_IMPORT_SECONDS`` records what it
  cost. The import emits no warnings (GX Core 1.24.1), so none are filtered here.
* One *ephemeral* Data Context per process (``engine()``; nothing is written to disk, no
  ``gx/`` folder): pandas data source -> dataframe asset -> whole-dataframe batch
  definition. Every validation passes its frame as a batch parameter. In-memory stores, no
  Data Docs site, no tqdm progress bars ("Calculating Metrics").
* ``LOCK``: the context is process-global, so validations take turns on it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

LOCK = threading.RLock()
_module: Any = None
_engine: Engine | None = None
#: seconds the first ``import great_expectations`` took in this process (None until then)
GX_IMPORT_SECONDS: float | None = None


def gx() -> Any:
    """``great_expectations`` (with its expectation classes and row conditions), imported
    once, lazily."""
    global _module, GX_IMPORT_SECONDS
    if _module is None:
        with LOCK:
            if _module is None:
                t0 = time.perf_counter()
                import great_expectations
                import great_expectations.expectations
                import great_expectations.expectations.row_conditions

                GX_IMPORT_SECONDS = time.perf_counter() - t0
                log.debug("import great_expectations took %.2fs", GX_IMPORT_SECONDS)
                _module = great_expectations
    return _module


class Engine:
    """The process-wide ephemeral context and its reusable batch definition."""

    def __init__(self) -> None:
        g = gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        t0 = time.perf_counter()
        # In-memory stores, no Data Docs site (the default ephemeral config reserves a
        # temp directory for one), no tqdm progress bars.
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context = g.get_context(mode="ephemeral", project_config=config)
        source = self.context.data_sources.add_pandas("papertrends_frames")
        asset = source.add_dataframe_asset("frame")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self.setup_seconds = time.perf_counter() - t0


def engine() -> Engine:
    """The process's engine, made on first use."""
    global _engine
    if _engine is None:
        with LOCK:
            if _engine is None:
                _engine = Engine()
    return _engine
