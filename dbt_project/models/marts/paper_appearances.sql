-- One row per paper and listing date, with the paper's best (lowest) rank that day.
select
    paper_id,
    listing_date,
    min(page_rank)::integer as best_rank,
    count(*)::integer as cards
from {{ ref('int_listings_keyed') }}
group by paper_id, listing_date
