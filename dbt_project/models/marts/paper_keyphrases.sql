-- One row per paper and normalised keyphrase: the best-ranked surface form of that
-- normal form in the paper's list. Only papers present in `papers`.
select
    k.paper_id,
    k.keyphrase_norm,
    arg_min(k.keyphrase, k.keyphrase_rank) as keyphrase,
    min(k.keyphrase_rank)::integer as keyphrase_rank,
    max(k.score) as score,
    any_value(k.extractor_version) as extractor_version,
    max(k.extracted_at) as extracted_at
from {{ ref('stg_raw__paper_keyphrases') }} as k
inner join {{ ref('papers') }} as p on k.paper_id = p.paper_id
group by k.paper_id, k.keyphrase_norm
