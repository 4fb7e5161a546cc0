-- The topics of each paper (grain: paper_id, topic): its keyphrases grouped by topic, the
-- best keyphrase rank among them first.
--
-- Incremental by paper: a run rebuilds the papers new here, those whose keyphrases were
-- (re-)extracted since, and those with a keyphrase whose topic changed since; the pre-hook
-- drops papers without keyphrases any more.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='paper_id',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where paper_id not in (select k.paper_id from {{ ref('paper_keyphrases') }} as k){% endif %}",
) }}

with rebuilt as (
    {% if is_incremental() %}
        select pk.paper_id from {{ ref('paper_keyphrases') }} as pk
        inner join {{ ref('keyphrase_topics') }} as kt on pk.keyphrase_norm = kt.keyphrase_norm
        where
            pk.extracted_at > {{ last_built() }}
            or kt.built_at > {{ last_built() }}
            or pk.paper_id not in (select t.paper_id from {{ this }} as t)
    {% else %}
        select pk.paper_id from {{ ref('paper_keyphrases') }} as pk
    {% endif %}
)

select
    pk.paper_id,
    kt.topic,
    min(pk.keyphrase_rank)::integer as topic_rank,
    max(pk.score) as score,
    list(pk.keyphrase order by pk.keyphrase_rank) as keyphrases,
    {{ build_time() }} as built_at
from {{ ref('paper_keyphrases') }} as pk
inner join {{ ref('keyphrase_topics') }} as kt on pk.keyphrase_norm = kt.keyphrase_norm
where pk.paper_id in (select r.paper_id from rebuilt as r)
group by pk.paper_id, kt.topic
