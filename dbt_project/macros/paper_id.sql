{#- Stable paper id: the first 16 hex digits of md5 over the title with case, accents,
    punctuation and whitespace folded, so re-listings and re-wrapped titles match. -#}
{% macro paper_id(title) -%}
    left(md5(trim(regexp_replace(lower(strip_accents({{ title }})), '[^\p{L}\p{N}]+', ' ', 'g'))), 16)
{%- endmacro %}
