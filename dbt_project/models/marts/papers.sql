-- One row per paper. Title, abstract and code link come from the paper's latest listing
-- (best rank that day), so corrections on later pages win.
with keyed as (
    select * from {{ ref('int_listings_keyed') }}
),

latest as (
    select *
    from keyed
    qualify row_number() over (
        partition by paper_id
        order by listing_date desc, page_rank asc, source_file asc
    ) = 1
),

history as (
    select
        paper_id,
        min(listing_date) as first_listed,
        max(listing_date) as last_listed,
        count(distinct listing_date)::integer as times_listed,
        -- a link seen on any listing, preferring the latest
        arg_max(code_url, listing_date) filter (where code_url is not null) as any_code_url
    from keyed
    group by paper_id
)

select
    latest.paper_id,
    latest.title,
    latest.abstract,
    coalesce(latest.code_url, history.any_code_url) as code_url,
    history.first_listed,
    history.last_listed,
    history.times_listed
from latest
inner join history on latest.paper_id = history.paper_id
