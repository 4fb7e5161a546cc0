-- Every listing record with its stable paper id, whitespace-normalised text and code link.
-- paper_id is 'arxiv:<id>' when the arXiv id is known (on the record, or on another record
-- with the same folded title: a pasted title joins its arXiv paper), else the hash of the
-- folded title, as before arXiv ids were read.
with cards as (
    select
        * exclude (title, abstract),
        trim(regexp_replace(title, '\s+', ' ', 'g')) as title,
        trim(regexp_replace(abstract, '\s+', ' ', 'g')) as abstract,
        {{ paper_id('title') }} as title_key
    from {{ ref('stg_raw__listings') }}
),

known_arxiv as (
    -- The arXiv id a folded title is known under (the lowest, should two papers share one).
    select
        title_key,
        min(arxiv_id) as arxiv_id
    from cards
    where arxiv_id is not null
    group by title_key
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
),

normalised as (
    select
        links.*,
        coalesce(links.arxiv_id, known_arxiv.arxiv_id) as known_arxiv_id,
        case
            when links.first_link is null then null
            when links.first_link like 'http%' then links.first_link
            else 'https://' || links.first_link
        end as abstract_link
    from links
    left join known_arxiv on links.title_key = known_arxiv.title_key
)

select
    coalesce('arxiv:' || known_arxiv_id, title_key) as paper_id,
    known_arxiv_id as arxiv_id,
    listing_date,
    source_file,
    page_rank,
    source,
    file_format,
    is_listing,
    announce_type,
    title,
    abstract,
    summary_is_ai,
    -- The repository the listing names, else the first link of the abstract.
    coalesce(github_url, abstract_link) as code_url,
    coalesce(
        github_url,
        case when abstract_link like 'https://github.com/%' then abstract_link end
    ) as github_url,
    coalesce(url, 'https://arxiv.org/abs/' || known_arxiv_id) as url,
    project_url,
    authors,
    author_count,
    categories,
    published,
    arxiv_version,
    upvotes,
    github_stars,
    organization,
    ai_keywords,
    ingested_at
from normalised
