{#-
    The topic of every keyphrase (grain: keyphrase_norm).

    A keyphrase's head is the longest shorter keyphrase it ends with, as written or less a
    generic last word (var topic_generic_words: "flow matching model" -> "flow matching"),
    that is in at least `topic_min_papers` papers and in at least as many papers as the
    keyphrase, and neither starts nor ends with a stopword. The topic is the end of the
    chain of heads ("multimodal large language model" -> "large language model"); a
    keyphrase without a head is its own topic. So "discrete flow matching", "Dirichlet
    flow matching" and "unconditional discrete flow matching models" are the topic "flow
    matching"; "large language model", in more papers than "language model", stays a topic
    of its own; "mixture of experts" never becomes "experts" (no head after a stopword).

    Paper counts are as of the keyphrase's first listing date (papers first listed up to
    then), so a keyphrase's topic is fixed from the day it appears: a later day adds
    topics for its new keyphrases and never regroups the old ones, and a full refresh
    gives the same topics as day-by-day runs. Incremental by keyphrase: a run writes only
    the keyphrases whose topic is new or changed (an earlier date re-run, keyphrases
    re-extracted), which is how topic_daily knows the dates to rebuild; the pre-hook drops
    keyphrases no paper has any more.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='keyphrase_norm',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where keyphrase_norm not in (select k.keyphrase_norm from {{ ref('paper_keyphrases') }} as k){% endif %}",
) }}
{%- set generic = var('topic_generic_words') -%}
{%- set stopwords = var('topic_stopwords') -%}

-- Papers per keyphrase by the date they were first listed.
with recursive listed as (
    select
        pk.keyphrase_norm,
        p.first_listed,
        count(*) as papers
    from {{ ref('paper_keyphrases') }} as pk
    inner join {{ ref('papers') }} as p on pk.paper_id = p.paper_id
    group by pk.keyphrase_norm, p.first_listed
),

-- Each keyphrase on its first listing date, with its papers then.
keywords as (
    select
        keyphrase_norm,
        first_listed,
        papers,
        string_split(keyphrase_norm, ' ') as words
    from listed
    qualify row_number() over (partition by keyphrase_norm order by first_listed) = 1
),

-- The phrase and, when its last word is generic, the phrase less that word.
forms as (
    select
        keyphrase_norm,
        first_listed,
        papers,
        words
    from keywords
    union all
    select
        keyphrase_norm,
        first_listed,
        papers,
        words[1:len(words) - 1] as words
    from keywords
    where len(words) >= 2 and words[len(words)] in {{ sql_list(generic) }}
),

suffix_starts as (
    select
        keyphrase_norm,
        first_listed,
        papers,
        words,
        unnest(range(1, len(words) + 1)) as first_word
    from forms
),

-- Candidate heads: every suffix of either form but the phrase itself, never one that
-- follows a stopword (in "mixture of experts" the head is "mixture", not "experts").
candidates as (
    select distinct
        keyphrase_norm,
        first_listed,
        papers,
        array_to_string(words[first_word:], ' ') as head
    from suffix_starts
    where
        array_to_string(words[first_word:], ' ') != keyphrase_norm
        and (first_word = 1 or words[first_word - 1] not in {{ sql_list(stopwords) }})
),

-- Each candidate that is a keyphrase, with its papers on the keyphrase's first date.
candidate_papers as (
    select
        c.keyphrase_norm,
        c.head,
        any_value(c.papers) as papers,
        sum(l.papers) as head_papers
    from candidates as c
    inner join listed as l
        on c.head = l.keyphrase_norm and c.first_listed >= l.first_listed
    group by c.keyphrase_norm, c.head
),

-- The head: the longest such candidate with enough papers then.
heads as (
    select
        c.keyphrase_norm,
        c.head
    from candidate_papers as c
    inner join keywords as h on c.head = h.keyphrase_norm
    where
        c.head_papers >= {{ var('topic_min_papers') }}
        and c.head_papers >= c.papers
        and h.words[1] not in {{ sql_list(stopwords) }}
        and h.words[len(h.words)] not in {{ sql_list(stopwords) }}
        and not (len(h.words) = 1 and h.words[1] in {{ sql_list(generic) }})
    qualify row_number() over (
        partition by c.keyphrase_norm
        order by len(h.words) desc, c.head_papers desc, c.head asc
    ) = 1
),

-- Follow the heads to the end: each step is strictly shorter, so this terminates.
chain as (
    select
        keyphrase_norm,
        keyphrase_norm as topic,
        0 as hops
    from keywords
    union all
    select
        c.keyphrase_norm,
        h.head as topic,
        c.hops + 1 as hops
    from chain as c
    inner join heads as h on c.topic = h.keyphrase_norm
),

mapping as (
    select
        keyphrase_norm,
        arg_max(topic, hops) as topic
    from chain
    group by keyphrase_norm
)

select
    m.keyphrase_norm,
    m.topic,
    {{ build_time() }} as built_at
from mapping as m
{% if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as t
        where t.keyphrase_norm = m.keyphrase_norm and t.topic = m.topic
    )
{% endif %}
