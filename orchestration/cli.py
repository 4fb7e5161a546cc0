"""`papertrends`: run the pipeline and query the warehouse from a terminal.

Every command works on one home folder (``--home``, else ``PAPERTRENDS_HOME``, else
``./.papertrends``). Failures print one line on stderr and exit non-zero.
"""

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

from orchestration import env
from transforms.files import one_line


class CliError(Exception):
    """An expected failure: printed as one line, exit code 1."""


# ---------------------------------------------------------------------------- helpers


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def _safe_name(name: str) -> str:
    """A listing's file name as a plain name inside landing/<date>/ (never a path).

    Only the last path component is kept ("../../x.txt" and "..\\..\\x.txt" are "x.txt").
    Bytes that are not UTF-8 become U+FFFD and control characters are dropped; leading
    dots, tildes and spaces are stripped (the landing reader skips hidden and backup
    files); a long name is shortened so that a numbered suffix and the ".tmp" of the copy
    still fit the file system's 255 bytes.
    """
    max_bytes = 200
    name = os.fsencode(name).decode("utf-8", errors="replace")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".~ ").strip()
    if len(name.encode()) > max_bytes:
        suffix = Path(name).suffix
        if len(suffix.encode()) > 16:
            suffix = ""
        stem = name[: len(name) - len(suffix)]
        budget = max_bytes - len(suffix.encode())
        name = stem.encode()[:budget].decode("utf-8", errors="ignore").rstrip() + suffix
    return name if name.strip(".") else "listing.txt"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def land_files(home: env.Home, listing_date: dt.date, files: Sequence[Path]) -> list[Path]:
    """Copy listing files into landing/<date>/, atomically (copy, then rename).

    A file already landed with the same name and bytes is left as it is; a different file
    with a taken name gets a numbered suffix, so nothing that landed before is overwritten.
    Every file lands under a plain, safe name inside the date's folder (see _safe_name).
    Nothing lands unless every file is readable and the date is one the pipeline runs.
    """
    from orchestration.defs.partitions import daily_partitions

    if not daily_partitions.has_partition_key(listing_date.isoformat()):
        raise CliError(
            f"listing date {listing_date} is outside the pipeline's dates "
            f"({daily_partitions.start:%Y-%m-%d} to today, UTC)"
        )
    for source in files:
        if not source.is_file():
            raise CliError(f"listing file not found: {source}")
        if not os.access(source, os.R_OK):
            raise CliError(f"listing file not readable: {source}")
    folder = home.landing / listing_date.isoformat()
    landed = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source in files:
            source_sha = _sha256(source)
            name = _safe_name(source.name)
            target = folder / name
            stem, suffix = Path(name).stem, Path(name).suffix
            counter = 2
            while True:
                if target.exists():
                    if target.is_file() and _sha256(target) == source_sha:
                        break  # landed before
                    target = folder / f"{stem}-{counter}{suffix}"
                    counter += 1
                    continue
                # Copy to a unique hidden name, then link it in: os.link fails instead of
                # overwriting when a concurrent run landed the same name meanwhile.
                fd, tmp = tempfile.mkstemp(prefix=".landing.", suffix=".tmp", dir=folder)
                os.close(fd)
                try:
                    shutil.copyfile(source, tmp)
                    os.link(tmp, target)
                    break
                except FileExistsError:
                    continue
                finally:
                    os.unlink(tmp)
            landed.append(target)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise CliError(
            f"cannot land listing files in {folder}: {exc.strerror or exc}{where}"
        ) from None
    return landed


def ensure_dbt_manifest() -> Path:
    """The dbt manifest, parsed first when stale (orchestration.dbt_project); a failed parse
    is a one-line CliError."""
    from orchestration.dbt_project import ManifestError, prepare_manifest

    try:
        return prepare_manifest()
    except ManifestError as exc:
        raise CliError(str(exc)) from None


