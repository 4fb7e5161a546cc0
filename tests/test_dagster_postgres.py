"""The Dagster instance on PostgreSQL (PAPERTRENDS_DAGSTER_PG_URL) with the run queue: how
the home's dagster.yaml follows the environment, a CLI run recorded in PostgreSQL, and the
daemon on a real server ticking the landing sensor and the schedule, whose runs it launches.

The daemon starts once for the module (it needs up to a minute for the schedule's tick) and
ticks while the other tests run; it is stopped by its process group's id."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from orchestration import env
from orchestration.cli.serve import daemon_command, prepare_instance, spawn, stop
from tests.conftest import invoke, land, sample_cards, write_listing
from tests.postgres import PostgresCluster
from transforms.errors import UserError

#: The date the landing sensor is to pick up, and the one the CLI test runs.
SENSOR_DATE = dt.date(2026, 11, 20)
CLI_DATE = dt.date(2026, 11, 21)
SCHEDULE = "papertrends_daily_schedule"
#: Seconds after the daemon's start by which its every-minute schedule must have launched a run.
SCHEDULE_DEADLINE_S = 200
#: Variables that change the instance config, cleared for each test of its rendering.
INSTANCE_ENV = (
    "PAPERTRENDS_DAGSTER_PG_URL",
    "PAPERTRENDS_WAREHOUSE",
    "PAPERTRENDS_MAX_WAREHOUSE_RUNS",
)


def _wait_for(what: str, timeout_s: float, probe, daemon_log: Path | None = None):
    """Poll ``probe`` until it returns something truthy (returned); fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not (found := probe()):
        if time.monotonic() > deadline:
            tail = daemon_log.read_text(errors="replace")[-3000:] if daemon_log else ""
            pytest.fail(f"{what} within {timeout_s:.0f} s\n{tail}")
        time.sleep(0.5)
    return found


def _sqlite_files(home: env.Home) -> list[Path]:
    return [p for p in home.dagster_home.rglob("*.db") if p.is_file()]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in INSTANCE_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# ------------------------------------------------------------------ the dagster.yaml rendering


def _config(home: env.Home) -> dict:
    return yaml.safe_load((home.dagster_home / "dagster.yaml").read_text(encoding="utf-8"))


def _queue_limit(config: dict) -> dict:
    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    (limit,) = coordinator["config"]["tag_concurrency_limits"]
    return limit


def test_sqlite_by_default_with_the_run_queue(clean_env, tmp_path: Path) -> None:
    from orchestration.definitions import defs

    home = env.home(tmp_path / "home").ensure()
    config = _config(home)
    assert "storage" not in config
    assert _queue_limit(config) == {"key": "papertrends/warehouse", "value": "write", "limit": 1}
    # the daily job's runs carry the tag the queue limits
    assert defs.resolve_job_def("papertrends_daily").tags.items() >= env.WAREHOUSE_RUN_TAG.items()
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"


def test_postgres_from_the_url_and_back(
    clean_env, tmp_path: Path, postgres: PostgresCluster
) -> None:
    from dagster_postgres import PostgresRunStorage

    postgres.create_database("dagster_render")
    home = env.home(tmp_path / "home").ensure()
    sqlite_config = _config(home)
    # trust authentication accepts any password; it is written for the owner's eyes only
    url = f"postgresql://postgres:s%40cret@127.0.0.1:{postgres.port}/dagster_render"
    clean_env.setenv("PAPERTRENDS_DAGSTER_PG_URL", f"{url}?connect_timeout=5")
    home.ensure()
    config_path = home.dagster_home / "dagster.yaml"
    assert _config(home)["storage"] == {
        "postgres": {
            "postgres_db": {
                "hostname": "127.0.0.1",
                "port": postgres.port,
                "username": "postgres",
                "db_name": "dagster_render",
                "scheme": "postgresql+psycopg2",  # SQLAlchemy 2.1 would pick psycopg 3
                "password": "s@cret",
                "params": {"connect_timeout": "5"},
            }
        }
    }
    assert config_path.stat().st_mode & 0o777 == 0o600
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
    with postgres.connect("dagster_render") as con, con.cursor() as cur:
        cur.execute("select count(*) from information_schema.tables where table_name = 'runs'")
        assert cur.fetchone() == (1,)

    # without a password in the URL, nothing secret is in the file (libpq reads PGPASSWORD)
    clean_env.setenv("PAPERTRENDS_DAGSTER_PG_URL", postgres.url("dagster_render"))
    home.ensure()
    assert "password" not in _config(home)["storage"]["postgres"]["postgres_db"]
    assert config_path.stat().st_mode & 0o777 == 0o644

    clean_env.delenv("PAPERTRENDS_DAGSTER_PG_URL")
    home.ensure()
    assert _config(home) == sqlite_config


