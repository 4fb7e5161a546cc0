{#-
    Keyphrase trends as of every listing date: the current window (the last
    `trend_current_days` listing days up to as_of_date) against the reference window (the
    `trend_reference_days` listing days before it). Days without a listing do not count.

    Score: log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
    2008, "Fightin' Words"), on document frequencies. For keyphrase w, y = papers with w
    and n = papers listed in a window; the prior is the whole history up to as_of_date,
    pi_w = y_hist / n_hist, with strength a0 papers: alpha_w = a0 * pi_w (pseudo-papers
    with w) and beta_w = a0 - alpha_w (pseudo-papers without w).

        delta = ln((y_c + alpha) / (n_c - y_c + beta)) - ln((y_r + alpha) / (n_r - y_r + beta))
        var   = 1/(y_c + alpha) + 1/(n_c - y_c + beta) + 1/(y_r + alpha) + 1/(n_r - y_r + beta)
        z     = delta / sqrt(var)

    status: new (no paper before the current window, papers_current >= 2), rising
    (z >= 1.96 and papers_current >= 3), falling (z <= -1.96), else steady.
-#}
{%- set current_days = var('trend_current_days', 7) -%}
{%- set reference_days = var('trend_reference_days', 28) -%}
{%- set prior_strength = var('trend_prior_strength', 100) -%}

with days as (
    select
        listing_date,
        papers_listed,
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

-- Each as_of_date with the listing days of its two windows.
window_days as (
    select
        a.listing_date as as_of_date,
        d.listing_date,
        d.papers_listed,
        case
            when d.day_idx > a.day_idx - {{ current_days }} then 'current'
            else 'reference'
        end as time_window
    from days as a
    inner join days as d
        on
            a.day_idx >= d.day_idx
            and a.day_idx - {{ current_days + reference_days }} < d.day_idx
),

window_totals as (
    select
        w.as_of_date,
        coalesce(sum(w.papers_listed) filter (where w.time_window = 'current'), 0) as n_current,
        coalesce(sum(w.papers_listed) filter (where w.time_window = 'reference'), 0)
            as n_reference,
        any_value(d.papers_to_date) as n_history,
        any_value(d.day_idx) as as_of_idx
    from window_days as w
    inner join days as d on w.as_of_date = d.listing_date
    group by w.as_of_date
),

window_counts as (
    select
        w.as_of_date,
        k.keyphrase_norm,
        coalesce(sum(k.papers) filter (where w.time_window = 'current'), 0) as y_current,
        coalesce(sum(k.papers) filter (where w.time_window = 'reference'), 0) as y_reference
    from window_days as w
    inner join {{ ref('keyword_daily') }} as k on w.listing_date = k.listing_date
    group by w.as_of_date, k.keyphrase_norm
),

-- Papers with the keyphrase on every listing day up to each day (for the prior and `new`).
cumulative as (
    select
        k.keyphrase_norm,
        d.day_idx,
        sum(k.papers) over (
            partition by k.keyphrase_norm order by d.day_idx
            rows between unbounded preceding and current row
        ) as y_to_date
    from {{ ref('keyword_daily') }} as k
    inner join days as d on k.listing_date = d.listing_date
),

counts as (
    select
        c.as_of_date,
        c.keyphrase_norm,
        c.y_current,
        c.y_reference,
        t.n_current,
        t.n_reference,
        t.n_history,
        (
            select max(h.y_to_date) from cumulative as h
            where h.keyphrase_norm = c.keyphrase_norm and h.day_idx <= t.as_of_idx
        ) as y_history,
        coalesce((
            select max(b.y_to_date) from cumulative as b
            where
                b.keyphrase_norm = c.keyphrase_norm
                and b.day_idx <= t.as_of_idx - {{ current_days }}
        ), 0) as y_before_current
    from window_counts as c
    inner join window_totals as t on c.as_of_date = t.as_of_date
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
    keyphrase_norm,
    y_current::integer as papers_current,
    y_reference::integer as papers_reference,
    n_current::integer as papers_listed_current,
    n_reference::integer as papers_listed_reference,
    round(y_current / nullif(n_current, 0), 4) as share_current,
    round(coalesce(y_reference / nullif(n_reference, 0), 0), 4) as share_reference,
    round(delta, 4) as log_odds_ratio,
    round(delta / sqrt(variance), 4) as z_score,
    case
        when y_before_current = 0 and y_current >= 2 then 'new'
        when delta / sqrt(variance) >= 1.96 and y_current >= 3 then 'rising'
        when delta / sqrt(variance) <= -1.96 then 'falling'
        else 'steady'
    end as status
from scored
