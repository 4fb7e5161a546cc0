"""The daily partitioning shared by every asset: one partition per listing date (UTC)."""

import dagster as dg

# end_offset=1: today's listing date is a partition too, so today's page can be run.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date="2020-01-01", end_offset=1, timezone="UTC"
)

# Beta in Dagster 1.13 (it warns at import), used on purpose: a backfill of many dates is one
# run in which each asset handles the whole range at once, not one run per date.
single_run_backfill = dg.BackfillPolicy.single_run()
