"""dbt models (dbt-duckdb) as Dagster assets; dbt tests run as their asset checks.

The dbt graph is split in two asset definitions around the keyphrase asset, which is
written by Python between them: models downstream of ``raw.paper_keyphrases`` run after
extraction, everything else before it. Each runs ``dbt build`` in the step's own process
(orchestration/dbt_build.py: no dbt process start-up per step).
"""

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from orchestration.dbt_build import selection_args, stream_build
from orchestration.dbt_project import dbt_project, prepare_manifest
from orchestration.defs.partitions import daily_partitions, single_run_backfill
from orchestration.resources import PapertrendsHome
from transforms.files import atomic_write, sweep_stale_tmp
from transforms.warehouse import warehouse_exists

prepare_manifest()  # the assets below are read from the manifest: parse first if it is stale

AFTER_KEYPHRASES = "source:raw.paper_keyphrases+"


class Translator(DagsterDbtTranslator):
    """Models keep dbt's keys; sources map to [schema, table] (e.g. raw/listings)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        # A model may name its group in its YAML: config.meta.dagster.group.
        return super().get_group_name(dbt_resource_props) or "warehouse"


TRANSLATOR = Translator()
DBT_ASSET_NAMES = ("warehouse_models", "keyphrase_models")
PARTIAL_PARSE = "partial_parse.msgpack"


class DbtBuildConfig(dg.Config):
    """``full_refresh``: rebuild every incremental model from scratch (every date)."""

    full_refresh: bool = False


def partition_vars(window: dg.TimeWindow) -> dict[str, str]:
    """dbt's window for a run's partition window. Dagster's daily window is [start, end);
    the models' ``window_start`` / ``window_end`` are inclusive listing dates."""
    last = window.end - dt.timedelta(days=1)
    return {"window_start": window.start.date().isoformat(), "window_end": last.date().isoformat()}


@contextmanager
def window_environment(window: Mapping[str, str]) -> Iterator[None]:
    """The window as PAPERTRENDS_WINDOW_START / _END for dbt (macro
    window_start), and any other ``PAPERTRENDS_<KEY>`` the build needs. Not --vars: changed vars make dbt re-parse the whole project (~2.5 s per
    invocation, twice a run). The steps of a run execute one at a time in their process,
    and the previous values come back afterwards."""
    names = {f"PAPERTRENDS_{key.upper()}": value for key, value in window.items()}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def incremental_models(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """The incremental models of a dbt manifest, each with the columns its YAML declares."""
    return {
        node["name"]: sorted(node["columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }


def legacy_tables(con: duckdb.DuckDBPyConnection, models: Mapping[str, Iterable[str]]) -> list[str]:
    """Incremental models whose table is from an older version (a view, or a table without
    ``built_at`` or another declared column): these need one full refresh (dbt cannot add a
    column and insert in one DuckDB transaction)."""
    rows = con.execute(
        "select c.table_name, list(c.column_name), bool_and(t.table_type = 'BASE TABLE') "
        "from information_schema.columns as c join information_schema.tables as t "
        "using (table_catalog, table_schema, table_name) "
        "where c.table_catalog = current_database() and c.table_name in (select unnest($1)) "
        "group by c.table_name",
        [list(models)],
    ).fetchall()
    return sorted(
        name
        for name, columns, is_table in rows
        if not is_table or not {"built_at", *models[name]} <= set(columns)
    )


def full_refresh_run_config() -> dict:
    """Run config that makes both dbt steps rebuild everything (``backfill --full-refresh``)."""
    return {"ops": {name: {"config": {"full_refresh": True}} for name in DBT_ASSET_NAMES}}


def build_args(full_refresh: bool) -> list[str]:
    """The pipeline's dbt arguments. dbt's unit tests check SQL logic on fixed rows, not the
    day's data: they run in the test suite (tests/test_dbt_project.py), not in every run
    (~1.5 s of each build). ``--no-write-json``: the run's events carry the results, and
    nothing reads the manifest.json and run_results.json a build would write (~0.5 s)."""
    refresh = ["--full-refresh"] if full_refresh else []
    return ["build", *refresh, "--exclude-resource-type", "unit_test", "--no-write-json"]


def dbt_project_manifest() -> dict[str, Any]:
    return json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))


def _build(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    papertrends: PapertrendsHome,
    select: str | None = None,
    exclude: str | None = None,
):
    # Each invocation's target/ (compiled SQL, run_results) goes to a temporary folder in
    # the home, removed afterwards: the run's events keep the results, and the repo's
    # dbt_project/target does not grow by a folder per run.
    scratch = papertrends.home.ensure().root / "dbt"
    scratch.mkdir(exist_ok=True)
    # left by runs killed during dbt (TemporaryDirectory's names: judged by their age)
    sweep_stale_tmp(scratch, max_age_s=6 * 3600, pattern="tmp*")
    manifest = dbt_project_manifest()
    full_refresh = config.full_refresh
    if not full_refresh and warehouse_exists(papertrends.home.target):
        with papertrends.connect(read_only=True) as con:
            legacy = legacy_tables(con, incremental_models(manifest))
        if legacy:
            context.log.info(f"first incremental build of {', '.join(legacy)}: full refresh")
            full_refresh = True
    window = partition_vars(context.partition_time_window)
    lake = papertrends.home.lake
    if lake is not None:  # the profile's ducklake target attaches it (data path as resolved)
        window["data_path"] = lake.data_path
    with (
        papertrends.writing(),
        tempfile.TemporaryDirectory(dir=scratch) as target,
        window_environment(window),
    ):
        # dbt's parse cache is keyed on the profile, which names this home's warehouse: kept
        # per home (the repo's, from `make`, is for the default home only).
        cache, produced = scratch / PARTIAL_PARSE, Path(target) / PARTIAL_PARSE
        if cache.exists():
            shutil.copyfile(cache, produced)
        yield from stream_build(
            [
                *build_args(full_refresh),
                *selection_args(context, manifest, TRANSLATOR, select, exclude),
            ],
            context=context,
            project=dbt_project,
            manifest=manifest,
            translator=TRANSLATOR,
            target_path=Path(target),
        )
        if produced.exists():
            atomic_write(cache, lambda tmp: shutil.copyfile(produced, tmp))


def _dbt_step(name: str, summary: str, **selection: str) -> dg.AssetsDefinition:
    """One of the two dbt steps: ``dbt build`` of the models ``selection`` names (dbt's
    ``select=`` or ``exclude=``), their dbt tests as the assets' checks."""

    def step(
        context: dg.AssetExecutionContext,
        config: DbtBuildConfig,
        papertrends: PapertrendsHome,
    ):
        yield from _build(context, config, papertrends, **selection)

    step.__doc__ = (
        f"{summary} (dbt build; the per-date marts rebuild only the partition window's "
        "dates, see partition_vars)."
    )
    return dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        partitions_def=daily_partitions,
        dagster_dbt_translator=TRANSLATOR,
        backfill_policy=single_run_backfill,
        name=name,
        **selection,
    )(step)


warehouse_models = _dbt_step(
    "warehouse_models",
    "Staging, intermediate and paper marts built from raw.listings",
    exclude=AFTER_KEYPHRASES,
)
keyphrase_models = _dbt_step(
    "keyphrase_models",
    "Keyphrase marts and trend tables built from raw.paper_keyphrases",
    select=AFTER_KEYPHRASES,
)


defs = dg.Definitions(assets=[warehouse_models, keyphrase_models])
