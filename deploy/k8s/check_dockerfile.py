"""Replay the Dockerfile's steps without a docker daemon, then check the result.

No image can be built here (no daemon, no registry but PyPI), so this script reads the
repo's ``Dockerfile`` and replays its steps in a temporary folder that stands for the
image's file system (``<tmp>/image/...``):

* ``ENV`` and ``WORKDIR`` set the environment and the working directory (image paths are
  mapped into the folder: ``/opt/venv`` is ``<tmp>/image/opt/venv``);
* ``COPY`` copies from the repo, leaving out what ``.dockerignore`` excludes;
* ``RUN`` runs each ``&&``-joined command: ``python``/``pip`` with the image's ``PATH`` (so
  after ``python -m venv /opt/venv`` it is the venv's python; before it, this machine's
  Python 3.11 stands for the base image's), ``mkdir`` as is; the system steps a throwaway
  venv cannot do (``useradd``, ``groupadd``, ``chown``, ``apt-get``) are listed as skipped.

Then, with the image's environment only (none of this shell's PAPERTRENDS_*), it checks:
the dbt manifest exists; ``orchestration.definitions`` imports from another working
directory (as a run pod's ``dagster api execute_run`` may), finds its dbt project in the
WORKDIR and writes nothing there (a read-only code tree works); ``dagster_k8s`` and DuckDB's
httpfs extension are installed; the ``CMD`` (``dagster api grpc``, on 127.0.0.1 and a free
port instead of 0.0.0.0:3030) serves: ``dagster api grpc-health-check`` answers.

    .venv/bin/python deploy/k8s/check_dockerfile.py            # a few minutes (pip, PyPI)
    .venv/bin/python deploy/k8s/check_dockerfile.py --keep     # keep the folder to look at

Exit 0 when every check passes, 1 with the failed check's message otherwise. The test
suite does not run this (too slow); tests/test_deploy_k8s.py checks the cheap things.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: the base image's PATH (python:3.11-slim)
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: RUN commands that change the system, not the venv: not replayed, listed
SYSTEM_COMMANDS = {"useradd", "groupadd", "chown", "chmod", "apt-get", "apt", "rm"}
PYTHON_NAMES = {"python", "python3", "python3.11"}


class CheckFailed(Exception):
    pass


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined and
    comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1].rstrip() + " "
            continue
        current += line
        keyword, _, args = current.strip().partition(" ")
        out.append((keyword.upper(), args.strip()))
        current = ""
    if current.strip():
        raise CheckFailed(f"the Dockerfile ends inside a continued line: {current.strip()!r}")
    return out


def dockerignore_patterns(repo: Path = REPO) -> list[str]:
    path = repo / ".dockerignore"
    if not path.exists():
        return []
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            raise CheckFailed(f".dockerignore: exceptions ({line}) are not replayed")
        patterns.append(line.strip("/"))
    return patterns


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore excludes the context path ``relative`` (or a folder above it):
    Go's filepath.Match per pattern, ``**/`` matching any number of folders."""
    parts = relative.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and any(
                fnmatch.fnmatchcase("/".join(prefix.split("/")[j:]), pattern[3:])
                for j in range(len(prefix.split("/")))
            ):
                return True
    return False


def copy_sources(args: str) -> tuple[list[str], str]:
    """COPY's sources and destination (flags such as --chown dropped)."""
    words = [w for w in shlex.split(args) if not w.startswith("--")]
    if args.lstrip().startswith("["):
        words = json.loads(args)
    if len(words) < 2:
        raise CheckFailed(f"COPY needs a source and a destination: {args!r}")
    return words[:-1], words[-1]


