select
    paper_id,
    rank::integer as keyphrase_rank,
    keyphrase,
    keyphrase_norm,
    score::double as score,
    extractor_version
from {{ source('raw', 'paper_keyphrases') }}
