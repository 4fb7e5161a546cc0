-- One row per listing date and topic: how many of that day's papers carry it (a paper
-- counts once) and how many papers were listed that day.
--
-- Incremental by listing date (macros/per_date_counts.sql): the dates of the partition
-- window, of appearances rebuilt since, and of papers whose paper_topics rows were
-- rebuilt since (keyphrases re-extracted, or a keyphrase whose topic changed).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='listing_date',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_window('listing_date') }}",
) }}

{{ per_date_counts(ref('paper_topics'), 'topic', 'i.built_at > ' ~ last_built()) }}
