{#- Post-hook of an incremental Python model: dbt-duckdb 1.11 writes its new rows to a real
    table `<model>__dbt_tmp<timestamp>` it takes for a temporary one, so never drops it.
    Drop every such table once the rows are merged. -#}
{% macro drop_python_temp_tables() -%}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select table_name from information_schema.tables where table_schema = '"
            ~ this.schema ~ "' and starts_with(table_name, '" ~ this.identifier ~ "__dbt_tmp')"
        ) -%}
        {%- for row in leftovers.rows -%}
        drop table if exists {{ this.schema }}."{{ row[0] }}";
        {% endfor -%}
    {%- endif -%}
{%- endmacro %}
