select
    paper_id,
    rank::integer as keyphrase_rank,
    keyphrase,
    keyphrase_norm,
    score::double as score,
    extractor_version,
    extracted_at
from {{ source('raw', 'paper_keyphrases') }}
