-- One row per paper and normalised keyphrase: the best-ranked surface form of that
-- normal form in the paper's list. Only papers present in `papers`.
--
-- Incremental by paper: a run rebuilds the papers whose keyphrases were extracted since the
-- last build and the papers `papers` recomputed since (new, re-keyed); the pre-hook drops
-- the rows of papers no longer in `papers` or no longer extracted.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='paper_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_orphan_keyphrases() }}",
) }}

with extracted as (
    select * from {{ ref('stg_raw__paper_keyphrases') }}
),

papers as (
    select * from {{ ref('papers') }}
),

rebuilt as (
    {% if is_incremental() %}
        select e.paper_id from extracted as e
        where e.extracted_at > {{ last_built() }}
        union
        select p.paper_id from papers as p
        where p.built_at > {{ last_built() }}
    {% else %}
        select p.paper_id from papers as p
    {% endif %}
)

select
    k.paper_id,
    k.keyphrase_norm,
    arg_min(k.keyphrase, k.keyphrase_rank) as keyphrase,
    min(k.keyphrase_rank)::integer as keyphrase_rank,
    max(k.score) as score,
    any_value(k.extractor_version) as extractor_version,
    max(k.extracted_at) as extracted_at,
    {{ build_time() }} as built_at
from extracted as k
inner join papers as p on k.paper_id = p.paper_id
where k.paper_id in (select r.paper_id from rebuilt as r)
group by k.paper_id, k.keyphrase_norm
