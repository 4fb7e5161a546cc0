-- One row per paper and listing date: the paper's best (lowest) rank that day, where it was
-- listed, and its upvotes and GitHub stars as seen that day (they change, so kept per date).
-- arXiv replacements are not listings and do not appear here.
select
    paper_id,
    listing_date,
    min(page_rank)::integer as best_rank,
    count(*)::integer as cards,
    string_agg(distinct source, ',' order by source) as source,
    max(upvotes)::integer as upvotes,
    max(github_stars)::integer as github_stars
from {{ ref('int_listings_keyed') }}
where is_listing
group by paper_id, listing_date
