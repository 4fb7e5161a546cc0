-- One row per listing date and topic: how many of that day's papers carry it (a paper
-- counts once) and how many papers were listed that day.
--
-- Incremental by listing date, as keyword_daily, plus the dates of papers carrying a
-- keyphrase whose topic changed since (keyphrase_topics writes only those).
-- depends_on: {{ ref('paper_keyphrases') }}, {{ ref('keyphrase_topics') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='listing_date',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_window('listing_date') }}",
) }}

{% if is_incremental() %}
    with rebuilt as (
        select a.listing_date from {{ ref('paper_appearances') }} as a
        where {{ in_window('a.listing_date') }} or a.built_at > {{ last_built() }}
        union
        select a.listing_date from {{ ref('paper_appearances') }} as a
        inner join {{ ref('paper_keyphrases') }} as pk on a.paper_id = pk.paper_id
        left join {{ ref('keyphrase_topics') }} as kt on pk.keyphrase_norm = kt.keyphrase_norm
        where pk.extracted_at > {{ last_built() }} or kt.built_at > {{ last_built() }}
    ),

    appearances as (
        select * from {{ ref('paper_appearances') }}
        where listing_date in (select r.listing_date from rebuilt as r)
    ),
{% else %}
    with appearances as (
        select * from {{ ref('paper_appearances') }}
    ),
{% endif %}

listed as (
    select
        listing_date,
        count(distinct paper_id)::integer as papers_listed
    from appearances
    group by listing_date
)

select
    a.listing_date,
    pt.topic,
    count(distinct a.paper_id)::integer as papers,
    l.papers_listed,
    {{ build_time() }} as built_at
from appearances as a
inner join {{ ref('paper_topics') }} as pt on a.paper_id = pt.paper_id
inner join listed as l on a.listing_date = l.listing_date
group by a.listing_date, pt.topic, l.papers_listed
