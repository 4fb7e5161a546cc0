"""What a stage suite is made of, and the shape every stage module fills in.

* Expectations are GX's own classes (``gx().expectations.ExpectColumnValuesToBeBetween``
  etc., reached through ``gx()`` so the import stays lazy), each tagged by ``tag`` with
  ``meta={"severity": ..., "why": ...}``: the failure it is there for.
* ``StageSuite`` is what the runner needs of a stage: its name, the tables it reads, the
  suite's builder and the two queries (the window's frame; the frame's rows per date, to
  size the chunks). Every stage module ends with one; ``registry.SUITES`` lists them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from expectations.gx import engine, gx
from expectations.results import ERROR, SEVERITIES, WARN, column_of, json_safe

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations import Expectation

__all__ = [
    "ERROR",
    "WARN",
    "StageSuite",
    "catalog",
    "col",
    "new_suite",
    "non_capturing",
    "severity_of",
    "tag",
]

#: ``(sql, params)``: a DuckDB query and its named parameters
Query = tuple[str, dict[str, dt.date]]


class FrameQuery(Protocol):
    def __call__(
        self,
        start: dt.date | None,
        end: dt.date | None = None,
        *,
        whole_table: bool = True,
        undated: bool = False,
    ) -> Query:
        """The frame of the listing dates ``start..end`` (inclusive; None: all history).
        ``whole_table``: with the whole-table rows; ``undated``: with the rows of no date
        (both for a window's first chunk)."""
        ...


class CountQuery(Protocol):
    def __call__(self, start: dt.date | None, end: dt.date | None = None) -> Query:
        """``(day, n)`` rows: the frame's rows per date of the window (NULL day: the rows
        that travel with the first chunk)."""
        ...


@dataclass(frozen=True)
class StageSuite:
    """A stage's suite and how to query its frame."""

    name: str
    #: tables the frame reads: a missing one is a ``table_exists`` failure, not a traceback
    tables: tuple[str, ...]
    build: Callable[..., ExpectationSuite]  # ``build(**params)``
    query: FrameQuery
    count_query: CountQuery


def col(name: str) -> Any:
    """GX row-condition column (``col("n") > 0`` builds a Condition object)."""
    return gx().expectations.row_conditions.Column(name)


def tag(expectation: Expectation, *, why: str, severity: str = ERROR) -> Expectation:
    """``expectation`` (a GX expectation) tagged with its severity and rationale.

    ``tag(gx().expectations.ExpectColumnValuesToBeUnique(column="paper_id"), why="...")``
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    expectation.meta = {**(expectation.meta or {}), "severity": severity, "why": why}
    return expectation


def new_suite(name: str, expectations: list[Expectation], **meta: Any) -> ExpectationSuite:
    g = gx()
    # GX 1.24: ExpectationSuite.add_expectation() looks up an *active* Data Context
    # (DataContextRequiredError otherwise), so make sure ours exists.
    engine()
    suite = g.ExpectationSuite(name=name, meta=meta or None)
    for e in expectations:
        suite.add_expectation(e)
    return suite


def non_capturing(regex: str) -> str:
    """``regex`` with its capture groups made non-capturing (``(`` -> ``(?:``), same
    matches: GX matches a regex with pandas' ``str.contains``, which warns about a pattern
    with groups ("has match groups. To actually get the groups, use str.extract")."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            out.append(regex[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            out.append(c)
            i += 1
            for literal in ("^", "]"):  # "[^]...]" / "[]...]": that "]" is literal
                if regex[i : i + 1] == literal:
                    out.append(literal)
                    i += 1
            continue
        elif c == "(" and regex[i + 1 : i + 2] != "?":
            out.append("(?:")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def severity_of(expectation_or_config: Any) -> str:
    meta = getattr(expectation_or_config, "meta", None) or {}
    sev = meta.get("severity", ERROR)
    return sev if sev in SEVERITIES else ERROR


def catalog(suite: ExpectationSuite) -> list[dict]:
    """Describe a suite: one dict per expectation (type, column(s), severity, why, kwargs).

    Meant for the orchestration layer to turn gates into blocking checks and the
    rest into WARN checks, and for documentation.
    """
    out = []
    for e in suite.expectations:
        cfg = e.configuration
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        out.append(
            {
                "expectation": cfg.type,
                "column": column_of(kwargs),
                "severity": severity_of(cfg),
                "why": (cfg.meta or {}).get("why", ""),
                "kwargs": json_safe(kwargs),
            }
        )
    return out
