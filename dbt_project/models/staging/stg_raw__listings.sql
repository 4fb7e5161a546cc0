select
    listing_date::date as listing_date,
    source_file,
    file_sha256,
    position::integer as page_rank,
    title,
    abstract,
    ingested_at
from {{ source('raw', 'listings') }}
