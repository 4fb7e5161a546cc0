{#- A list of strings as a SQL list literal: ['a', 'b'] -> ('a', 'b'). -#}
{% macro sql_list(values) -%}
    ({%- for v in values -%}'{{ v | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}
