"""``dbt build`` in the step's own process, streamed as Dagster events.

dagster-dbt's ``DbtCliResource.cli`` starts a dbt process for every invocation, and a daily
run has two (see orchestration/defs/dbt_models.py). A fresh dbt process spends ~2.2 s importing
dbt and ~0.6 s registering its adapter before its first model: measured on a day's run at 250
listing days, the keyphrase step took 9.3 s that way and 5.0 s here. The step's process has
dbt imported already (dagster-dbt imports it to load the manifest), so this runs dbt's
documented programmatic entry point, ``dbtRunner``, there instead, in a worker thread whose
events are turned into Dagster events as they arrive, by dagster-dbt's own conversion
(``to_default_asset_events``), exactly as ``DbtCliInvocation.stream()`` does for a process's
JSON log lines (``msg_to_dict`` of an event *is* its JSON log line).

What a dbt process gave for free is done explicitly:
- one build at a time per process (dbt's flags and adapter registry are process-global);
- the DuckDB file is closed when the build ends (dbt-duckdb keeps its database open in a
  process-wide environment), so the next step can open it, read-only or not;
- a subset of the assets (the UI's "materialize selected") becomes a ``--select`` of the
  selected models and the tests of selected checks, as ``DbtCliResource.cli`` would.
"""

from __future__ import annotations

import gc
import queue
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from transforms.files import one_line

_ONE_BUILD_AT_A_TIME = threading.Lock()
_SHOWN_LEVELS = {"info", "warn", "error"}  # what the dbt command line prints by default


def selection_args(
    context: dg.AssetExecutionContext,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    select: str | None = None,
    exclude: str | None = None,
) -> list[str]:
    """dbt's selection for this step: the asset definition's own (select/exclude) when the
    whole definition runs; else its selected models by name, with their tests (dbt's eager
    indirect selection), plus the tests of checks selected without their model."""
    if not context.is_subset:
        return [
            *(["--select", select] if select else []),
            *(["--exclude", exclude] if exclude else []),
        ]
    keys = context.selected_asset_keys
    models = sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
        and translator.get_asset_key(node) in keys
    )
    tests = sorted(
        check.name for check in context.selected_asset_check_keys if check.asset_key not in keys
    )
    return ["--select", *models, *tests]


def close_warehouse() -> None:
    """Drop dbt's adapters and dbt-duckdb's process-wide environment, which holds the
    database open after a build; the collection closes it now, not at some later GC."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


def stream_build(
    args: Sequence[str],
    *,
    context: dg.AssetExecutionContext,
    project: DbtProject,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    target_path: Path,
) -> Iterator[Any]:
    """Run ``dbt <args>`` in this process and yield the Dagster events of its results
    (Output per model built, AssetCheckResult per test) as dbt reports them. A failed build
    raises dg.Failure after the events of what ran, with dbt's first error as its
    description."""
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage  # dbt Core's event type
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    cli_args = [
        *args,
        "--project-dir",
        str(project.project_dir),
        "--profiles-dir",
        str(project.profiles_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path),
        "--log-level",
        "none",  # the events come through the callback; nothing printed twice
        "--log-level-file",
        "none",
        "--no-send-anonymous-usage-stats",
        "--no-use-colors",
    ]
    events: queue.Queue = queue.Queue()  # dbt's events as dicts, then one _Done

    def invoke() -> None:
        outcome: object
        try:
            outcome = dbtRunner(callbacks=[lambda msg: events.put(msg_to_dict(msg))]).invoke(
                cli_args
            )
        except BaseException as exc:  # reported by the step, below
            outcome = exc
        try:
            close_warehouse()
        except Exception as exc:
            outcome = outcome if isinstance(outcome, BaseException) else exc
        events.put(_Done(outcome))

    context.log.info(f"Running dbt in-process: `dbt {' '.join(args)}`")
    problems = BuildProblems()
    with _ONE_BUILD_AT_A_TIME:
        worker = threading.Thread(target=invoke, name="dbt-build", daemon=True)
        worker.start()
        try:
            while not isinstance(raw := events.get(), _Done):
                info = raw["info"]
                if info.get("level") in _SHOWN_LEVELS and info.get("msg"):
                    # the step's stdout (its compute log), as dagster-dbt re-emits a process's
                    sys.stdout.write(info["msg"] + "\n")
                problems.add(info)
                event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
                yield from event.to_default_asset_events(
                    manifest=manifest,
                    dagster_dbt_translator=translator,
                    context=context,
                    target_path=target_path,
                    project=project,
                )
        except (KeyboardInterrupt, SystemExit):
            # a terminated run: dbt's (daemon) thread ends with the process, as a dbt
            # process did with its parent; its open transaction is never committed
            raise
        except BaseException:
            worker.join()  # e.g. the step closed this generator: let dbt finish, let go
            raise
        worker.join()
    sys.stdout.flush()
    outcome = raw.outcome
    if isinstance(outcome, BaseException):
        failed, detail = "dbt failed", one_line(outcome, first=True)
    elif not outcome.success:
        failed = "dbt build failed"
        detail = problems.describe() or one_line(
            outcome.exception or "see the run's log", first=True
        )
    else:
        return
    raise dg.Failure(description=f"{failed}: {detail or 'unknown error'}")


class _Done:
    def __init__(self, outcome: object) -> None:
        self.outcome = outcome  # dbtRunnerResult, or the exception dbt raised


class BuildProblems:
    """dbt's end-of-run summary of what failed: a ``RunResultFailure`` ("Failure in test X
    (path)") is followed by its ``RunResultError`` ("Got 1 result, configured to fail if !=
    0"); an error alone ("Runtime Error in model X (path) ... Binder Error: ...") stands by
    itself. ``describe`` gives the first problem on one line, and how many more there are."""

    def __init__(self) -> None:
        self.items: list[list[str]] = []
        self._open = False

    def add(self, info: Mapping[str, Any]) -> None:
        text = one_line(info.get("msg", ""))
        if info.get("name") == "RunResultFailure":
            self.items.append([text])
            self._open = True
        elif info.get("name") == "RunResultError":
            if self._open:
                self.items[-1].append(text)
            else:
                self.items.append([text])
            self._open = False

    def describe(self) -> str:
        if not self.items:
            return ""
        more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
        return ": ".join(self.items[0]) + more