def test_ducklake_warehouse_allows_a_few_runs_at_once(clean_env, tmp_path: Path) -> None:
    home = env.home(tmp_path / "home")
    clean_env.setenv("PAPERTRENDS_WAREHOUSE", "ducklake:postgres:dbname=lake host=127.0.0.1")
    assert _queue_limit(_config(home.ensure()))["limit"] == 2
    clean_env.setenv("PAPERTRENDS_MAX_WAREHOUSE_RUNS", "3")
    assert _queue_limit(_config(home.ensure()))["limit"] == 3
    clean_env.setenv("PAPERTRENDS_MAX_WAREHOUSE_RUNS", "0")
    with pytest.raises(UserError, match="PAPERTRENDS_MAX_WAREHOUSE_RUNS must be"):
        home.ensure()


def test_a_file_written_by_hand_is_kept(clean_env, tmp_path: Path) -> None:
    home = env.home(tmp_path / "home").ensure()
    own = (
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
    )
    (home.dagster_home / "dagster.yaml").write_text(own, encoding="utf-8")
    clean_env.setenv("PAPERTRENDS_DAGSTER_PG_URL", "postgresql://u@db.example/dagster")
    home.ensure()
    assert (home.dagster_home / "dagster.yaml").read_text(encoding="utf-8") == own


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://u@db.example/dagster", "it must start with postgresql://"),
        ("postgresql://u@db.example:port/dagster", "Port could not be cast"),
        ("postgresql://db.example/dagster", "it needs a user and a host"),
        ("postgresql://u@db.example", "it needs one database name"),
    ],
)
def test_a_malformed_url_is_one_line_naming_the_variable(
    clean_env, tmp_path: Path, url: str, problem: str
) -> None:
    clean_env.setenv("PAPERTRENDS_DAGSTER_PG_URL", url)
    listing = write_listing(tmp_path / "page.txt", sample_cards()[:2])
    result = invoke("--home", str(tmp_path / "home"), "run", "--listing", str(listing))
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("papertrends: PAPERTRENDS_DAGSTER_PG_URL is not a postgresql://")
    assert problem in line


# ----------------------------------------------------------------- runs on PostgreSQL, daemon


@dataclass
class Daemon:
    home: env.Home
    url: str
    log: Path
    started: float

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home.dagster_home))


