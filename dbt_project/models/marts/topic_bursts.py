"""Kleinberg bursts per topic as of every listing date (grain: as_of_date, topic).

For an as-of date D, each topic with papers in D's current window (the last
`trend_current_days` listing days) gets the two-state burst automaton of Kleinberg (2002)
over the listing days of the `lookback_days` before D (papers with the topic against
papers listed, each day a batch: transforms/bursts.py). `bursting_since` is the first
listing day of the burst D is in, null when D is not in one. Nothing is labelled before
the history spans `min_history_days` (8 weeks): `burst_state` is null then.

Incremental by as-of date, as topic_trends: a run rebuilds the as-of dates from the
earliest topic_daily date rebuilt since its last build (or its partition window's start),
deleting them first. This is the `rebuild_from` macro of macros/partition_window.sql,
which a Python model cannot call.
"""

from __future__ import annotations

import datetime as dt
import os


def _rebuild_from(dbt, session, daily) -> dt.date | None:
    """The first as-of date to rebuild; None: every date (a new or full-refreshed table)."""
    if not dbt.is_incremental:
        return None
    last = session.sql(f"select max(built_at) from {dbt.this}").fetchone()[0]
    if last is None:
        return None
    changed = daily.filter(f"built_at > timestamp '{last}'").min("listing_date").fetchone()[0]
    start = os.environ.get("PAPERTRENDS_WINDOW_START")
    dates = [d for d in (changed, start and dt.date.fromisoformat(start)) if d is not None]
    return min(dates) if dates else dt.date.max


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="as_of_date",
        on_schema_change="append_new_columns",
    )
    import numpy as np
    import polars as pl

    from transforms.bursts import burst_states_many, since_many

    s = float(dbt.config.get("burst_s"))
    gamma = float(dbt.config.get("burst_gamma"))
    lookback = dt.timedelta(days=int(dbt.config.get("lookback_days")))
    min_history = dt.timedelta(days=int(dbt.config.get("min_history_days")))
    current_days = int(dbt.config.get("current_days"))

    daily = dbt.ref("topic_daily")
    start = _rebuild_from(dbt, session, daily)
    if start is not None:
        session.execute(f"delete from {dbt.this} where as_of_date >= date '{start}'")
    listed = (
        daily.aggregate("listing_date, any_value(papers_listed) as papers_listed")
        .order("listing_date")
        .pl()
    )
    days = listed["listing_date"].to_list()
    totals = listed["papers_listed"].to_numpy()
    # The counts the rebuilt as-of dates read, by date: day j's rows are [offsets[j], offsets[j+1]).
    since = start - lookback if start is not None and start != dt.date.max else None
    counts = (
        (daily.filter(f"listing_date >= date '{since}'") if since else daily)
        .select("listing_date, topic, papers")
        .order("listing_date, topic")
        .pl()
    )
    day_index = {d: j for j, d in enumerate(days)}
    per_day = dict(counts.group_by("listing_date").len().iter_rows())
    offsets = np.cumsum([0] + [per_day.get(d, 0) for d in days])
    built_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    frames = []
    for i, as_of in enumerate(days):
        if start is not None and as_of < start:
            continue
        current = counts[offsets[max(0, i - current_days + 1)] : offsets[i + 1]]
        # a burst takes two papers at least: one paper in the window is not a burst
        topics = (
            current.group_by("topic")
            .agg(pl.col("papers").sum())
            .filter(pl.col("papers") >= 2)
            .get_column("topic")
            .sort()
        )
        if topics.is_empty():
            continue
        frame = pl.DataFrame({"topic": topics, "as_of_date": [as_of] * len(topics)})
        if as_of - days[0] < min_history:
            frames.append(
                frame.with_columns(
                    burst_state=pl.lit(None, pl.Int8), bursting_since=pl.lit(None, pl.Date)
                )
            )
            continue
        first = next(j for j, d in enumerate(days) if d > as_of - lookback)
        window = counts[offsets[first] : offsets[i + 1]].filter(
            pl.col("topic").is_in(topics.implode())
        )
        relevant = np.zeros((len(topics), i + 1 - first), dtype=np.int64)
        rows = topics.search_sorted(window["topic"]).to_numpy()
        cols = [day_index[d] - first for d in window["listing_date"].to_list()]
        relevant[rows, cols] = window["papers"].to_numpy()
        states = burst_states_many(relevant, totals[first : i + 1], s=s, gamma=gamma)
        frames.append(
            frame.with_columns(
                burst_state=pl.Series(states[:, -1], dtype=pl.Int8),
                bursting_since=pl.Series(since_many(days[first : i + 1], states), dtype=pl.Date),
            )
        )
    schema = {
        "as_of_date": pl.Date,
        "topic": pl.String,
        "burst_state": pl.Int8,
        "bursting_since": pl.Date,
    }
    frame = (
        pl.concat([f.select(list(schema)) for f in frames])
        if frames
        else pl.DataFrame(schema=schema)
    )
    return frame.with_columns(built_at=pl.lit(built_at, pl.Datetime("us")))
