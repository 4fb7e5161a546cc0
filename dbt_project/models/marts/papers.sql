-- One row per paper listed at least once. Title and abstract come from the paper's latest
-- record (best rank that day; a real abstract before an AI summary), so corrections on later
-- pages and arXiv replacements win; every other field is the latest value seen.
with keyed as (
    select * from {{ ref('int_listings_keyed') }}
),

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
    history.times_listed
from latest
inner join history on latest.paper_id = history.paper_id
