-- One row per normalised keyphrase across all papers.
with usage as (
    select
        pk.keyphrase_norm,
        pk.keyphrase,
        pk.paper_id,
        p.first_listed,
        p.last_listed
    from {{ ref('paper_keyphrases') }} as pk
    inner join {{ ref('papers') }} as p on pk.paper_id = p.paper_id
),

surface_counts as (
    select
        keyphrase_norm,
        keyphrase,
        count(*) as uses
    from usage
    group by keyphrase_norm, keyphrase
),

most_common_surface as (
    select
        keyphrase_norm,
        keyphrase as surface_form
    from surface_counts
    qualify row_number() over (
        partition by keyphrase_norm order by uses desc, keyphrase asc
    ) = 1
)

select
    u.keyphrase_norm,
    s.surface_form,
    count(distinct u.paper_id)::integer as papers,
    min(u.first_listed) as first_listed,
    max(u.last_listed) as last_listed
from usage as u
inner join most_common_surface as s on u.keyphrase_norm = s.keyphrase_norm
group by u.keyphrase_norm, s.surface_form
