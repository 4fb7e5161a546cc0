-- One row per topic (grain: topic): its label (how papers most often write the topic's
-- own keyphrase), member keyphrases (most papers first), papers and first/last listing.
with members as (
    select
        kt.topic,
        k.keyphrase_norm,
        k.surface_form,
        k.papers
    from {{ ref('keyphrase_topics') }} as kt
    inner join {{ ref('keywords') }} as k on kt.keyphrase_norm = k.keyphrase_norm
),

usage as (
    select
        pt.topic,
        count(*)::integer as papers,
        min(p.first_listed) as first_listed,
        max(p.last_listed) as last_listed
    from {{ ref('paper_topics') }} as pt
    inner join {{ ref('papers') }} as p on pt.paper_id = p.paper_id
    group by pt.topic
)

select
    m.topic,
    coalesce(
        max(m.surface_form) filter (where m.keyphrase_norm = m.topic),
        arg_max(m.surface_form, m.papers)
    ) as label,  -- noqa: RF04
    list(m.surface_form order by m.papers desc, m.keyphrase_norm asc) as member_keyphrases,
    count(*)::integer as keyphrases,
    u.papers,
    u.first_listed,
    u.last_listed
from members as m
inner join usage as u on m.topic = u.topic
group by m.topic, u.papers, u.first_listed, u.last_listed
