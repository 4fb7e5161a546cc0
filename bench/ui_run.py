"""UI/daemon run against CLI run (issue 15): a run of the sample's date launched from the UI
(and by the landing sensor) takes no more than 1.2x the CLI's.

    .venv/bin/python bench/ui_run.py [--runs N] [--keep] [--no-sensor] [--dagster-yaml FILE]

Each run uses three fresh temporary homes and times, one after another (never two at once):

1. CLI: ``papertrends --home H1 run --listing data/samples/hf_papers_sequence.txt
   --date 2026-11-02`` as a subprocess, wall time (start-up included, as a user waits for it);
2. UI: ``papertrends --home H2 serve`` on a free port of 127.0.0.1; once the webserver answers
   /server_info, its code location is loaded and the daemon has ticked the landing sensor
   (its code location loaded too), the sensor is stopped (``dagster sensor stop``, so it does
   not launch a second run of the date), the sample lands in H2/landing/2026-11-02/ (as
   ``papertrends run`` lands it) and the daily job is launched for the partition through the
   webserver's GraphQL API (``launchRun``, the job's selector, tag dagster/partition, the run
   config that fetches nothing, as the CLI's and the sensor's): what the UI's "Materialize"
   does. Timed from the launch request to the run's end (its run record), in parts: queued
   (create -> start: the daemon's dequeue, the run worker's launch), start-up in the run
   worker (start -> first step start: imports, code load, plan), steps, and the tail;
3. sensor: the same on H3 with the sensor left on; the sample lands right after a sensor
   tick ended (the worst case: the next tick is a whole interval, 30 s, away) and the run
   the sensor launches is timed from the landing, in the same parts (landing -> run
   created: the sensor's wait for its next tick).

Then the table and the ratios to the CLI's wall time (target <= 1.2) for each run and the
worst: the UI's run (request -> end), the sensor's run (created -> end), and apart the
sensor's from the landing (its interval included).
``serve`` is always stopped by its PID (SIGTERM to its process group, SIGKILL to what is left
after 60 s), also on failure or Ctrl-C. ``--dagster-yaml FILE`` copies a hand-written
instance config (one not starting with "# Written by papertrends", kept as is) into H2 and H3
before serve starts: a way to try run-queue settings (e.g. dequeue_interval_seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = REPO_ROOT / "data" / "samples" / "hf_papers_sequence.txt"
WORKSPACE = REPO_ROOT / "deploy" / "workspace.yaml"
DATE = "2026-11-02"
JOB = "papertrends_daily"
SENSOR = "landing_sensor"
BIN = Path(sys.executable).parent
TARGET = 1.2
#: serve's line naming its children: "papertrends serve: dagster-webserver N, dagster-daemon M"
STARTED = re.compile(r"dagster-webserver (\d+), dagster-daemon (\d+)")
SENSOR_TICK = "Checking for new runs for sensor: landing_sensor"
MATERIALIZED = re.compile(r"materialized \S+ in ([0-9.]+)s")

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
  }
}"""
WORKSPACE_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename
      ... on RepositoryLocation { name repositories { name } }
      ... on PythonError { message } } } } } }"""
RUN_STATUS = """
query Status($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }"""
RUNS_OF_DATE = """
query Runs($value: String!) {
  runsOrError(filter: {tags: [{key: "dagster/partition", value: $value}]}) {
    __typename ... on Runs { results { runId status } } } }"""
SENSOR_STATUS = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename ... on Sensor { sensorState { status
      ticks(limit: 1) { tickId status timestamp endTimestamp } } } } }"""


