{#-
    Keyphrase trends as of every listing date (grain: as_of_date, keyphrase_norm): the
    score, windows, status and cold start are macros/trends.sql's.

    Incremental by as-of date: a run rebuilds every as-of date from the earliest date it
    changed (macro rebuild_from: its partition window, or a keyword_daily date rebuilt
    since), since a day's counts feed the windows of the listing days after it.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where as_of_date >= {{ rebuild_from(ref('keyword_daily')) }}{% endif %}",
) }}

{{ trend_scores(
    ref('keyword_daily'),
    'keyphrase_norm',
    rebuild_from(ref('keyword_daily')) if is_incremental() else none,
) }}
