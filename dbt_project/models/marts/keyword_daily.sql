-- One row per listing date and keyphrase: how many of that day's papers carry it
-- (document frequency: a paper counts once) and how many papers were listed that day.
--
-- Incremental by listing date (macros/per_date_counts.sql): the dates of the partition
-- window, of appearances rebuilt since, and of papers whose keyphrases were
-- (re-)extracted since (a new extractor version re-extracts all, so rebuilds all).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='listing_date',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_window('listing_date') }}",
) }}

{{ per_date_counts(
    ref('paper_keyphrases'),
    'keyphrase_norm',
    'i.extracted_at > ' ~ last_built(),
) }}