def log(msg: str) -> None:
    print(f"[ui_run {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(what: str, check, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def fetch_nothing() -> dict:
    """The run config of the CLI's and the sensor's runs: no source fetched (the landed
    file is the day's listing)."""
    sys.path.insert(0, str(REPO_ROOT))
    from orchestration.defs.fetch import fetch_run_config

    return fetch_run_config(set())


def land(root: Path) -> None:
    """The sample into <root>/landing/<DATE>/, as ``papertrends run`` lands it."""
    sys.path.insert(0, str(REPO_ROOT))
    from transforms.landing import land_files

    land_files(root / "landing" / DATE, [SAMPLE])


# ---------------------------------------------------------------------------- run records


@dataclass
class Timing:
    """One run's figures, seconds; ``t0`` is the clock start (a request, a landing)."""

    label: str
    total: float
    parts: dict[str, float] = field(default_factory=dict)
    steps: list[tuple[str, float, float]] = field(default_factory=list)  # key, start, end
    note: str = ""
    run_s: float = 0.0  # run created -> run end (for the sensor: without its wait)


def _epoch(value) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    return float(value)


def run_figures(root: Path, run_id: str | None = None) -> dict:
    """From the home's Dagster instance: the run (``run_id``, else the only run of DATE)'s
    status, create/start/end times (epoch seconds) and its steps' (key, start, end)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(root / "dagster")) as instance:
        if run_id is None:
            records = instance.get_run_records(
                dg.RunsFilter(tags={"dagster/partition": DATE}), limit=10
            )
            if not records:
                raise RuntimeError(f"no run of {DATE} in {root}")
            record = records[-1]  # the first
            n_runs = len(records)
        else:
            record = instance.get_run_record_by_id(run_id)
            n_runs = len(instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": DATE})))
        events: dict[str, float] = {}
        for entry in instance.all_logs(record.dagster_run.run_id):
            event = entry.dagster_event
            if event is None or event.step_key is not None:
                continue
            name = event.event_type_value
            if name == "ENGINE_EVENT" and (event.message or "").startswith("Started process"):
                name = "PROCESS_STARTED"  # the run worker's process, as its launcher says
                pid = re.search(r"pid: (\d+)", event.message or "")
                if pid:
                    events.setdefault("worker_pid", int(pid.group(1)))
            events.setdefault(name, entry.timestamp)
        steps = [
            (s.step_key, s.start_time, s.end_time)
            for s in instance.get_run_step_stats(record.dagster_run.run_id)
            if s.start_time and s.end_time
        ]
        return {
            "run_id": record.dagster_run.run_id,
            "status": record.dagster_run.status.value,
            "create": _epoch(record.create_timestamp),
            "start": record.start_time,
            "end": record.end_time,
            "steps": sorted(steps, key=lambda s: s[1]),
            "runs_of_date": n_runs,
            "events": events,
        }


def split(label: str, t0: float, run: dict, created_part: str) -> Timing:
    """The launched run's parts, from ``t0`` (the clock start) to the run's end. The queue
    (create -> start) is split by the run's own events: ENQUEUED (after the planned
    materializations are written), STARTING (the daemon dequeued it), the launcher's
    "Started process" (the run worker's process), RUN_START (the worker loaded the code)."""
    steps = run["steps"]
    first = steps[0][1] if steps else run["end"]
    last = max((s[2] for s in steps), default=run["end"])
    ev = run["events"]
    enqueued = ev.get("PIPELINE_ENQUEUED", run["create"])
    starting = ev.get("PIPELINE_STARTING", enqueued)
    process = ev.get("PROCESS_STARTED", starting)
    parts = {
        created_part: run["create"] - t0,
        "queued (create -> start)": run["start"] - run["create"],
        "  create -> ENQUEUED (planned events written)": enqueued - run["create"],
        "  ENQUEUED -> STARTING (daemon's dequeue)": starting - enqueued,
        "  STARTING -> worker process started": process - starting,
        "  worker process -> RUN_START (imports, code)": run["start"] - process,
        "RUN_START -> 1st step": first - run["start"],
        "steps (1st step start -> last step end)": last - first,
        "tail (last step end -> run end)": run["end"] - last,
    }
    note = "" if run["runs_of_date"] == 1 else f"{run['runs_of_date']} runs of {DATE}!"
    return Timing(label, run["end"] - t0, parts, steps, note, run["end"] - run["create"])


# ---------------------------------------------------------------------------- CLI


def cli_run(root: Path) -> Timing:
    cmd = [
        str(BIN / "papertrends"),
        *("--home", str(root), "run", "--listing", str(SAMPLE), "--date", DATE),
    ]
    log(f"CLI: {' '.join(cmd)}")
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
    wall = time.time() - t0
    (root.parent / "cli.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"papertrends run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    run = run_figures(root)
    steps = run["steps"]
    first = steps[0][1] if steps else run["end"]
    last = max((s[2] for s in steps), default=run["end"])
    parts = {
        "process start -> run created (imports, land, load)": run["create"] - t0,
        "run created -> 1st step": first - run["create"],
        "steps (1st step start -> last step end)": last - first,
        "last step end -> process exit": t0 + wall - last,
    }
    match = MATERIALIZED.search(proc.stdout)
    note = f"CLI says materialized in {match.group(1)} s" if match else ""
    return Timing("CLI", wall, parts, steps, note)


# ---------------------------------------------------------------------------- CPU


def session_cpu(sessions: list[int]) -> dict[int, tuple[int, str, float]]:
    """pid -> (ppid, command, CPU seconds) of the processes in those sessions (serve's
    children each lead one: they, their code servers, the run worker and its children)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[int, str, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[3]) in sessions:
            cpu = (int(fields[11]) + int(fields[12])) / tick
            out[int(entry.name)] = (int(fields[1]), cmd, cpu)
    return out


def _role(cmd: str) -> str:
    if "dagster-webserver" in cmd or "dagster_webserver" in cmd:
        return "webserver"
    if "dagster-daemon" in cmd or "dagster_daemon" in cmd:
        return "daemon"
    if "api grpc" in cmd or "code_server" in cmd or "grpc" in cmd:
        return "code servers"
    return "other"


def background_cpu(before: dict, after: dict, worker: int | None) -> str:
    """The CPU serve's processes used between two snapshots, the run worker's tree apart."""

    def in_worker(pid: int) -> bool:
        seen = set()
        while pid in after and pid not in seen:
            if pid == worker:
                return True
            seen.add(pid)
            pid = after[pid][0]
        return pid == worker

    roles: dict[str, float] = {}
    for pid, (_, cmd, cpu) in after.items():
        used = cpu - (before[pid][2] if pid in before else 0.0)
        role = "run worker" if in_worker(pid) else _role(cmd)
        roles[role] = roles.get(role, 0.0) + used
    others = sum(v for k, v in roles.items() if k != "run worker")
    shown = ", ".join(f"{k} {v:.1f}" for k, v in sorted(roles.items()) if k != "run worker")
    return (
        f"CPU of serve's processes during it: {others:.1f} s besides the run worker"
        f" ({shown}); the run worker (alive at the end) {roles.get('run worker', 0.0):.1f} s"
    )


# ---------------------------------------------------------------------------- serve


def graphql(url: str, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        body = json.load(resp)
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


class Serve:
    """``papertrends --home ROOT serve`` on a free port, in a session of its own; stopped by
    its PID on exit (SIGTERM to its group: it stops its children; SIGKILL after 60 s to its
    group and to its children's groups, whose PIDs its first line names)."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root.parent / f"serve-{root.name}.log"
        self.proc: subprocess.Popen | None = None
        self.children: list[int] = []

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> Serve:
        cmd = [str(BIN / "papertrends"), "--home", str(self.root), "serve"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        log(f"serve: {' '.join(cmd)}")
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                start_new_session=True,
                preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _alive(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"serve exited ({self.proc.returncode}): {self.text()[-3000:]}")
        return True

    def _wait_ready(self) -> None:
        t = time.monotonic()
        match = wait_until(
            "serve's children", lambda: self._alive() and STARTED.search(self.text()), 60
        )
        self.children = [int(match.group(1)), int(match.group(2))]

        def answers() -> bool:
            self._alive()
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=2) as resp:
                    return resp.status == 200
            except (urllib.error.URLError, OSError):
                return False

        wait_until("/server_info", answers, 180)

        def loaded():
            self._alive()
            data = graphql(self.url, WORKSPACE_QUERY)["workspaceOrError"]
            for entry in data.get("locationEntries") or []:
                loc = entry.get("locationOrLoadError") or {}
                if loc.get("__typename") == "PythonError":
                    raise RuntimeError(f"code location failed to load: {loc['message']}")
                if entry["loadStatus"] == "LOADED" and loc.get("repositories"):
                    return entry["name"], loc["repositories"][0]["name"]
            return None

        self.location, self.repository = wait_until("the code location", loaded, 180, 1)
        # the daemon's own code location is loaded once it ticks the sensor
        wait_until("the daemon's first sensor tick", lambda: SENSOR_TICK in self.text(), 180)
        log(f"serve ready in {time.monotonic() - t:.0f} s ({self.location}/{self.repository})")

    def stop(self) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            log("serve did not stop in 60 s; killing it")
        for group in [pgid, *self.children]:  # what is left of serve and its children
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.proc = None

    # --------------------------------------------------------------------- GraphQL calls

    def stop_sensor(self) -> None:
        """``dagster sensor stop`` against this home's instance, then checked in the UI."""
        env = dict(
            os.environ,
            PAPERTRENDS_HOME=str(self.root),
            DAGSTER_HOME=str(self.root / "dagster"),
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        proc = subprocess.run(
            [str(BIN / "dagster"), "sensor", "stop", SENSOR, "-w", str(WORKSPACE)],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=env,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dagster sensor stop failed: {proc.stderr[-2000:]}")
        status = self.sensor_state()["status"]
        if status != "STOPPED":
            raise RuntimeError(f"the sensor is {status} after dagster sensor stop")

    def sensor_state(self) -> dict:
        selector = {
            "repositoryLocationName": self.location,
            "repositoryName": self.repository,
            "sensorName": SENSOR,
        }
        state = graphql(self.url, SENSOR_STATUS, {"selector": selector})["sensorOrError"]
        return state.get("sensorState") or {}

    def last_tick(self) -> dict | None:
        """The sensor's latest tick once it has ended (None while one is running)."""
        ticks = self.sensor_state().get("ticks") or []
        if ticks and ticks[0]["status"] != "STARTED" and ticks[0]["endTimestamp"]:
            return ticks[0]
        return None

    def launch(self, run_config: dict) -> str:
        params = {
            "selector": {
                "repositoryLocationName": self.location,
                "repositoryName": self.repository,
                "jobName": JOB,
            },
            "runConfigData": run_config,
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": DATE}]},
        }
        result = graphql(self.url, LAUNCH, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launchRun: {result}")
        return result["run"]["runId"]

    def wait_done(self, run_id: str, timeout: float = 900) -> str:
        def done():
            self._alive()
            status = graphql(self.url, RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
            return status if status in {"SUCCESS", "FAILURE", "CANCELED"} else None

        status = wait_until(f"run {run_id}", done, timeout, 1.0)  # the end is the record's
        if status != "SUCCESS":
            raise RuntimeError(f"run {run_id} ended {status}; log: {self.log_path}")
        return status

    def runs_of_date(self) -> list[dict]:
        return graphql(self.url, RUNS_OF_DATE, {"value": DATE})["runsOrError"]["results"]


def prepare(root: Path, dagster_yaml: Path | None) -> None:
    if dagster_yaml is not None:
        (root / "dagster").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dagster_yaml, root / "dagster" / "dagster.yaml")


def launched_timing(
    root: Path,
    run_id: str,
    n_runs: int,
    labels: tuple[str, str],
    t0: float,
    cpu: tuple[dict, dict],
) -> Timing:
    """A launched run's Timing from its events (``labels``: the row's name and the name of
    the part before the run was created), the runs of the date seen by serve counted, and
    the CPU serve's other processes used between the ``cpu`` snapshots in its note."""
    run = run_figures(root, run_id)
    run["runs_of_date"] = max(run["runs_of_date"], n_runs)
    timing = split(labels[0], t0, run, labels[1])
    worker = run["events"].get("worker_pid")
    timing.note = "; ".join(n for n in (timing.note, background_cpu(*cpu, worker)) if n)
    return timing


def ui_run(root: Path, run_config: dict, dagster_yaml: Path | None) -> Timing:
    prepare(root, dagster_yaml)
    with Serve(root) as serve:
        serve.stop_sensor()
        land(root)
        log("UI: launchRun ...")
        cpu_before = session_cpu(serve.children)
        t0 = time.time()
        run_id = serve.launch(run_config)
        serve.wait_done(run_id)
        cpu_after = session_cpu(serve.children)
        log(f"UI: run {run_id} done in {time.time() - t0:.1f} s")
        time.sleep(1)  # a stray second run of the date would show here
        n_runs = len(serve.runs_of_date())
    return launched_timing(
        root,
        run_id,
        n_runs,
        ("UI (GraphQL launchRun)", "request -> run created"),
        t0,
        (cpu_before, cpu_after),
    )


def sensor_run(root: Path, dagster_yaml: Path | None) -> Timing:
    prepare(root, dagster_yaml)
    with Serve(root) as serve:
        # land right after a tick ended: the next one is a whole interval away (worst case)
        before = wait_until("an ended sensor tick", serve.last_tick, 120, 0.2)["tickId"]

        def new_tick():
            tick = serve.last_tick()
            return tick if tick and tick["tickId"] != before else None

        tick = wait_until("the next ended sensor tick", new_tick, 120, 0.1)
        t0 = time.time()
        land(root)
        log(
            f"sensor: landed {t0 - tick['endTimestamp']:.1f} s after a tick ended;"
            " waiting for its run ..."
        )
        cpu_before = session_cpu(serve.children)
        runs = wait_until("the sensor's run", serve.runs_of_date, 180, 0.5)
        run_id = runs[-1]["runId"]
        serve.wait_done(run_id)
        cpu_after = session_cpu(serve.children)
        log(f"sensor: run {run_id} done in {time.time() - t0:.1f} s after the landing")
        time.sleep(1)
        n_runs = len(serve.runs_of_date())
    return launched_timing(
        root,
        run_id,
        n_runs,
        ("sensor (landing -> end)", "landing -> run created (sensor)"),
        t0,
        (cpu_before, cpu_after),
    )


# ---------------------------------------------------------------------------- report


def table(runs: list[dict[str, Timing]]) -> str:
    out: list[str] = []
    for i, figures in enumerate(runs, 1):
        cli = figures["cli"]
        out.append(f"run {i}")
        for t in figures.values():
            ratio = "" if t is cli else f"  {t.total / cli.total:.2f} x CLI"
            out.append(f"  {t.label:<52} {t.total:7.1f} s{ratio}")
            for name, value in t.parts.items():
                out.append(f"    {name:<50} {value:7.1f} s")
            if t.steps:
                slow = sorted(t.steps, key=lambda s: s[2] - s[1], reverse=True)[:3]
                out.append(
                    "    slowest steps: "
                    + ", ".join(f"{k} {e - s:.1f} s" for k, s, e in slow)
                    + f" ({len(t.steps)} steps)"
                )
            if t.note:
                out.append(f"    {t.note}")
    # the figures the target is about: a launched run against the CLI's, both from what
    # starts them (the request; the sensor's run record) to the end; the sensor's wait for
    # its next tick (up to its interval) apart
    ratios = {
        "UI (request -> end)": lambda f: f["UI"].total,
        "sensor (run created -> end)": lambda f: f["sensor"].run_s,
        "sensor (landing -> end, worst case)": lambda f: f["sensor"].total,
    }
    out.append("")
    out.append(f"{'ratio to the CLI run':<40} {'each run':<22} worst  target  met")
    for name, value in ratios.items():
        key = name.split()[0]
        if not all(key in f for f in runs):
            continue
        each = [value(f) / f["cli"].total for f in runs]
        met = "yes" if max(each) <= TARGET else "NO"
        if name.endswith("worst case)"):
            met = f"({met}: includes the sensor's interval)"
        shown = ", ".join(f"{r:.2f}" for r in each)
        out.append(f"{name:<40} {shown:<22} {max(each):5.2f}  <= {TARGET}  {met}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out.append(f"{os.cpu_count()} cores, load average {load}")
    return "\n".join(out)


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=1, help="repeat the three runs N times")
    p.add_argument("--keep", action="store_true", help="keep the temporary homes and logs")
    p.add_argument("--no-sensor", action="store_true", help="skip the sensor's run")
    p.add_argument(
        "--dagster-yaml",
        type=Path,
        help="a hand-written dagster.yaml for the UI's and the sensor's homes",
    )
    args = p.parse_args(argv)
    # a SIGTERM (a timeout, a CI job cancelled) unwinds like Ctrl-C: serve is stopped
    signal.signal(signal.SIGTERM, _interrupt)
    if args.dagster_yaml is not None and not args.dagster_yaml.is_file():
        p.error(f"{args.dagster_yaml}: not a file")
    run_config = fetch_nothing()  # imports Dagster here, before anything is timed
    results: list[dict[str, Timing]] = []
    for i in range(args.runs):
        base = Path(tempfile.mkdtemp(prefix="papertrends-uirun-"))
        log(f"run {i + 1}/{args.runs} in {base}")
        ok = False
        try:
            figures = {"cli": cli_run(base / "cli")}
            figures["UI"] = ui_run(base / "ui", run_config, args.dagster_yaml)
            if not args.no_sensor:
                figures["sensor"] = sensor_run(base / "sensor", args.dagster_yaml)
            results.append(figures)
            ok = True
        finally:
            if args.keep or not ok:
                log(f"kept {base}")
            else:
                shutil.rmtree(base, ignore_errors=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
