-- Every listing card with its stable paper id, whitespace-normalised text and code link.
with cards as (
    select
        listing_date,
        source_file,
        page_rank,
        trim(regexp_replace(title, '\s+', ' ', 'g')) as title,
        trim(regexp_replace(abstract, '\s+', ' ', 'g')) as abstract,
        ingested_at
    from {{ ref('stg_raw__listings') }}
),

links as (
    select
        *,
        -- First http(s)/www/github.com link in the abstract, without trailing punctuation.
        nullif(
            rtrim(
                regexp_extract(
                    abstract,
                    '((https?://|www\.)[^\s<>"''(){}\[\]]+|github\.com/[^\s<>"''(){}\[\]]+)'
                ),
                '.,;:!?'
            ),
            ''
        ) as first_link
    from cards
)

select
    {{ paper_id('title') }} as paper_id,
    listing_date,
    source_file,
    page_rank,
    title,
    abstract,
    case
        when first_link is null then null
        when first_link like 'http%' then first_link
        else 'https://' || first_link
    end as code_url,
    ingested_at
from links