@pytest.fixture(scope="module")
def daemon(postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """``dagster-daemon run`` (started as ``papertrends serve`` starts it) on a home whose
    instance is on PostgreSQL, with the schedule every minute and a listing already landed
    for the sensor's first tick."""
    postgres.create_database("dagster_daemon")
    root = tmp_path_factory.mktemp("daemon") / "home"
    with pytest.MonkeyPatch.context() as patch:
        for name in (*INSTANCE_ENV, "PAPERTRENDS_SOURCES"):
            patch.delenv(name, raising=False)
        patch.setenv("PAPERTRENDS_DAGSTER_PG_URL", postgres.url("dagster_daemon"))
        patch.setenv("PAPERTRENDS_SCHEDULE_CRON", "* * * * *")
        patch.setenv("PAPERTRENDS_HOME", str(root))
        patch.setenv("DAGSTER_HOME", str(root / "dagster"))
        home = prepare_instance(str(root))
        land(home, SENSOR_DATE, "page.txt", sample_cards()[:6])
        log = root / "daemon.log"
        with open(log, "wb") as output:
            proc = spawn(daemon_command(), home.root, output)
        try:
            yield Daemon(home, postgres.url("dagster_daemon"), log, time.time())
        finally:
            stop({"dagster-daemon": proc})


def test_a_cli_run_is_recorded_in_postgres(
    daemon: Daemon,  # started first: it ticks meanwhile
    postgres: PostgresCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    postgres.create_database("dagster_cli")
    monkeypatch.setenv("PAPERTRENDS_DAGSTER_PG_URL", postgres.url("dagster_cli"))
    listing = write_listing(tmp_path / "page.txt", sample_cards()[10:16])
    home = env.home(tmp_path / "home")
    args = ("--home", str(home.root), "run", "--listing", str(listing))
    result = invoke(*args, "--date", CLI_DATE.isoformat())
    assert result.exit_code == 0, result.stderr[-3000:]
    assert "6 papers parsed" in result.stdout

    with postgres.connect("dagster_cli") as con, con.cursor() as cur:
        cur.execute("select run_id, status from runs")
        ((run_id, status),) = cur.fetchall()
        assert status == "SUCCESS"
        cur.execute(
            "select count(*) from event_logs"
            " where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
            (run_id,),
        )
        assert cur.fetchone()[0] > 10
        cur.execute(
            "select count(*) from run_tags where run_id = %s and key = %s",
            (run_id, "papertrends/warehouse"),
        )
        assert cur.fetchone() == (1,)  # the tag, though this run never went through the queue
    assert _sqlite_files(home) == []


def _runs_of(instance: dg.DagsterInstance, tags: dict[str, str]) -> list[dg.RunRecord]:
    return list(instance.get_run_records(dg.RunsFilter(tags=tags)))


def test_the_daemon_launches_the_landing_sensors_run(daemon: Daemon) -> None:
    with daemon.instance() as instance:

        def finished() -> list[dg.RunRecord]:
            records = _runs_of(instance, {"dagster/sensor_name": "landing_sensor"})
            return records if records and records[0].dagster_run.is_finished else []

        (record,) = _wait_for("the sensor's run did not finish", 150, finished, daemon.log)
        run = record.dagster_run
        assert run.status == dg.DagsterRunStatus.SUCCESS, daemon.log.read_text()[-3000:]
        assert run.tags["dagster/partition"] == SENSOR_DATE.isoformat()
        assert run.tags["papertrends/warehouse"] == "write"  # what the queue limits
    with psycopg2.connect(daemon.url) as con, con.cursor() as cur:
        cur.execute("select status from runs where run_id = %s", (run.run_id,))
        assert cur.fetchone() == ("SUCCESS",)
    assert _sqlite_files(daemon.home) == []


def test_the_daemon_ticks_the_schedule(daemon: Daemon) -> None:
    with daemon.instance() as instance:

        def all_ticks() -> list:
            states = [s for s in instance.all_instigator_state() if s.instigator_name == SCHEDULE]
            if not states:
                return []
            return list(instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id))

        def launched() -> list:
            return [t for t in all_ticks() if t.status.value == "SUCCESS" and t.run_ids]

        # The daemon loads the code (tens of seconds on a loaded machine), the schedule's first
        # tick is the minute boundary after that, and the scheduler looks every few seconds: a
        # generous deadline from the daemon's start, which only a failure waits out.
        wait = SCHEDULE_DEADLINE_S - (time.time() - daemon.started)
        try:
            ticks = _wait_for("no schedule tick launched a run", max(wait, 5), launched, daemon.log)
        except pytest.fail.Exception as failed:
            seen = [(t.status.value, t.run_ids, t.error and t.error.message) for t in all_ticks()]
            raise AssertionError(f"ticks seen: {seen}\n{failed}") from None
        run = instance.get_run_by_id(ticks[0].run_ids[0])
        assert run is not None and run.tags["dagster/schedule_name"] == SCHEDULE
        assert run.tags["papertrends/warehouse"] == "write"
        today = dt.datetime.fromtimestamp(ticks[0].timestamp, dt.UTC).date()
        assert run.tags["dagster/partition"] == today.isoformat()
