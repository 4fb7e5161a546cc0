{#- The body of a per-date count model (keyword_daily, topic_daily): one row per listing
    date and `key` of `items` (a relation of paper_id, key), with the papers listed that
    day carrying it (a paper counts once) and the papers listed that day.

    Incremental by listing date: a run rebuilds the dates of its partition window, the
    dates whose appearances were rebuilt since, and the dates of papers whose items
    changed since (`changed`: a predicate on `i`, an items row). -#}
{% macro per_date_counts(items, key, changed) -%}
    {% if is_incremental() %}
    with rebuilt as (
        select a.listing_date from {{ ref('paper_appearances') }} as a
        where {{ in_window('a.listing_date') }} or a.built_at > {{ last_built() }}
        union
        select a.listing_date from {{ ref('paper_appearances') }} as a
        inner join {{ items }} as i on a.paper_id = i.paper_id
        where {{ changed }}
    ),

    appearances as (
        select * from {{ ref('paper_appearances') }}
        where listing_date in (select r.listing_date from rebuilt as r)
    ),
{% else %}
    with appearances as (
        select * from {{ ref('paper_appearances') }}
    ),
{% endif %}

listed as (
    select
        listing_date,
        count(distinct paper_id)::integer as papers_listed
    from appearances
    group by listing_date
)

select
    a.listing_date,
    i.{{ key }},
    count(distinct a.paper_id)::integer as papers,
    l.papers_listed,
    {{ build_time() }} as built_at
from appearances as a
inner join {{ items }} as i on a.paper_id = i.paper_id
inner join listed as l on a.listing_date = l.listing_date
group by a.listing_date, i.{{ key }}, l.papers_listed
{%- endmacro %}
