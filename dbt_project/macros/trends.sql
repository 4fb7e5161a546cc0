{#-
    Trend scores as of every listing date, shared by keyword_trends and topic_trends: the
    current window (the last `trend_current_days` listing days up to as_of_date) against
    the reference window (the `trend_reference_days` listing days before it). Days without
    a listing do not count. `daily` has one row per (listing_date, <key>) with `papers`
    (papers listed that day carrying the key, a paper counted once).

    Score: log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
    2008, "Fightin' Words"), on document frequencies. For key w, y = papers with w and
    n = papers listed in a window; the prior is the whole history up to as_of_date,
    pi_w = y_hist / n_hist, with strength a0 papers: alpha_w = a0 * pi_w (pseudo-papers
    with w) and beta_w = a0 - alpha_w (pseudo-papers without w).

        delta = ln((y_c + alpha) / (n_c - y_c + beta)) - ln((y_r + alpha) / (n_r - y_r + beta))
        var   = 1/(y_c + alpha) + 1/(n_c - y_c + beta) + 1/(y_r + alpha) + 1/(n_r - y_r + beta)
        z     = delta / sqrt(var)

    status: new (no paper before the current window, papers_current >= 2), rising
    (z >= 1.96 and papers_current >= 3), falling (z <= -1.96), else steady; but cold_start
    while the reference window holds fewer than `trend_min_reference_days` listing days
    (3 in dbt_project.yml: labels start on listing day current_days + 3, at once after a history
    import). `reference_days`, `listing_days_to_trends` and `status_reason` say why.

    Every count is a difference of running totals: with Y(k, i) the papers with key k on
    listing days 1..i, y_current = Y(a) - Y(a - C), y_reference = Y(a - C) - Y(a - C - R),
    y_history = Y(a) and y_before_current = Y(a - C) (likewise N for papers listed). So an
    as-of date costs what the keys of its C + R listing days cost.

    Incremental by as-of date: a run rebuilds every as-of date from `rebuild_from` (the
    earliest date it changed), since a day's counts feed the windows of the C + R listing
    days after it.
-#}
{% macro trend_scores(daily, key, rebuild_from) -%}
    {%- set current_days = var('trend_current_days') -%}
    {%- set reference_days = var('trend_reference_days') -%}
    {%- set prior_strength = var('trend_prior_strength') -%}
    {%- set min_reference_days = var('trend_min_reference_days') -%}
    {%- set span = current_days + reference_days -%}

with days as (
    select
        listing_date,
        row_number() over (order by listing_date) as day_idx,
        sum(papers_listed) over (order by listing_date) as papers_to_date
    from (
        select
            listing_date,
            count(distinct paper_id) as papers_listed
        from {{ ref('paper_appearances') }}
        group by listing_date
    ) as per_day
),

-- N at the as-of day, C days before and C + R days before it (0 before the first day);
-- the reference window holds min(R, max(0, a - C)) listing days.
totals as (
    select
        a.listing_date as as_of_date,
        a.day_idx as as_of_idx,
        a.papers_to_date as n_history,
        a.papers_to_date - coalesce(c.papers_to_date, 0) as n_current,
        coalesce(c.papers_to_date, 0) - coalesce(r.papers_to_date, 0) as n_reference,
        least({{ reference_days }}, greatest(0, a.day_idx - {{ current_days }}))
            as reference_days
    from days as a
    left join days as c on a.day_idx - {{ current_days }} = c.day_idx
    left join days as r on a.day_idx - {{ span }} = r.day_idx
    {% if rebuild_from is not none %}
        where a.listing_date >= {{ rebuild_from }}
    {% endif %}
),

daily as (
    select
        k.{{ key }},
        d.day_idx,
        k.papers
    from {{ daily }} as k
    inner join days as d on k.listing_date = d.listing_date
),

-- The (as-of date, key) pairs: keys with papers in the as-of date's windows.
pairs as (
    select distinct
        t.as_of_date,
        t.as_of_idx,
        d.{{ key }}
    from totals as t
    inner join daily as d
        on t.as_of_idx >= d.day_idx and t.as_of_idx - {{ span }} < d.day_idx
),

-- Y(k, i) on the days key k has papers, for the keys of the pairs only (the others'
-- totals are never read: a one-date run does not sum every key's history).
running as (
    select
        {{ key }},
        day_idx,
        sum(papers) over (
            partition by {{ key }} order by day_idx
            rows between unbounded preceding and current row
        ) as y_to_date
    from daily
    where {{ key }} in (select p.{{ key }} from pairs as p)
),

-- Y at the three bounds: the running total of the last day at or before each (ASOF).
bounds as (
    select
        p.as_of_date,
        p.{{ key }},
        h.y_to_date as y_history,
        coalesce(c.y_to_date, 0) as y_before_current,
        coalesce(r.y_to_date, 0) as y_before_reference
    from pairs as p
    asof left join running as h
        on p.{{ key }} = h.{{ key }} and p.as_of_idx >= h.day_idx
    asof left join running as c
        on
            p.{{ key }} = c.{{ key }}
            and p.as_of_idx - {{ current_days }} >= c.day_idx
    asof left join running as r
        on
            p.{{ key }} = r.{{ key }}
            and p.as_of_idx - {{ span }} >= r.day_idx
),

counts as (
    select
        b.as_of_date,
        b.{{ key }},
        b.y_history - b.y_before_current as y_current,
        b.y_before_current - b.y_before_reference as y_reference,
        b.y_history,
        b.y_before_current,
        t.n_current,
        t.n_reference,
        t.n_history,
        t.reference_days,
        t.as_of_idx
    from bounds as b
    inner join totals as t on b.as_of_date = t.as_of_date
),

prior as (
    select
        *,
        greatest({{ prior_strength }} * y_history / n_history, 0.01) as alpha,
        greatest({{ prior_strength }} * (1 - y_history / n_history), 0.01) as beta
    from counts
),

scored as (
    select
        *,
        ln((y_current + alpha) / (n_current - y_current + beta))
        - ln((y_reference + alpha) / (n_reference - y_reference + beta)) as delta,
        1 / (y_current + alpha)
        + 1 / (n_current - y_current + beta)
        + 1 / (y_reference + alpha)
        + 1 / (n_reference - y_reference + beta) as variance
    from prior
)

select
    as_of_date,
    {{ key }},
    y_current::integer as papers_current,
    y_reference::integer as papers_reference,
    n_current::integer as papers_listed_current,
    n_reference::integer as papers_listed_reference,
    round(y_current / nullif(n_current, 0), 4) as share_current,
    round(coalesce(y_reference / nullif(n_reference, 0), 0), 4) as share_reference,
    round(delta, 4) as log_odds_ratio,
    round(delta / sqrt(variance), 4) as z_score,
    case
        when reference_days < {{ min_reference_days }} then 'cold_start'
        when y_before_current = 0 and y_current >= 2 then 'new'
        when delta / sqrt(variance) >= 1.96 and y_current >= 3 then 'rising'
        when delta / sqrt(variance) <= -1.96 then 'falling'
        else 'steady'
    end as status,
    reference_days::integer as reference_days,
    greatest(0, {{ current_days + min_reference_days }} - as_of_idx)::integer
        as listing_days_to_trends,
    case
        when reference_days < {{ min_reference_days }}
            then 'cold start: the reference window holds ' || reference_days::integer
            || ' of the ' || {{ min_reference_days }} || ' listing days trends need'
    end as status_reason,
    {{ build_time() }} as built_at
from scored
{%- endmacro %}
