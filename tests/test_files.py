"""transforms.files: atomic writes, the sweeping of their leftovers, the readers-writer lock,
lock files that show their process is alive, one-line messages."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from transforms.files import (
    LockTimeout,
    atomic_write,
    link_into_place,
    locked_file,
    move_into_place,
    new_tmp_file,
    one_line,
    readers_writer_lock,
    sweep_stale_tmp,
    try_lock,
)


def test_atomic_write_bytes_text_and_a_writer(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    atomic_write(target, "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    atomic_write(target, b"\x00bytes", mode=0o600)
    assert target.read_bytes() == b"\x00bytes" and target.stat().st_mode & 0o777 == 0o600
    atomic_write(target, lambda tmp: Path(tmp).write_text("by the writer"))
    assert target.read_text() == "by the writer"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]  # no temporary left


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def fails(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fails)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_sweep_removes_dead_writers_and_old_files_and_keeps_live_ones(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(dead.stdout)  # a process that has exited
    of_dead = tmp_path / f".digest.md.{dead_pid}.abc123.tmp"
    of_live = tmp_path / f".digest.md.{os.getpid()}.def456.tmp"
    old = tmp_path / ".feed.xml.tmp"  # no pid in the name: judged by its age
    young = tmp_path / ".entry.json.tmp"
    kept = tmp_path / "digest.md"
    for path in (of_dead, of_live, old, young, kept):
        path.write_text("x")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))

    removed = sweep_stale_tmp(tmp_path, max_age_s=3600)
    assert sorted(removed) == sorted([of_dead, old])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [of_live.name, young.name, kept.name]
    )
    assert sweep_stale_tmp(tmp_path / "missing") == []


def test_a_write_in_two_halves_lands_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "day" / "snapshot.jsonl"
    tmp = new_tmp_file(target)  # creates the folder
    assert tmp.parent == target.parent and tmp.read_bytes() == b""
    name, pid, _random, suffix = tmp.name.rsplit(".", 3)
    assert (name, pid, suffix) == (".snapshot.jsonl", str(os.getpid()), "tmp")
    with open(tmp, "ab") as handle:
        handle.write(b"a\n")
    with open(tmp, "ab") as handle:
        handle.write(b"b\n")
    assert not target.exists()  # nothing in place before the move
    assert move_into_place(tmp, target) == target
    assert target.read_bytes() == b"a\nb\n" and target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["snapshot.jsonl"]


def test_a_failed_move_into_place_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    tmp = new_tmp_file(target)
    tmp.write_text("new")
    with pytest.raises(FileNotFoundError):
        move_into_place(tmp, tmp_path / "missing" / "out.txt")  # no such folder
    assert target.read_text() == "old" and tmp.read_text() == "new"  # the caller removes it
    tmp.unlink()
    with pytest.raises(FileNotFoundError):
        move_into_place(tmp, target)  # a temporary file that is gone
    assert target.read_text() == "old"


def test_link_into_place_never_replaces_and_removes_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "page.txt"
    tmp = new_tmp_file(target)
    tmp.write_text("first")
    link_into_place(tmp, target)
    assert target.read_text() == "first" and (target.stat().st_mode & 0o777) == 0o644
    tmp = new_tmp_file(target)
    tmp.write_text("second")
    with pytest.raises(FileExistsError):
        link_into_place(tmp, target)  # a concurrent writer landed the name first
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.txt"]


def test_sweep_of_tempfile_folders_by_their_age(tmp_path: Path) -> None:
    old, young = tmp_path / "tmpold123", tmp_path / "tmpyoung4"
    for folder in (old, young):
        (folder / "compiled").mkdir(parents=True)
        (folder / "compiled" / "model.sql").write_text("select 1")
    cache = tmp_path / "partial_parse.msgpack"
    cache.write_text("x")
    hours_ago = time.time() - 7 * 3600
    for path in (cache, old):
        os.utime(path, (hours_ago, hours_ago))

    assert sweep_stale_tmp(tmp_path, max_age_s=6 * 3600, pattern="tmp*") == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["partial_parse.msgpack", "tmpyoung4"]
    assert sweep_stale_tmp(tmp_path, max_age_s=6 * 3600) == []  # default: .*.tmp only


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("a\n  b\tc ", {}, "a b c"),
        ("\n\n  first  line \nsecond", {"first": True}, "first line"),
        ("", {"first": True}, ""),
        (ValueError("bad\nvalue"), {"first": True}, "bad"),
        ("Binder Error: no\n   column  x\n      ^\n", {"last": True}, "column x"),
        ("only line", {"last": True}, "only line"),
        ("  \n ^ \n", {"last": True}, ""),
        ("login failed for s3cret", {"secret": "s3cret"}, "login failed for ***"),
        ("no secret here", {"secret": None}, "no secret here"),
    ],
)
def test_one_line(text: object, kwargs: dict, expected: str) -> None:
    assert one_line(text, **kwargs) == expected


# ---------------------------------------------------------------------------- the lock

_HOLD = """
import sys, time
from pathlib import Path
from transforms.files import readers_writer_lock
with readers_writer_lock(Path(sys.argv[1]), shared=sys.argv[2] == "shared"):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def _holder(lock: Path, mode: str, seconds: float) -> subprocess.Popen:
    """Another process holding the lock for ``seconds`` (once it printed "held")."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lock), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_readers_share_the_lock_and_a_writer_is_alone(tmp_path: Path) -> None:
    lock = tmp_path / "w.lock"
    reader = _holder(lock, "shared", 30)
    try:
        with readers_writer_lock(lock, shared=True, timeout_s=0):
            pass  # readers share it
        waits: list[None] = []
        with (
            pytest.raises(LockTimeout),
            readers_writer_lock(
                lock, shared=False, timeout_s=0.3, on_wait=lambda: waits.append(None)
            ),
        ):
            pass
        assert waits == [None]  # told once, however long it waited
    finally:
        reader.kill()
        reader.wait()
    with readers_writer_lock(lock, shared=False, timeout_s=0):  # the holder died: free
        pass


def test_a_writer_without_timeout_waits_until_the_holder_is_done(tmp_path: Path) -> None:
    lock = tmp_path / "w.lock"
    writer = _holder(lock, "exclusive", 1.0)
    started = time.monotonic()
    with readers_writer_lock(lock, shared=False):  # no timeout: waits for the holder
        waited = time.monotonic() - started
    writer.wait()
    assert waited > 0.8  # the holder held it 1 s after saying so


def test_a_thread_of_the_same_process_waits_too(tmp_path: Path) -> None:
    lock = tmp_path / "w.lock"
    order: list[str] = []
    with readers_writer_lock(lock, shared=False):

        def other() -> None:
            with readers_writer_lock(lock, shared=True):
                order.append("reader")

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)
        order.append("writer done")
    thread.join(5)
    assert order == ["writer done", "reader"]


# ------------------------------------------------------------- lock files of live processes

_LIVE = """
import sys, time
from pathlib import Path
from transforms.files import locked_file
with locked_file(Path(sys.argv[1]), b"alive"):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_locked_file_is_held_while_its_process_lives(tmp_path: Path) -> None:
    marker = tmp_path / "runs" / "run-1.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", _LIVE, str(marker)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        assert marker.read_bytes() == b"alive" and marker.stat().st_mode & 0o777 == 0o644
        assert sorted(p.name for p in marker.parent.iterdir()) == ["run-1.lock"]
        with try_lock(marker) as mine:
            assert not mine  # its process is alive
    finally:
        proc.kill()  # SIGKILL: no clean-up, the file stays
        proc.wait()
    with try_lock(marker) as mine:
        assert mine  # the lock died with its process: the file is a dead run's
        with try_lock(marker) as again:
            assert not again  # held by this block now
    with try_lock(tmp_path / "missing.lock") as mine:
        assert not mine
    assert not (tmp_path / "missing.lock").exists()  # never created


def test_a_locked_file_is_removed_when_its_block_ends_or_fails(tmp_path: Path) -> None:
    marker = tmp_path / "run-2.lock"
    with locked_file(marker, b"1234\n"):
        assert marker.read_bytes() == b"1234\n"
        with try_lock(marker) as mine:
            assert not mine  # a lock of another open file: refused, in this process too
    assert list(tmp_path.iterdir()) == []

    with pytest.raises(RuntimeError, match="step failed"), locked_file(marker):
        raise RuntimeError("step failed")
    assert list(tmp_path.iterdir()) == []

    blocker = tmp_path / "taken"
    blocker.mkdir()
    with pytest.raises(IsADirectoryError), locked_file(blocker):
        pass  # a folder in the way: the rename fails, no temporary file is left
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
