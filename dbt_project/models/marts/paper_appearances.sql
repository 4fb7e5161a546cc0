-- One row per paper and listing date: the paper's best (lowest) rank that day, where it was
-- listed, and its upvotes and GitHub stars as seen that day (they change, so kept per date).
-- arXiv replacements are not listings and do not appear here.
--
-- Incremental by listing date: a run rebuilds the dates of its partition window, the dates
-- keyed since the last build, and the dates holding a paper id that changed (a pasted
-- title that has since joined its arXiv paper). The pre-hook empties the window's dates
-- first (macro delete_window).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='listing_date',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_window('listing_date') }}",
) }}

with keyed as (
    select * from {{ ref('int_listings_keyed') }}
    where is_listing
),

rebuilt as (
    {% if is_incremental() %}
        select k.listing_date from keyed as k
        where {{ in_window('k.listing_date') }} or k.built_at > {{ last_built() }}
        union
        select t.listing_date from {{ this }} as t
        where t.paper_id not in (select k.paper_id from keyed as k)
    {% else %}
        select distinct k.listing_date from keyed as k
    {% endif %}
)

select
    paper_id,
    listing_date,
    min(page_rank)::integer as best_rank,
    count(*)::integer as cards,
    string_agg(distinct source, ',' order by source) as source,
    max(upvotes)::integer as upvotes,
    max(github_stars)::integer as github_stars,
    {{ build_time() }} as built_at
from keyed
where listing_date in (select r.listing_date from rebuilt as r)
group by paper_id, listing_date
