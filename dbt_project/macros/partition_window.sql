{#- The run's partition window, `window_start` / `window_end` as YYYY-MM-DD, both
    inclusive: the environment variables PAPERTRENDS_WINDOW_START / _END that the Dagster
    assets set (orchestration.defs.warehouse.partition_vars), or the dbt vars of the same
    names by hand. Read only when executing: vars given with --vars, and env vars read
    while parsing, make dbt parse the whole project again on every run. Without a window
    (dbt by hand, or a full refresh) incremental models rebuild every date. -#}
{% macro _window_bound(name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = env_var('PAPERTRENDS_' ~ name | upper, '') or var(name, none) -%}
    {{ return(value or none) }}
{%- endmacro %}

{% macro window_start() -%}
    {{ return(_window_bound('window_start')) }}
{%- endmacro %}

{% macro window_end() -%}
    {{ return(_window_bound('window_end')) }}
{%- endmacro %}

{#- SQL predicate: `column` lies in the run's window (true when there is none). -#}
{% macro in_window(column) -%}
    {%- if window_start() is not none -%}
        {{ column }} between date '{{ window_start() }}' and date '{{ window_end() }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- When the incremental model was last built: the latest `built_at` in it, or -infinity
    for a table from before that column (so its first incremental run rebuilds every
    date, and on_schema_change adds the column). -#}
{% macro last_built() -%}
    {%- set columns = [] -%}
    {%- if adapter is defined -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- endif -%}
    {%- if 'built_at' in columns -%}
        coalesce((select max(built_at) from {{ this }}), timestamp '-infinity')
    {%- else -%}
        timestamp '-infinity'
    {%- endif -%}
{%- endmacro %}

{#- The build time stamped on incremental rows (UTC, like raw.*.ingested_at). -#}
{% macro build_time() -%}
    (current_timestamp at time zone 'UTC')
{%- endmacro %}

{#- The first as-of date a trend model must rebuild: the start of the run's window, or the
    earliest date of `daily` (a per-date mart it reads) rebuilt since this model's last
    build, whichever is earlier. Later as-of dates follow, since a day's counts feed the
    windows of the listing days after it. -#}
{% macro rebuild_from(daily) -%}
    least(
        {% if window_start() is not none %}date '{{ window_start() }}'{% else %}date 'infinity'{% endif %},
        (
            select coalesce(min(listing_date), date 'infinity') from {{ daily }}
            where {{ in_window('listing_date') }} or built_at > {{ last_built() }}
        )
    )
{%- endmacro %}

{#- Pre-hook of a per-date incremental model: empty the window's dates first, so a date
    re-run with nothing left in it loses its rows (delete+insert only replaces the dates
    the new rows have). -#}
{% macro delete_window(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_window(column) }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of `papers`: drop the papers no record lists any more (re-keyed under their
    arXiv id, or every card of theirs removed by a re-ingest). -#}
{% macro delete_unlisted_papers() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where paper_id not in (
            select k.paper_id from {{ ref('int_listings_keyed') }} as k where k.is_listing
        )
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of `paper_keyphrases`: drop the rows of papers that left `papers` (re-keyed,
    no longer listed) or whose keyphrases are gone from raw.paper_keyphrases. -#}
{% macro delete_orphan_keyphrases() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where paper_id not in (select p.paper_id from {{ ref('papers') }} as p)
            or paper_id not in (select k.paper_id from {{ ref('stg_raw__paper_keyphrases') }} as k)
    {%- endif -%}
{%- endmacro %}
