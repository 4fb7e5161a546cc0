"""The daily partitioning shared by every asset: one partition per listing date (UTC), and
the decorator for the Python assets that use it."""

import inspect
from collections.abc import Callable

import dagster as dg

# end_offset=1: today's listing date is a partition too, so today's page can be run.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date="2020-01-01", end_offset=1, timezone="UTC"
)

# A backfill of many dates is one run in which each asset handles the whole range at once,
# not one run per date.
single_run_backfill = dg.BackfillPolicy.single_run()


def daily_asset(spec: dg.AssetSpec, **kwargs) -> Callable[[Callable], dg.AssetsDefinition]:
    """``@dg.asset`` for one daily asset backfilled in one run; the docstring describes it.

    Built on ``multi_asset``: ``asset``'s ``backfill_policy`` parameter is Beta in Dagster 1.13
    (it warns at import), ``multi_asset``'s is not; the asset, its step and its policy are the
    same. ``kwargs`` go to ``multi_asset`` (``check_specs``, ...).
    """

    def decorate(fn: Callable) -> dg.AssetsDefinition:
        described = spec.replace_attributes(description=spec.description or inspect.getdoc(fn))
        return dg.multi_asset(
            specs=[described],
            name=spec.key.to_python_identifier(),  # the step name ``@dg.asset(key=…)`` gives
            partitions_def=daily_partitions,
            backfill_policy=single_run_backfill,
            **kwargs,
        )(fn)

    return decorate
