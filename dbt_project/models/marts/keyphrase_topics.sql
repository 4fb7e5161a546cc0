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

    Paper counts are over the whole history (`keywords`), so a keyphrase's topic can change
    as the history grows. Incremental by keyphrase: a run writes only the keyphrases whose
    topic is new or changed (built_at then says when), which is how topic_daily knows the
    dates to rebuild; the pre-hook drops keyphrases no paper has any more.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='keyphrase_norm',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where keyphrase_norm not in (select k.keyphrase_norm from {{ ref('keywords') }} as k){% endif %}",
) }}
{%- set generic = var('topic_generic_words') -%}
{%- set stopwords = var('topic_stopwords') -%}

with recursive keywords as (
    select
        keyphrase_norm,
        papers,
        string_split(keyphrase_norm, ' ') as words
    from {{ ref('keywords') }}
),

-- The phrase and, when its last word is generic, the phrase less that word.
forms as (
    select
        keyphrase_norm,
        papers,
        words
    from keywords
    union all
    select
        keyphrase_norm,
        papers,
        words[1:len(words) - 1] as words
    from keywords
    where len(words) >= 2 and words[len(words)] in {{ sql_list(generic) }}
),

suffix_starts as (
    select
        keyphrase_norm,
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
        papers,
        array_to_string(words[first_word:], ' ') as head
    from suffix_starts
    where
        array_to_string(words[first_word:], ' ') != keyphrase_norm
        and (first_word = 1 or words[first_word - 1] not in {{ sql_list(stopwords) }})
),

heads as (
    select
        c.keyphrase_norm,
        h.keyphrase_norm as head
    from candidates as c
    inner join keywords as h on c.head = h.keyphrase_norm
    where
        h.papers >= {{ var('topic_min_papers') }}
        and h.papers >= c.papers
        and h.words[1] not in {{ sql_list(stopwords) }}
        and h.words[len(h.words)] not in {{ sql_list(stopwords) }}
        and not (len(h.words) = 1 and h.words[1] in {{ sql_list(generic) }})
    qualify row_number() over (
        partition by c.keyphrase_norm
        order by len(h.words) desc, h.papers desc, h.keyphrase_norm asc
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
