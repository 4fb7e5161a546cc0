-- One row per listing date and keyphrase: how many of that day's papers carry it
-- (document frequency: a paper counts once) and how many papers were listed that day.
with listed as (
    select
        listing_date,
        count(distinct paper_id)::integer as papers_listed
    from {{ ref('paper_appearances') }}
    group by listing_date
)

select
    a.listing_date,
    pk.keyphrase_norm,
    count(distinct a.paper_id)::integer as papers,
    l.papers_listed
from {{ ref('paper_appearances') }} as a
inner join {{ ref('paper_keyphrases') }} as pk on a.paper_id = pk.paper_id
inner join listed as l on a.listing_date = l.listing_date
group by a.listing_date, pk.keyphrase_norm, l.papers_listed
