"""dbt-duckdb on a DuckLake warehouse: the plugin the profile's ``ducklake`` target names.

dbt-duckdb configures a connection in this order: its ``extensions`` list, secrets,
plugins, then the ``attach`` list. The extensions come from PyPI wheels by file path and,
on object storage, the S3 secret is built from the environment: both exactly as the
Python steps open the lake (:func:`transforms.ducklake.open_lake`), so this plugin does that
part and the profile only attaches ``PAPERTRENDS_WAREHOUSE`` as ``lake``.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration import env
from transforms.ducklake import MAX_RETRY_COUNT, UNSIGNED, extensions, s3_secret_sql


class Plugin(BasePlugin):
    def update_connection_config(self, creds, config) -> None:
        config.update(UNSIGNED)  # as open_lake: the wheels' files, without the signature check

    def configure_connection(self, conn) -> None:
        lake = env.home().lake
        if lake is None:
            raise RuntimeError(
                "the ducklake target needs PAPERTRENDS_WAREHOUSE=ducklake:postgres:..."
            )
        for path in extensions(lake):
            conn.execute(f"LOAD '{path}'")
        conn.execute(f"SET ducklake_max_retry_count = {MAX_RETRY_COUNT}")
        if lake.remote:
            conn.execute(s3_secret_sql(os.environ))
