-- Every listing record with its stable paper id, whitespace-normalised text and code link.
-- paper_id is 'arxiv:<id>' when the arXiv id is known (on the record, or on another record
-- with the same folded title: a pasted title joins its arXiv paper), else the hash of the
-- folded title, as before arXiv ids were read.
--
-- A table, incremental by listing date, so no run re-hashes and re-parses every record of
-- the history: a run keys the dates of its window, the dates ingested since the last build,
-- and the dates whose records an arXiv id now reaches (a title first pasted, then listed
-- with its id). `title_key` and `record_arxiv_id` are kept so that last case is found
-- without re-hashing the history. Downstream models read `built_at` to see what changed.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='listing_date',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_window('listing_date') }}",
) }}

with staged as (
    select * from {{ ref('stg_raw__listings') }}
),

{% if is_incremental() %}
    fresh_dates as (
        select distinct s.listing_date from staged as s
        where {{ in_window('s.listing_date') }} or s.ingested_at > {{ last_built() }}
    ),

    fresh_keys as (
        select distinct
            {{ paper_id('s.title') }} as title_key,
            s.arxiv_id
        from staged as s
        where s.listing_date in (select f.listing_date from fresh_dates as f)
    ),

    kept as (
        select
            t.listing_date,
            t.title_key,
            t.record_arxiv_id,
            t.arxiv_id
        from {{ this }} as t
        where t.listing_date not in (select f.listing_date from fresh_dates as f)
    ),

    known_now as (
        select
            title_key,
            min(arxiv_id) as arxiv_id
        from (
            select
                title_key,
                arxiv_id
            from fresh_keys
            union all
            select
                title_key,
                record_arxiv_id as arxiv_id
            from kept
        ) as seen
        where arxiv_id is not null
        group by title_key
    ),

    rekeyed_dates as (
    -- Kept records whose known arXiv id is no longer the one they were keyed with.
        select distinct kept.listing_date
        from kept
        left join known_now on kept.title_key = known_now.title_key
        where kept.arxiv_id is distinct from coalesce(kept.record_arxiv_id, known_now.arxiv_id)
    ),

{% endif %}
cards as (
    select
        * exclude (title, abstract, arxiv_id),
        arxiv_id as record_arxiv_id,
        trim(regexp_replace(title, '\s+', ' ', 'g')) as title,
        trim(regexp_replace(abstract, '\s+', ' ', 'g')) as abstract,
        {{ paper_id('title') }} as title_key
    from staged
    {% if is_incremental() %}
        where listing_date in (
            select f.listing_date from fresh_dates as f
            union
            select r.listing_date from rekeyed_dates as r
        )
    {% endif %}
),

known_arxiv as (
    {% if is_incremental() %}
        select * from known_now
    {% else %}
        -- The arXiv id a folded title is known under (the lowest, should two papers share one).
        select
            title_key,
            min(record_arxiv_id) as arxiv_id
        from cards
        where record_arxiv_id is not null
        group by title_key
    {% endif %}
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
        coalesce(links.record_arxiv_id, known_arxiv.arxiv_id) as known_arxiv_id,
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
    title_key,
    record_arxiv_id,
    ingested_at,
    {{ build_time() }} as built_at
from normalised
