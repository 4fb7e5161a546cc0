-- One row per paper listed at least once. Title and abstract come from the paper's latest
-- record (best rank that day; a real abstract before an AI summary), so corrections on later
-- pages and arXiv replacements win; every other field is the latest value seen.
--
-- Incremental by paper: a run recomputes the papers with a record keyed since the last build
-- and the papers whose listing dates changed (a card dropped by a re-ingested date), from all
-- of their records. The pre-hook removes papers no longer listed anywhere.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='paper_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_unlisted_papers() }}",
) }}

with all_keyed as (
    select * from {{ ref('int_listings_keyed') }}
),

{% if is_incremental() %}
    listed_dates as (
        select
            paper_id,
            min(listing_date) filter (where is_listing) as first_listed,
            max(listing_date) filter (where is_listing) as last_listed,
            count(distinct listing_date) filter (where is_listing)::integer as times_listed
        from all_keyed
        group by paper_id
    ),

    touched as (
        select k.paper_id from all_keyed as k
        where k.built_at > {{ last_built() }}
        union
        select d.paper_id
        from listed_dates as d
        inner join {{ this }} as t on d.paper_id = t.paper_id
        where
            d.first_listed is distinct from t.first_listed
            or d.last_listed is distinct from t.last_listed
            or d.times_listed is distinct from t.times_listed
    ),

    keyed as (
        select * from all_keyed
        where paper_id in (select touched.paper_id from touched)
    ),
{% else %}
    keyed as (
        select * from all_keyed
    ),
{% endif %}

latest as (
    select *
    from keyed
    qualify row_number() over (
        partition by paper_id
        order by summary_is_ai asc, listing_date desc, page_rank asc, source_file asc
    ) = 1
),

history as (
    select
        paper_id,
        min(listing_date) filter (where is_listing) as first_listed,
        max(listing_date) filter (where is_listing) as last_listed,
        count(distinct listing_date) filter (where is_listing)::integer as times_listed,
        arg_max(code_url, (listing_date, -page_rank)) filter (
            where code_url is not null
        ) as any_code_url,
        arg_max(github_url, (listing_date, -page_rank)) filter (
            where github_url is not null
        ) as github_url,
        arg_max(url, (listing_date, -page_rank)) filter (where url is not null) as url,
        arg_max(authors, (listing_date, -page_rank)) filter (
            where len(authors) > 0
        ) as authors,
        arg_max(categories, (listing_date, -page_rank)) filter (
            where len(categories) > 0
        ) as categories,
        min(published) as published
    from keyed
    group by paper_id
    having count(*) filter (where is_listing) > 0
)

select
    latest.paper_id,
    latest.arxiv_id,
    latest.title,
    latest.abstract,
    coalesce(latest.code_url, history.any_code_url) as code_url,
    history.github_url,
    history.url,
    coalesce(history.authors, []::varchar[]) as authors,
    coalesce(history.categories, []::varchar[]) as categories,
    history.published,
    history.first_listed,
    history.last_listed,
    history.times_listed,
    {{ build_time() }} as built_at
from latest
inner join history on latest.paper_id = history.paper_id