def _first_failure(result) -> str:
    """One line: the first failed step and the last line of its error (its root cause when
    Dagster wrapped the error, without the exception's module path; a ``dg.Failure`` shows
    its description only), else the run's own failure message."""
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            wrapper = "DagsterExecutionStepExecutionError"
            while error is not None and error.cause is not None and error.cls_name == wrapper:
                error = error.cause
            # the last line that says something (DuckDB ends its messages with a caret line)
            lines = (
                [ln for ln in error.message.splitlines() if re.search(r"\w", ln)] if error else []
            )
            message = lines[-1].strip() if lines else "unknown error"
            if error is not None and error.cls_name:
                head, sep, rest = message.partition(": ")
                if sep and head.rsplit(".", 1)[-1] == error.cls_name:
                    message = rest if error.cls_name == "Failure" else f"{error.cls_name}: {rest}"
            return f"step {event.step_key} failed: {message}"
    for event in result.all_events:
        if event.is_failure and event.message:
            return f"the run failed: {event.message.strip().splitlines()[-1]}"
    return "the run failed"


def materialize(
    home: env.Home,
    listing_date: dt.date,
    verbose: bool = False,
    until: dt.date | None = None,
    run_config: dict | None = None,
    fetch: bool = True,
) -> None:
    """Run the daily job through the Dagster instance in the home.

    ``run_config`` is merged into the run's config (e.g. which sources the fetch assets
    download: orchestration.defs.fetch.fetch_run_config).

    One date, or with ``until`` every date from ``listing_date`` to ``until`` in a single
    run (a backfill: each asset handles the whole range at once).

    ``fetch=False`` leaves the fetch assets out of the run (a backfill of what is already in
    landing/): Dagster records two events per asset and daily partition, ~1,400 for a year
    of two fetch assets that would fetch nothing.

    The warehouse file lock serialises the writers. The ``duckdb_writer`` pool has run
    granularity (``dagster.yaml``, written by ``env.Home.ensure``), not per step: in a run
    executed in this process, a step waiting for a pool slot makes Dagster's in-process
    executor poll without sleeping (a core busy for as long as another run writes) and a
    killed run would keep its slot for good.
    The run is marked alive (a file lock) while it executes; runs whose process was killed
    are first reported failed and any slot they still hold freed (see
    orchestration.resources.reap_dead_runs), so a killed run never blocks the next one.
    """
    import logging

    ensure_dbt_manifest()
    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from orchestration.resources import reap_dead_runs, run_liveness

    job = defs.resolve_job_def("papertrends_daily")
    selection = None
    if not fetch:
        from orchestration.defs.fetch import FETCH_ASSET_KEYS

        selection = [k for k in defs.resolve_all_asset_keys() if k not in FETCH_ASSET_KEYS]
        fetch_ops = {k.to_python_identifier() for k in FETCH_ASSET_KEYS}
        ops = {k: v for k, v in (run_config or {}).get("ops", {}).items() if k not in fetch_ops}
        run_config = {**(run_config or {}), "ops": ops}
    if until is None:
        partition = {"partition_key": listing_date.isoformat()}
    else:
        partition = {
            "tags": {
                "dagster/asset_partition_range_start": listing_date.isoformat(),
                "dagster/asset_partition_range_end": until.isoformat(),
            }
        }
    # Without --verbose, Dagster's console log is off (a failed step would print its whole
    # stack trace): after a successful run the steps' warnings are printed, one line each;
    # a failure is the one line of the CliError. dbt's own log lines go to stdout: kept for
    # --verbose only (the run's event log in the Dagster instance has everything).
    level = "INFO" if verbose else "CRITICAL"
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    run_id = str(uuid.uuid4())  # Dagster's run ids are uuid4 strings
    dagster_home = str(home.ensure().dagster_home)
    with (
        DagsterInstance.from_config(dagster_home) as instance,
        run_liveness(home, run_id),
        quiet,
    ):
        reaped = reap_dead_runs(instance, home)
        if reaped and verbose:
            print(f"cleaned up {len(reaped)} run(s) killed before they finished: {reaped}")
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_id=run_id,
            asset_selection=selection,
            run_config=(run_config or {})
            | {"loggers": {"console": {"config": {"log_level": level}}}},
            **partition,
        )
        if result.success and not verbose:
            for record in instance.all_logs(run_id):
                if record.dagster_event is None and record.level >= logging.WARNING:
                    message = " ".join(record.user_message.split())
                    print(f"warning: {record.step_key or 'run'}: {message}", file=sys.stderr)
    if not result.success:
        raise CliError(_first_failure(result))


# ---------------------------------------------------------------------------- queries


