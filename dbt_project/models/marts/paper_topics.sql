-- The topics of each paper (grain: paper_id, topic): its keyphrases grouped by topic, the
-- best keyphrase rank among them first. A full table: a topic change anywhere moves rows
-- (1 s at 100k papers).
select
    pk.paper_id,
    kt.topic,
    min(pk.keyphrase_rank)::integer as topic_rank,
    max(pk.score) as score,
    list(pk.keyphrase order by pk.keyphrase_rank) as keyphrases
from {{ ref('paper_keyphrases') }} as pk
inner join {{ ref('keyphrase_topics') }} as kt on pk.keyphrase_norm = kt.keyphrase_norm
group by pk.paper_id, kt.topic
