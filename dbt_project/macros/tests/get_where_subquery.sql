{#- Data tests on the per-date incremental models look at the dates this run rebuilt, not
    the whole history: in an incremental run (a partition window is set) a test of a model
    named in the `window_columns` var reads only the rows of the dates holding the model's
    latest `built_at`. Those dates were rebuilt whole, so a key that includes the date (the
    uniqueness tests) is still checked completely, against any row that survived the
    rebuild too. A full refresh or dbt by hand (no window) tests every row. A test's own
    `where` config still applies. This overrides dbt's macro of the same name. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set column = var('window_columns', {}).get(relation.identifier) -%}
    {%- if column and window_start() is not none -%}
        {%- set rebuilt -%}
            {{ column }} in (
                select {{ column }} from {{ relation }}
                where built_at = (select max(built_at) from {{ relation }})
            )
        {%- endset -%}
        {%- set where = '(' ~ where ~ ') and ' ~ rebuilt if where else rebuilt -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
