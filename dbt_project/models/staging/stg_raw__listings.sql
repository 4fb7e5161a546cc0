-- Raw listing records, renamed and cast. Rows ingested before the metadata columns existed
-- (pasted pages only) read as source 'hf_page'.
select
    listing_date::date as listing_date,
    source_file,
    file_sha256,
    position::integer as page_rank,
    title,
    abstract,
    format as file_format,
    coalesce(source, 'hf_page') as source,
    arxiv_id,
    arxiv_version::integer as arxiv_version,
    authors,
    author_count::integer as author_count,
    categories,
    upvotes::integer as upvotes,
    github_url,
    github_stars::integer as github_stars,
    project_url,
    url,
    published::date as published,
    announce_type,
    -- arXiv replacements update a paper already known but are not a listing of it.
    coalesce(announce_type not in ('replace', 'replace-cross'), true) as is_listing,
    organization,
    ai_keywords,
    coalesce(summary_is_ai, false) as summary_is_ai,
    ingested_at
from {{ source('raw', 'listings') }}