@contextlib.contextmanager
def connect_read_only(home: env.Home, wait_s: float = 60.0):
    """A read-only connection that cannot touch files outside the warehouse (closed, and
    the shared warehouse lock released, when the block ends)."""
    import duckdb

    from transforms.warehouse import WarehouseBusyError, connect_warehouse

    if not home.warehouse.exists():
        raise CliError(f"no warehouse at {home.warehouse}: run `papertrends run` first")
    config = {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "lock_configuration": True,
    }

    def waiting(_message: str) -> None:
        print("waiting: a run is writing the warehouse...", file=sys.stderr)

    with contextlib.ExitStack() as stack:
        try:  # only opening is translated here; errors of the caller's block pass through
            con = stack.enter_context(
                connect_warehouse(
                    home.warehouse,
                    read_only=True,
                    config=config,
                    timeout_s=wait_s,
                    on_wait=waiting,
                )
            )
        except WarehouseBusyError as exc:
            raise CliError(str(exc)) from None
        except duckdb.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CliError(f"cannot open the warehouse: {first}") from None
        yield con


def run_query(
    home: env.Home, sql: str, params: Sequence[object] | None = None
) -> tuple[list[str], list[tuple]]:
    """Run read-only SQL: every statement must be a query (SELECT, WITH, VALUES, FROM,
    DESCRIBE, SHOW, SUMMARIZE, PRAGMA of a table function, or EXPLAIN of one of those).

    Anything else is refused before any statement runs; the read-only connection refuses
    the rest. Errors are CliError with one line: "refused: ..." or "query failed: ...".
    """
    import duckdb

    def statement_types(text: str) -> list:
        return [statement.type for statement in duckdb.extract_statements(text)]

    read_only_kinds = {duckdb.StatementType.SELECT}
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise CliError(f"query failed: {one_line(exc, first=True) or type(exc).__name__}") from None
    if not statements:
        raise CliError("query failed: no SQL statement given")
    for statement in statements:
        kind = statement.type
        if kind in read_only_kinds:
            continue
        if kind == duckdb.StatementType.EXPLAIN:
            # EXPLAIN ANALYZE runs its statement: the explained statement must be a query.
            inner = re.sub(
                r"(?is)^(\s|--[^\n]*(\n|$)|/\*.*?\*/)*explain\s+(analy[sz]e\s+)?(\([^)]*\)\s*)?",
                "",
                statement.query,
            )
            try:
                kinds = statement_types(inner)
            except duckdb.Error:
                kinds = [kind]
            if kinds and set(kinds) <= read_only_kinds:
                continue
        label = {
            "LOAD": "INSTALL/LOAD",
            "VARIABLE_SET": "SET VARIABLE",
            "EXPLAIN": "EXPLAIN of a non-query",
        }.get(kind.name, kind.name.replace("_", " "))
        raise CliError(
            f"refused: {label} is not allowed: papertrends query only runs read-only "
            "queries (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"
        )

    with connect_read_only(home) as con:
        try:
            cursor = con.execute(sql, params)
            if cursor.description is None:
                return [], []
            columns = [d[0] for d in cursor.description]
            return columns, cursor.fetchall()
        except duckdb.Error as exc:
            first = one_line(exc, first=True) or type(exc).__name__
            low = first.lower()
            if "read-only" in low or "read only" in low:
                raise CliError(f"refused: the warehouse is read-only here ({first})") from None
            if "external access" in low or "disabled" in low or "permission error" in low:
                raise CliError(f"refused: no access outside the warehouse ({first})") from None
            if "configuration has been locked" in low:
                raise CliError(f"refused: settings cannot be changed here ({first})") from None
            raise CliError(f"query failed: {first}") from None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_rows(columns: list[str], rows: list[tuple], fmt: str, max_width: int = 80) -> str:
    if fmt == "json":
        return json.dumps(
            [dict(zip(columns, row, strict=True)) for row in rows],
            default=str,
            ensure_ascii=False,
            indent=1,
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    cells = [[_cell(v).replace("\n", " ") for v in row] for row in rows]
    widths = [
        min(max_width, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        return " | ".join(v[:w].ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(columns), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


# ---------------------------------------------------------------------------- commands


def prepare_home(root: str | None) -> env.Home:
    """The home, created if needed, exported to dbt and Dagster (one-line error if unusable)."""
    home = env.home(root)
    try:
        home.ensure()
    except OSError as exc:  # e.g. a file where publish/ or landing/ should be
        raise CliError(
            f"cannot prepare the home folder {home.root}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
        ) from None
    env.export_for_subprocesses(home)
    return home


def cmd_run(args: argparse.Namespace) -> int:
    home = prepare_home(args.home)
    listing_date = args.date or dt.datetime.now(dt.UTC).date()
    landed = land_files(home, listing_date, [Path(p) for p in args.listing])
    print(f"landed {len(landed)} file(s) in {home.landing / listing_date.isoformat()}")
    started = time.monotonic()
    from orchestration.defs.fetch import fetch_run_config

    # The listing files given are the day's listing: nothing is fetched beside them.
    materialize(home, listing_date, verbose=args.verbose, run_config=fetch_run_config(set()))
    print(f"materialized {listing_date} in {time.monotonic() - started:.1f}s")
    print(summary(home, listing_date))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    if args.to < args.start:
        raise CliError(f"--to {args.to} is before --from {args.start}")
    home = prepare_home(args.home)
    started = time.monotonic()
    from orchestration.defs.warehouse import full_refresh_run_config

    # From what is already in landing/: the fetch assets are left out of the run.
    run_config = full_refresh_run_config() if args.full_refresh else None
    materialize(
        home, args.start, verbose=args.verbose, until=args.to, run_config=run_config, fetch=False
    )
    days = (args.to - args.start).days + 1
    print(f"backfilled {days} date(s) {args.start}..{args.to} in {time.monotonic() - started:.1f}s")
    print(summary(home, args.to))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from orchestration.defs.partitions import daily_partitions
    from transforms.bulk_import import split_snapshot

    snapshot = Path(args.arxiv_snapshot)
    if not snapshot.is_file():
        raise CliError(f"snapshot file not found: {snapshot}")
    home = prepare_home(args.home)
    first = dt.date.fromisoformat(daily_partitions.get_first_partition_key())
    last = dt.date.fromisoformat(daily_partitions.get_last_partition_key())
    date_from = max(args.start or first, first)
    date_to = min(args.to or last, last)
    categories = {c for c in re.split(r"[,\s]+", args.categories or "") if c} or None

    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=snapshot.stat().st_size, unit="B", unit_scale=True, desc="reading")

    def progress(s) -> None:
        if bar is not None:
            bar.update(s.bytes_read - bar.n)
            bar.set_postfix_str(f"{s.lines:,} lines, kept {s.papers:,} papers", refresh=False)

    started = time.monotonic()
    try:
        imported = split_snapshot(
            snapshot,
            home.landing,
            categories=categories,
            date_from=date_from,
            date_to=date_to,
            date_field=args.date_column,
            progress=progress,
        )
    except OSError as exc:
        raise CliError(f"cannot import {snapshot}: {exc.strerror or exc}") from None
    if bar is not None:
        bar.close()
    print(
        f"landed {imported.papers:,} papers of {imported.lines:,} lines on "
        f"{len(imported.files):,} listing date(s) in {time.monotonic() - started:.1f}s"
        f" ({imported.out_of_range:,} outside {date_from}..{date_to}, "
        f"{imported.undated:,} without a date, {len(imported.rejected):,} rejected)"
    )
    for rejection in imported.rejected[:5]:
        print(f"rejected: {rejection.reason}", file=sys.stderr)
    if imported.dates is None:
        raise CliError(f"no paper of {snapshot} falls in {date_from}..{date_to}")
    if args.no_build:
        return 0
    start, end = imported.dates
    materialize(home, start, verbose=args.verbose, until=end, fetch=False)
    print(f"built {start}..{end} in {time.monotonic() - started:.1f}s in all")
    print(summary(home, end))
    return 0


def digest_email_outcome(home: env.Home, listing_date: dt.date) -> str:
    """What the run did with the date's digest e-mail ("sent to 2", "already sent", "not
    configured (...)"): the ``email_outcome`` of the digest's latest materialization of that
    date in the home's Dagster instance (the run just finished: it succeeded, and every CLI
    run materializes the digest of its last date)."""
    from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

    records_filter = AssetRecordsFilter(
        asset_key=AssetKey(["digest"]), asset_partitions=[listing_date.isoformat()]
    )
    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        records = instance.fetch_materializations(records_filter, limit=1).records
    if not records or records[0].asset_materialization is None:
        return "unknown (no digest was published)"
    outcome = records[0].asset_materialization.metadata.get("email_outcome")
    return str(outcome.value) if outcome is not None else "unknown"


def summary(home: env.Home, listing_date: dt.date) -> str:
    day = listing_date.isoformat()
    _, rows = run_query(
        home,
        "select (select count(*) from raw.listings where listing_date = $1),"
        " (select count(*) from raw.rejected_records where listing_date = $1),"
        " (select count(*) from papers)",
        [listing_date],
    )
    listed, rejected, papers = rows[0]
    lines = [
        f"listing {day}: {listed} papers parsed, {rejected} quarantined"
        + (" (see raw.rejected_records)" if rejected else ""),
        f"warehouse: {home.warehouse} ({papers} papers in total)",
        f"digest: {home.publish / day / 'digest.html'} (and digest.md, feed.xml, outbox/)",
        f"e-mail: {digest_email_outcome(home, listing_date)}",
        f"dagster home: {home.dagster_home} (runs show in `make dev`)",
        'query it:  papertrends query "select title, code_url from papers limit 5"',
    ]
    return "\n".join(lines)


def cmd_fetch(args: argparse.Namespace) -> int:
    from orchestration.defs.fetch import fetch_run_config
    from orchestration.defs.partitions import daily_partitions
    from transforms.fetch import SOURCES, read_sidecar

    listing_date = args.date or dt.datetime.now(dt.UTC).date()
    if not daily_partitions.has_partition_key(listing_date.isoformat()):
        raise CliError(
            f"listing date {listing_date} is outside the pipeline's dates "
            f"({daily_partitions.start:%Y-%m-%d} to today, UTC)"
        )
    try:
        sources = set(args.source or env.listing_sources()["sources"])
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not sources:
        raise CliError("nothing to fetch: pass --source hf|arxiv or set PAPERTRENDS_SOURCES")
    home = prepare_home(args.home)
    folder = home.landing / listing_date.isoformat()
    started, since = time.monotonic(), dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        materialize(home, listing_date, verbose=args.verbose, run_config=fetch_run_config(sources))
    finally:  # what was fetched, also when a later step failed
        for source in (s for s in SOURCES if s in sources):
            sidecar = read_sidecar(folder, source) or {}
            try:
                fetched = dt.datetime.fromisoformat(str(sidecar.get("fetched_at")))
            except ValueError:
                fetched = None
            if fetched is None or fetched < since:
                print(f"fetched {source} {listing_date}: nothing (the fetch did not finish)")
                continue
            files = [f for f in sidecar.get("files") or [] if f.get("file")]
            status = sidecar.get("status")
            print(
                f"fetched {source} {listing_date}: {sidecar.get('papers')} papers, {status} "
                f"({len(files)} file(s))"
                + (f": {sidecar.get('message')}" if status != "ok" else "")
            )
    print(f"materialized {listing_date} in {time.monotonic() - started:.1f}s")
    print(summary(home, listing_date))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    home = env.home(args.home)
    columns, rows = run_query(home, args.sql)
    if columns:
        print(format_rows(columns, rows, args.format))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from expectations.runner import STAGES, run_suite

    home = env.home(args.home)
    with connect_read_only(home) as con:
        listing_date = (
            args.date or con.execute("select max(listing_date) from raw.listings").fetchone()[0]
        )
        if listing_date is None:
            raise CliError("the warehouse has no listings yet: run `papertrends run` first")
        outcomes = {stage: run_suite(con, stage, listing_date) for stage in STAGES}
    rows = []
    ok = True
    for stage, outcome in outcomes.items():
        if isinstance(outcome, str):
            rows.append((stage, "skipped", "", outcome))
            continue
        ok = ok and outcome.success
        status = "FAIL" if not outcome.success else ("warn" if outcome.failed else "pass")
        failing = "; ".join(
            f"{f.expectation}({f.column})" if f.column else f.expectation for f in outcome.failed
        )
        rows.append((stage, status, outcome.row_count, outcome.error or failing))
    print(f"validation of {listing_date}")
    header = ["suite", "result", "rows", "failing expectations"]
    print(format_rows(header, rows, "table", max_width=400))
    return 0 if ok else 1


def parsed_document(path: Path) -> dict:
    """What ingest would make of one file, as the JSON ``papertrends parse`` prints."""
    import dataclasses

    from transforms.formats import parse_file
    from transforms.records import ListingFileError

    try:
        result, sha = parse_file(path)
    except ListingFileError as exc:
        return {
            "file": str(path),
            "format": None,
            "records": [],
            "rejected": [{"position": 0, "reason": str(exc), "raw_text": ""}],
            "error": str(exc),
        }
    hidden = {"raw_text", "lines"}
    records = [
        {k: v for k, v in dataclasses.asdict(r).items() if k not in hidden} for r in result.records
    ]
    return {
        "file": str(path),
        "format": result.format,
        "encoding": result.encoding,
        "sha256": sha,
        "warnings": result.warnings,
        "records": records,
        "rejected": [
            {"position": r.line, "reason": r.reason, "raw_text": r.raw_text}
            for r in result.rejections
        ],
        "chrome_lines": len(result.chrome),
    }


def cmd_parse(args: argparse.Namespace) -> int:
    doc = parsed_document(Path(args.file))
    if args.format == "json":
        print(json.dumps(doc, default=str, ensure_ascii=False, indent=1))
        return 1 if doc.get("error") else 0
    if doc.get("error"):
        raise CliError(doc["error"])
    records, rejected = doc["records"], doc["rejected"]
    print(
        f"{args.file}: {doc['format']} ({doc['encoding']}), {len(records)} record(s), "
        f"{len(rejected)} rejected, {doc['chrome_lines']} page-text line(s) dropped"
    )
    for warning in doc["warnings"]:
        print(f"warning: {warning}")
    columns = ["position", "arxiv_id", "title", "authors", "upvotes", "published", "github_url"]
    rows = [
        (
            r["position"],
            r["arxiv_id"],
            r["title"],
            len(r["authors"]) or r["author_count"],
            r["upvotes"],
            r["published"],
            r["github_url"],
        )
        for r in records
    ]
    print(format_rows(columns, rows, "table", max_width=70))
    if rejected:
        print("rejected:")
        rows = [(r["position"], r["reason"], r["raw_text"][:60]) for r in rejected]
        print(format_rows(["position", "reason", "raw_text"], rows, "table", max_width=70))
    return 0


def cmd_keyphrases(args: argparse.Namespace) -> int:
    from transforms.keyphrases import extract_jsonl

    try:
        written = extract_jsonl(args.input, args.output, top=args.top, workers=args.workers)
    except (OSError, ValueError) as exc:
        raise CliError(one_line(exc, first=True) or type(exc).__name__) from None
    print(f"wrote keyphrases of {written} document(s) to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papertrends",
        description="Track trending research papers: ingest listings, build the DuckDB "
        "warehouse with Dagster and dbt, and query it.",
    )
    parser.add_argument(
        "--home",
        help="state folder (default: $PAPERTRENDS_HOME or ./.papertrends)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="land listing files for a date and materialize the whole graph for it",
        description="Copy listing files into landing/<date>/ and materialize every asset "
        "for that date's partition through Dagster (the run shows in the UI).",
    )
    run.add_argument(
        "--listing",
        action="append",
        required=True,
        metavar="FILE",
        help="a pasted listing text file (repeatable)",
    )
    run.add_argument(
        "--date",
        type=_parse_date,
        help="listing date YYYY-MM-DD (default: today, UTC)",
    )
    run.add_argument("--verbose", action="store_true", help="show Dagster's run log")
    run.set_defaults(func=cmd_run)

    backfill = sub.add_parser(
        "backfill",
        help="re-run every date of a range from what is in landing/ (one Dagster run)",
        description="Materialize the whole graph for every listing date from --from to --to "
        "(inclusive) in a single Dagster run, from the files already in landing/<date>/.",
    )
    backfill.add_argument("--from", dest="start", type=_parse_date, required=True)
    backfill.add_argument("--to", type=_parse_date, required=True)
    backfill.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental table from scratch (every date), not just the range",
    )
    backfill.add_argument("--verbose", action="store_true", help="show Dagster's run log")
    backfill.set_defaults(func=cmd_backfill)

    fetch = sub.add_parser(
        "fetch",
        help="download the day's listing from HF / arXiv and materialize the whole graph",
        description="Fetch the listing of a date from each source (default: those in "
        "PAPERTRENDS_SOURCES) into landing/<date>/, then run the whole daily job for that "
        "date (fetch, ingest, dbt, keyphrases, digest) in one Dagster run.",
    )
    fetch.add_argument(
        "--source",
        action="append",
        choices=["hf", "arxiv"],
        help="fetch this source (repeatable; default: PAPERTRENDS_SOURCES)",
    )
    fetch.add_argument(
        "--date", type=_parse_date, help="listing date YYYY-MM-DD (default: today, UTC)"
    )
    fetch.add_argument("--verbose", action="store_true", help="show Dagster's run log")
    fetch.set_defaults(func=cmd_fetch)

    query = sub.add_parser(
        "query",
        help="run read-only SQL on the warehouse",
        description="Run SQL on the warehouse through a read-only connection with no "
        "access to files outside it, and print the result.",
    )
    query.add_argument("sql", help='SQL, e.g. "select count(*) from papers"')
    query.add_argument("--format", choices=["table", "csv", "json"], default="table")
    query.set_defaults(func=cmd_query)

    validate = sub.add_parser(
        "validate",
        help="run every Great Expectations suite against the warehouse",
        description="Validate raw listings, papers, keyphrases and trends for a listing "
        "date and print each suite's result with its failing expectations. Exit 0 only "
        "if no gate failed.",
    )
    validate.add_argument(
        "--date", type=_parse_date, help="listing date (default: the latest listed)"
    )
    validate.set_defaults(func=cmd_validate)

    imp = sub.add_parser(
        "import",
        help="land a bulk history (arXiv metadata snapshot) and build it in one backfill",
        description="Split an arXiv metadata snapshot (arxiv-metadata-oai-snapshot.json "
        "JSON Lines, gzip too) into landing/<date>/ by each paper's v1 date (or "
        "--date-column update_date), keeping --categories, then build every date of it "
        "in one Dagster run.",
    )
    imp.add_argument("--arxiv-snapshot", required=True, metavar="FILE")
    imp.add_argument(
        "--categories", help="comma-separated, e.g. cs.LG,cs.CL (an archive such as cs keeps all)"
    )
    imp.add_argument("--from", dest="start", type=_parse_date, help="first date to keep")
    imp.add_argument("--to", type=_parse_date, help="last date to keep")
    imp.add_argument("--date-column", choices=["v1", "update_date"], default="v1")
    imp.add_argument("--no-build", action="store_true", help="only land the files")
    imp.add_argument("--verbose", action="store_true", help="show Dagster's run log")
    imp.set_defaults(func=cmd_import)

    parse = sub.add_parser(
        "parse",
        help="show what a listing file would give, without touching the warehouse",
        description="Detect a listing file's format (from its content) and print the "
        "records and the rejected entries with their reasons, exactly as ingest would "
        "parse them. Nothing is written.",
    )
    parse.add_argument(
        "file",
        help="a listing file: page text or Markdown, HF API JSON, "
        "arXiv API or feed XML, arXiv snapshot JSON Lines",
    )
    parse.add_argument("--format", choices=["table", "json"], default="table")
    parse.set_defaults(func=cmd_parse)

    keyphrases = sub.add_parser(
        "keyphrases",
        help="extract keyphrases from a JSONL file with the pipeline's extractor",
        description='Read lines {"id": ..., "text": ...} and write lines {"id": ..., '
        '"keyphrases": [...]} (best first), with exactly the extractor and cleaning the '
        "pipeline uses.",
    )
    keyphrases.add_argument("--input", required=True, help="input JSONL file")
    keyphrases.add_argument("--output", required=True, help="output JSONL file")
    keyphrases.add_argument("--top", type=int, default=10, help="keyphrases per document")
    keyphrases.add_argument("--workers", type=int, help="processes (default: one per core)")
    keyphrases.set_defaults(func=cmd_keyphrases)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster flags beta/preview APIs at import; users of the CLI cannot act on that.
    warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"papertrends: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("papertrends: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`papertrends parse FILE | head`): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
