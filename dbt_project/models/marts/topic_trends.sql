{#-
    Topic trends as of every listing date (grain: as_of_date, topic): the same score,
    windows, status and cold start as keyword_trends (macros/trends.sql), on topic_daily,
    plus `bursting_since` from topic_bursts (Kleinberg; null when not bursting).

    Incremental by as-of date, as keyword_trends.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where as_of_date >= {{ rebuild_from(ref('topic_daily')) }}{% endif %}",
) }}

with scores as (
    {{ trend_scores(
        ref('topic_daily'),
        'topic',
        rebuild_from(ref('topic_daily')) if is_incremental() else none,
    ) | indent(4) }}
)

select
    s.*,
    b.bursting_since
from scores as s
left join {{ ref('topic_bursts') }} as b
    on s.as_of_date = b.as_of_date and s.topic = b.topic
