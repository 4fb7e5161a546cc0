"""Read-only SQL on the warehouse (``papertrends query``, ``papertrends validate``, the run
summary): a connection that cannot write, load extensions or touch files outside the
warehouse, and a statement check that refuses anything but queries before any runs."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Sequence

from orchestration import env
from transforms.errors import UserError
from transforms.files import one_line


class QueryError(UserError):
    """A query refused ("refused: ...") or failed ("query failed: ..."), or no warehouse to
    read ("no warehouse at ...")."""


@contextlib.contextmanager
def connect_read_only(home: env.Home, wait_s: float = 60.0):
    """A read-only connection that cannot touch files outside the warehouse (closed, and
    the shared warehouse lock released, when the block ends)."""
    import duckdb

    from transforms.ducklake import LakeError
    from transforms.warehouse import WarehouseBusyError, connect_warehouse

    config = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
    }
    # Set once the warehouse is attached (a DuckLake's extensions load before): no file
    # outside the warehouse (a lake's own data files excepted), and no setting changed.
    lockdown: dict[str, object] = {"enable_external_access": False, "lock_configuration": True}
    if home.lake is not None:
        lockdown = {"allowed_directories": [home.lake.data_path], **lockdown}

    def waiting(_message: str) -> None:
        print("waiting: a run is writing the warehouse...", file=sys.stderr)

    with contextlib.ExitStack() as stack:
        try:  # only opening is translated here; errors of the caller's block pass through
            con = stack.enter_context(
                connect_warehouse(
                    home.target,
                    read_only=True,
                    config=config,
                    settings=lockdown,
                    timeout_s=wait_s,
                    on_wait=waiting,
                )
            )
        except FileNotFoundError:  # connect_warehouse's check, for a file or a lake
            raise QueryError(
                f"no warehouse at {home.describe_warehouse()}: run `papertrends run` first"
            ) from None
        except (WarehouseBusyError, LakeError) as exc:
            raise QueryError(str(exc)) from None
        except duckdb.Error as exc:
            first = one_line(exc, first=True) or type(exc).__name__
            raise QueryError(f"cannot open the warehouse: {first}") from None
        yield con


def run_query(
    home: env.Home, sql: str, params: Sequence[object] | None = None
) -> tuple[list[str], list[tuple]]:
    """Run read-only SQL: every statement must be a query (SELECT, WITH, VALUES, FROM,
    DESCRIBE, SHOW, SUMMARIZE, PRAGMA of a table function, or EXPLAIN of one of those).

    Anything else is refused before any statement runs; the read-only connection refuses
    the rest. Errors are QueryError with one line: "refused: ..." or "query failed: ...".
    """
    import duckdb

    def statement_types(text: str) -> list:
        return [statement.type for statement in duckdb.extract_statements(text)]

    read_only_kinds = {duckdb.StatementType.SELECT}
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(
            f"query failed: {one_line(exc, first=True) or type(exc).__name__}"
        ) from None
    if not statements:
        raise QueryError("query failed: no SQL statement given")
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
        raise QueryError(
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
                raise QueryError(f"refused: the warehouse is read-only here ({first})") from None
            if "external access" in low or "disabled" in low or "permission error" in low:
                raise QueryError(f"refused: no access outside the warehouse ({first})") from None
            if "configuration has been locked" in low:
                raise QueryError(f"refused: settings cannot be changed here ({first})") from None
            raise QueryError(f"query failed: {first}") from None
