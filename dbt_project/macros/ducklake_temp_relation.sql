-- noqa: disable=LT02
{#- The relation an incremental model's new rows go to before they are merged, as dbt-duckdb
    1.11 makes it (adapters.sql), with one change: on the DuckLake target a real table in the
    lake (schema dbt_temp, dropped after the merge), the way dbt-duckdb does it on MotherDuck.
    A DuckDB transaction writes to one attached database only, and a temporary table (or
    the table a Python model writes its rows to) lives in the connection's own in-memory
    database: the merge into the lake then fails with "a single transaction can only write
    to a single attached database". -#}
{% macro duckdb__dispatch_temporary_relation(target_relation, batch_id='') %}
    {% if adapter.is_motherduck() or target.name == 'ducklake' %}
        {% set relation = target_relation.incorporate(
            path=adapter.get_temp_relation_path(target_relation, batch_id)
        ) %}
        {% do run_query(create_schema(relation)) %}
        {% if not adapter.disable_transactions() %}
            {% do adapter.commit() %}
        {% endif %}
        {% do return({'relation': relation, 'temporary': false}) %}
    {% else %}
        {% do return({'relation': make_temp_relation(target_relation), 'temporary': true}) %}
    {% endif %}
{% endmacro %}