def base_python() -> str:
    """The Python that stands for the base image's (3.11, as python:3.11-slim)."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if not found:
        raise CheckFailed("no Python 3.11 here to stand for python:3.11-slim's")
    return found


class Replay:
    def __init__(self, tmp: Path, repo: Path = REPO) -> None:
        self.repo = repo
        self.root = tmp / "image"
        self.root.mkdir(parents=True)
        self.env: dict[str, str] = {"PATH": BASE_PATH}
        self.workdir = "/"
        self.cmd: list[str] = []
        self.user = "root"
        self.skipped: list[str] = []
        self.patterns = dockerignore_patterns(repo)

    # -- paths and variables --------------------------------------------------------------
    def host(self, image_path: str) -> Path:
        """Where an image path lives in the replay (relative ones under the WORKDIR)."""
        if not image_path.startswith("/"):
            image_path = f"{self.workdir.rstrip('/')}/{image_path}"
        return self.root / image_path.lstrip("/")

    def expand(self, text: str) -> str:
        def value(match: re.Match) -> str:
            return self.env.get(match.group(1) or match.group(2), "")

        return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)

    def host_env(self) -> dict[str, str]:
        """The image's environment as a process here sees it: absolute paths mapped into the
        replay (PATH's entries too, then this machine's system folders for the tools the
        base image has), and nothing from this shell but HOME, LANG and TMPDIR."""
        env = {}
        for key, val in self.env.items():
            if key == "PATH":
                entries = [str(self.host(p)) for p in val.split(":") if p]
                env[key] = ":".join([*entries, "/usr/local/bin", "/usr/bin", "/bin"])
            elif val.startswith("/"):
                env[key] = str(self.host(val))
            else:
                env[key] = val
        env["HOME"] = str(self.root / "root")
        (self.root / "root").mkdir(exist_ok=True)
        for key in ("LANG", "TMPDIR"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    # -- instructions ---------------------------------------------------------------------
    def apply(self, keyword: str, args: str) -> None:
        handler = getattr(self, f"do_{keyword.lower()}", None)
        if handler is None:
            raise CheckFailed(f"{keyword} is not replayed")
        handler(args)

    def do_from(self, args: str) -> None:
        if not args.startswith("python:3.11"):
            raise CheckFailed(f"the base image is {args}, not python:3.11-*")

    def do_env(self, args: str) -> None:
        for word in shlex.split(args):
            key, sep, val = word.partition("=")
            if not sep:
                raise CheckFailed(f"ENV {args!r}: use KEY=value")
            self.env[key] = self.expand(val)

    def do_workdir(self, args: str) -> None:
        self.workdir = self.expand(args) if args.startswith("/") else f"{self.workdir}/{args}"
        self.host(self.workdir).mkdir(parents=True, exist_ok=True)

    def do_copy(self, args: str) -> None:
        sources, dest = copy_sources(args)
        target = self.host(self.expand(dest))
        for source in sources:
            src = self.repo / source
            if not src.exists():
                raise CheckFailed(f"COPY {source}: not in the repo")
            if src.is_dir():
                for path in sorted(src.rglob("*")):
                    rel = path.relative_to(self.repo).as_posix()
                    if path.is_dir() or ignored(rel, self.patterns):
                        continue
                    out = target / path.relative_to(src)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, out)
            else:
                if ignored(source, self.patterns):
                    raise CheckFailed(f"COPY {source}: .dockerignore excludes it")
                out = target / src.name if dest.endswith("/") else target
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, out)

    def do_run(self, args: str) -> None:
        for command in re.split(r"\s*&&\s*", args):
            words = shlex.split(self.expand(command))
            if not words:
                continue
            if words[0] in SYSTEM_COMMANDS:
                self.skipped.append(" ".join(words))
                continue
            if words[0] == "mkdir":
                argv = [
                    "mkdir",
                    *(w if w.startswith("-") else str(self.host(w)) for w in words[1:]),
                ]
            elif words[0] in PYTHON_NAMES | {"pip", "pip3"}:
                argv = [self.program(words[0]), *[self.map_arg(w) for w in words[1:]]]
            else:
                raise CheckFailed(f"RUN {words[0]}: not replayed (python, pip, mkdir only)")
            print(f"  $ {' '.join(words)}", flush=True)
            done = subprocess.run(
                argv, cwd=self.host(self.workdir), env=self.host_env(), check=False
            )
            if done.returncode != 0:
                raise CheckFailed(f"RUN {' '.join(words)}: exit {done.returncode}")

    def program(self, name: str) -> str:
        """``name`` looked up on the image's PATH in the replay; the base image's Python when
        it is not there yet (before the venv exists)."""
        for entry in self.env["PATH"].split(":"):
            candidate = self.host(entry) / name
            if entry and candidate.exists():
                return str(candidate)
        if name in PYTHON_NAMES:
            return base_python()
        raise CheckFailed(f"RUN {name}: not on the image's PATH yet")

    def map_arg(self, word: str) -> str:
        return str(self.host(word)) if word.startswith("/") else word

    def do_user(self, args: str) -> None:
        self.user = args

    def do_cmd(self, args: str) -> None:
        if not args.startswith("["):
            raise CheckFailed("CMD: use the exec (JSON) form")
        self.cmd = json.loads(args)

    def do_volume(self, args: str) -> None:
        pass

    def do_expose(self, args: str) -> None:
        pass

    def do_label(self, args: str) -> None:
        pass

    def do_arg(self, args: str) -> None:
        key, _, val = args.partition("=")
        self.env.setdefault(key, val)


# -- checks ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


IMPORT_CHECK = """
import json, os, sys
import orchestration.definitions as d
from orchestration import env
import dagster_k8s
from transforms.ducklake import extension_path
keys = d.defs.resolve_asset_graph().get_all_asset_keys()
print(json.dumps({
    "repo_root": str(env.REPO_ROOT),
    "dbt_project": str(env.DBT_PROJECT_DIR),
    "dbt": env.DBT_EXECUTABLE,
    "assets": len(keys),
    "k8s_run_launcher": dagster_k8s.K8sRunLauncher.__name__,
    "httpfs": extension_path("httpfs"),
}))
"""


def check_image(replay: Replay) -> dict:
    app = replay.host(replay.workdir)
    manifest = app / "dbt_project" / "target" / "manifest.json"
    if not manifest.exists():
        raise CheckFailed(f"no dbt manifest at {manifest} after the build steps")
    before = {p: p.stat().st_mtime_ns for p in app.rglob("*") if p.is_file()}
    env = replay.host_env()
    elsewhere = replay.root / "elsewhere"  # not the WORKDIR: the code must not rely on it
    elsewhere.mkdir(exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(
        [replay.program("python"), "-c", IMPORT_CHECK],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CheckFailed(f"importing orchestration.definitions failed:\n{done.stderr[-3000:]}")
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    facts["import_s"] = round(time.perf_counter() - started, 1)
    if Path(facts["repo_root"]) != app:
        raise CheckFailed(f"the code runs from {facts['repo_root']}, not the WORKDIR {app}")
    venv = replay.env.get("VIRTUAL_ENV", "/opt/venv")
    if not Path(facts["dbt"]).is_relative_to(replay.host(venv)):
        raise CheckFailed(f"dbt is {facts['dbt']}, not the venv's")
    after = {p: p.stat().st_mtime_ns for p in app.rglob("*") if p.is_file()}
    written = sorted(
        str(p.relative_to(app))
        for p in after
        if before.get(p) != after[p] and "__pycache__" not in p.parts
    )
    if written:
        raise CheckFailed(f"loading the definitions wrote into the code tree: {written}")
    return facts


def check_cmd(replay: Replay, timeout_s: float = 180.0) -> float:
    """Start the CMD (on 127.0.0.1 and a free port) and wait for its health check; stop it."""
    if replay.cmd[:3] != ["dagster", "api", "grpc"]:
        raise CheckFailed(f"CMD is {replay.cmd}, not dagster api grpc")
    port = free_port()
    argv = list(replay.cmd)
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if flag not in argv:
            raise CheckFailed(f"CMD has no {flag}")
        argv[argv.index(flag) + 1] = value
    argv[0] = replay.program("dagster")
    env = replay.host_env()
    log = (replay.root / "grpc.log").open("w")
    started = time.perf_counter()
    server = subprocess.Popen(
        argv, cwd=replay.host(replay.workdir), env=env, stdout=log, stderr=log
    )
    try:
        while time.perf_counter() - started < timeout_s:
            if server.poll() is not None:
                raise CheckFailed(f"the gRPC server exited {server.returncode}: see {log.name}")
            probe = subprocess.run(
                [argv[0], "api", "grpc-health-check", "-p", str(port)],
                env=env,
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                return round(time.perf_counter() - started, 1)
            time.sleep(2)
        raise CheckFailed(f"no healthy gRPC server after {timeout_s:.0f} s")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dockerfile", type=Path, default=REPO / "Dockerfile")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="papertrends-image-"))
    total = time.perf_counter()
    try:
        replay = Replay(tmp)
        for keyword, rest in instructions(args.dockerfile.read_text(encoding="utf-8")):
            step = time.perf_counter()
            print(f"{keyword} {rest}", flush=True)
            replay.apply(keyword, rest)
            if keyword == "RUN":
                print(f"  ({time.perf_counter() - step:.1f} s)", flush=True)
        for command in replay.skipped:
            print(f"skipped (system step, not replayed): {command}")
        facts = check_image(replay)
        print(f"definitions load from another folder: {json.dumps(facts)}")
        print(f"CMD serves: healthy after {check_cmd(replay)} s")
        print(f"all checks passed in {time.perf_counter() - total:.0f} s (user {replay.user})")
        return 0
    except CheckFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
