"""Scale benchmark (issue 10): backfill, one new day, rising query, memory and size.

    .venv/bin/python bench/scale.py [--days-small 20] [--days-large 250] [--papers-per-day 50]
                                    [--quick] [--seed 10] [--keep]

One run prints one table. Each history is built in a fresh temporary home by a worker
process of this script (so the environment is set before ``orchestration`` is imported, and
memory is measured for that history alone):

1. a deterministic history of N listing days x P papers (consecutive weekdays) is written as
   pasted-page files into landing/<date>/; papers are recombined from real titles/abstracts
   (the bundled sample plus Inspec's all_union.jsonl, read from ../shared at run time, never
   copied): a title from one paper with a few words taken from another, an abstract from the
   sentences of 2-3 papers; 10-20% of each day's cards re-list papers of the previous days;
2. one backfill over the whole range (``materialize(home, first, until=last)``, no fetching),
   timed, while the peak RSS of the process tree is sampled from /proc;
3. one new weekday after it (a single-date materialize), timed, in a second, fresh worker
   process, as a daily run is (a `papertrends run`, or a Dagster run in its own process),
   never the process that did the backfill. Start-up stays off the clock as before: the
   definitions and the modules a run imports lazily (GE, dbt) are loaded first. Two more
   days follow, the last through `papertrends backfill --from D --to D`, whose wall time
   (start-up included) is reported apart;
4. warehouse size after the backfill, its growth after the new day and after two more
   (a run rewrites what changed; DuckDB reuses the space it freed, so the file should grow
   by about the day's own data);
5. the README's "what is rising this week" SQL, 20 times on one read-only connection
   (median ms), and the ``papertrends query`` CLI once (wall time, start-up included).

``--quick`` runs tiny sizes (6 and 12 days x 10 papers) to check the harness itself;
``--papers-per-day 275 --days-large 365`` is the 100k-paper case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = REPO_ROOT / "data" / "samples" / "hf_papers_sequence.txt"
INSPEC_ALL = REPO_ROOT / ".." / "shared" / "bench" / "keyphrase" / "inspec" / "all_union.jsonl"
FIRST_DAY = dt.date(2023, 1, 2)  # a Monday; every generated date is a past weekday

RISING_SQL = """\
select t.label, tt.papers_current, tt.papers_reference, tt.z_score, tt.status,
       tt.bursting_since
from topic_trends as tt
join topics as t using (topic)
where tt.as_of_date = (select max(as_of_date) from topic_trends)
  and (tt.status in ('rising', 'new') or tt.bursting_since is not null)
order by tt.z_score desc;"""

HEADER = ["Get trending papers in your email inbox once a day!", "Subscribe"]

# ---------------------------------------------------------------------------- generator

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
_BREAK = re.compile(r"[.!?;]\s|[.!?;]$")
_WORD_OK = re.compile(r"^[A-Za-z][A-Za-z-]{3,}$")


def _fold(title: str) -> str:
    return " ".join(re.findall(r"[0-9a-z]+", title.lower()))


def load_sources(extra: list[Path]) -> list[tuple[str, str]]:
    """(title, abstract) pairs: the bundled sample's cards, then each JSONL file's "text"."""
    sys.path.insert(0, str(REPO_ROOT))
    from transforms.listing import parse_listing_file  # pure Python, no environment read

    result, _ = parse_listing_file(SAMPLE)
    pairs = [(r.title, r.abstract) for r in result.records if r.title and r.abstract]
    for path in extra:
        if not path.is_file():
            print(
                f"note: {path} not found, generating from the bundled sample only", file=sys.stderr
            )
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                title, _, abstract = json.loads(line)["text"].partition("\n")
                title, abstract = " ".join(title.split()), " ".join(abstract.split())
                # a title with a sentence break reads as a blurb on a pasted page: skipped
                if 10 <= len(title) <= 250 and len(abstract) >= 200 and not _BREAK.search(title):
                    pairs.append((title, abstract))
    return pairs


class Generator:
    """Distinct, realistic papers recombined from real ones (seeded, deterministic)."""

    def __init__(self, sources: list[tuple[str, str]], seed: int):
        self.rng = random.Random(seed)
        self.sources = sources
        self.sentences = [[s for s in _SENT.split(a) if len(s) > 20] or [a] for _, a in sources]
        self.seen: set[str] = set()

    def _title(self) -> str:
        rng = self.rng
        for attempt in range(50):
            base = rng.choice(self.sources)[0].split()
            donor = [w for w in rng.choice(self.sources)[0].split() if _WORD_OK.match(w)]
            slots = [i for i, w in enumerate(base) if _WORD_OK.match(w)]
            if donor and slots:
                for i in rng.sample(slots, min(len(slots), rng.randint(1, 3 + attempt // 10))):
                    w = rng.choice(donor)
                    base[i] = w.capitalize() if base[i][:1].isupper() else w.lower()
            title = " ".join(base).rstrip(".")
            key = _fold(title)
            if key and key not in self.seen and 15 <= len(title) <= 250 and len(base) >= 3:
                self.seen.add(key)
                return title
        raise RuntimeError("could not generate a distinct title")

    def _abstract(self) -> str:
        rng = self.rng
        parts: list[str] = []
        for k in range(rng.randint(2, 3)):
            sents = self.sentences[rng.randrange(len(self.sentences))]
            n = rng.randint(1, min(3, len(sents)))
            start = 0 if k == 0 else rng.randrange(len(sents) - n + 1)
            parts += sents[start : start + n]
        text = " ".join(parts)[:1800].strip()
        return text if text.endswith((".", "!", "?")) else text + "."

    def paper(self) -> tuple[str, str]:
        return self._title(), self._abstract()

    def paper_about(self, term: str) -> tuple[str, str]:
        """A paper on ``term``: named in its title and three times in its abstract."""
        title, abstract = self.paper()
        cap = term[:1].upper() + term[1:]
        return (
            f"{cap}: {title}",
            f"{cap} is the subject of this work. {abstract} "
            f"Experiments on {term} benchmarks confirm the gains of our {term} design.",
        )


@dataclass(frozen=True)
class Plant:
    """A topic planted in a history: ``share(i, n)`` of the new papers of listing day i
    (0-based, of n) are about ``term``."""

    term: str
    share: Callable[[int, int], float]


def even(share: float) -> Callable[[int, int], float]:
    """The same share every day."""
    return lambda i, n: share


def rising_from(start: float, share: float, before: float = 0.0) -> Callable[[int, int], float]:
    """``before`` until the ``start`` fraction of the days, ``share`` from then on."""
    return lambda i, n: share if i >= start * n else before


def weekdays(first: dt.date, n: int) -> list[dt.date]:
    days, d = [], first
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


def write_day(landing: Path, day: dt.date, cards: list[tuple[str, str]]) -> Path:
    path = landing / day.isoformat() / "hf-papers.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = list(HEADER)
    for title, abstract in cards:
        lines += [title, abstract]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class History:
    """N days x P cards; 10-20% of each day's cards re-list papers of the last 10 days.
    With ``plants`` (and ``days``, the history's length), a share of each day's new papers
    is about each planted term."""

    def __init__(self, gen: Generator, per_day: int, plants: Sequence[Plant] = (), days: int = 0):
        self.gen, self.per_day = gen, per_day
        self.plants, self.days = plants, days
        self.recent: list[list[tuple[str, str]]] = []  # the new papers of the last days
        self.new_papers = self.relisted = 0

    def _new_paper(self) -> tuple[str, str]:
        for plant in self.plants:
            if self.gen.rng.random() < plant.share(len(self.recent), self.days):
                return self.gen.paper_about(plant.term)
        return self.gen.paper()

    def day(self) -> list[tuple[str, str]]:
        rng = self.gen.rng
        pool = [p for day in self.recent[-10:] for p in day]
        n_old = min(len(pool), round(self.per_day * rng.uniform(0.10, 0.20))) if pool else 0
        old = rng.sample(pool, n_old)
        new = [self._new_paper() for _ in range(self.per_day - n_old)]
        self.recent.append(new)
        self.new_papers += len(new)
        self.relisted += n_old
        cards = old + new
        rng.shuffle(cards)
        return cards


# ---------------------------------------------------------------------------- memory


class TreeRss:
    """Peak summed RSS of this process and all its descendants, sampled from /proc."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            try:
                with open(f"/proc/{pid}/statm", "rb") as fh:
                    total += int(fh.read().split()[1]) * self._page
            except OSError:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def _size(home_root: Path) -> int:
    return sum(
        p.stat().st_size
        for p in (home_root / "warehouse.duckdb", home_root / "warehouse.duckdb.wal")
        if p.exists()
    )


# ---------------------------------------------------------------------------- worker


def _open_home(args: argparse.Namespace) -> tuple[Path, Any]:
    """The worker's home (args.home), set in the environment before ``orchestration`` is
    imported: (its root, its env.Home)."""
    root = Path(args.home).resolve()
    os.environ["PAPERTRENDS_HOME"] = str(root)
    os.environ["DAGSTER_HOME"] = str(root / "dagster")
    sys.path.insert(0, str(REPO_ROOT))
    from orchestration import env

    home = env.home(root).ensure()
    env.export_for_subprocesses(home)
    return root, home


def worker(args: argparse.Namespace) -> None:
    """Build one history in a fresh home; write the figures as JSON to args.out."""
    root, home = _open_home(args)

    t = time.perf_counter()
    gen = Generator(load_sources([Path(p) for p in args.sources]), args.seed)
    hist = History(gen, args.papers_per_day)
    days = weekdays(FIRST_DAY, args.days + 3)
    backfill_days, new_day, later_days = days[:-3], days[-3], days[-2:]
    for day in backfill_days:
        write_day(home.landing, day, hist.day())
    new_cards = hist.day()
    later_cards = [hist.day() for _ in later_days]
    gen_s = time.perf_counter() - t

    import orchestration.definitions  # noqa: F401  (loads, parses dbt if stale, off the clock)
    from orchestration.runs import materialize

    with TreeRss() as rss:
        t = time.perf_counter()
        materialize(home, backfill_days[0], until=backfill_days[-1], fetch=False)  # as `backfill`
        backfill_s = time.perf_counter() - t
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size_backfill = _size(root)

    figures = {
        "days": args.days,
        "per_day": args.papers_per_day,
        "first": backfill_days[0].isoformat(),
        "last": backfill_days[-1].isoformat(),
        "new_day": new_day.isoformat(),
        "new_papers": hist.new_papers,
        "relisted": hist.relisted,
        "generate_s": gen_s,
        "backfill_s": backfill_s,
        "rss_tree_peak": rss.peak,
        "rusage_self": self_kib * 1024,
        "rusage_children": children_kib * 1024,
        "size_backfill": size_backfill,
    }
    days_after = [(new_day, new_cards), *zip(later_days, later_cards, strict=True)]
    Path(args.out).write_text(
        json.dumps(figures | {"days_after": [(d.isoformat(), cards) for d, cards in days_after]})
    )


def daily_worker(args: argparse.Namespace) -> None:
    """The days after the backfill, in a fresh process (see the module docstring): the new
    day (timed), two more, then the sizes and the rising query; adds them to args.out."""
    root, home = _open_home(args)
    # Start-up stays off the clock, as in the backfill's process: the definitions, and what
    # the first run imports lazily (GE in the first check, dbt in dagster-dbt's adapter).
    # The last day goes through the CLI, start-up included, reported apart.
    import dbt.adapters.factory
    import dbt.parser.manifest  # noqa: F401
    import great_expectations  # noqa: F401

    import orchestration.definitions  # noqa: F401  (loads, parses dbt if stale, off the clock)  # noqa: F401
    from orchestration.defs.fetch import fetch_run_config
    from orchestration.query import connect_read_only
    from orchestration.runs import materialize

    figures = json.loads(Path(args.out).read_text())
    no_fetch = fetch_run_config(set())
    (new_day, new_cards), *later = [
        (dt.date.fromisoformat(d), [tuple(c) for c in cards])
        for d, cards in figures.pop("days_after")
    ]
    new_file_bytes = write_day(home.landing, new_day, new_cards).stat().st_size
    t = time.perf_counter()
    materialize(home, new_day, run_config=no_fetch)
    new_day_s = time.perf_counter() - t
    size_new = _size(root)
    cli = shutil.which("papertrends", path=str(Path(sys.executable).parent)) or "papertrends"
    (next_day, next_cards), (last_day, last_cards) = later
    write_day(home.landing, next_day, next_cards)
    materialize(home, next_day, run_config=no_fetch)
    write_day(home.landing, last_day, last_cards)
    t = time.perf_counter()
    day = last_day.isoformat()
    proc = subprocess.run(
        [cli, "--home", str(root), "backfill", "--from", day, "--to", day],
        capture_output=True,
        text=True,
    )
    cli_day_s = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"papertrends backfill failed: {proc.stderr.strip()}")
    size_later = _size(root)

    with connect_read_only(home) as con:
        papers = con.execute("select count(*) from papers").fetchone()[0]
        times, rows = [], []
        for _ in range(20):
            t = time.perf_counter()
            rows = con.execute(RISING_SQL).fetchall()
            times.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    proc = subprocess.run(
        [cli, "--home", str(root), "query", RISING_SQL], capture_output=True, text=True
    )
    cli_s = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"papertrends query failed: {proc.stderr.strip()}")

    Path(args.out).write_text(
        json.dumps(
            figures
            | {
                "papers_in_warehouse": papers,
                "new_day_s": new_day_s,
                "cli_day_s": cli_day_s,
                "size_new": size_new,
                "size_later": size_later,
                "new_file_bytes": new_file_bytes,
                "query_ms": times,
                "rising_rows": len(rows),
                "cli_query_s": cli_s,
            }
        )
    )


def run_worker(label: str, days: int, per_day: int, opts: argparse.Namespace) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"papertrends-scale-{label}-"))
    out = root / "figures.json"
    log = root / "worker.log"
    print(f"[{label}] {days} days x {per_day} papers in {root} ...", file=sys.stderr, flush=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_worker",
        "--home",
        str(root / "home"),
        "--out",
        str(out),
        "--days",
        str(days),
        "--papers-per-day",
        str(per_day),
        "--seed",
        str(opts.seed),
        "--sources",
        *opts.sources,
    ]
    t = time.perf_counter()
    with open(log, "w") as fh:
        for phase in (cmd, [sys.executable, cmd[1], "--_daily", *cmd[3:]]):
            proc = subprocess.run(phase, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
            if proc.returncode != 0:
                break
    text = log.read_text(errors="replace")
    if proc.returncode != 0 or not out.exists():
        sys.stderr.write(text[-4000:])
        raise SystemExit(f"[{label}] worker failed (exit {proc.returncode}); home kept: {root}")
    figures = json.loads(out.read_text())
    figures["warnings"] = sum(1 for line in text.splitlines() if line.startswith("warning:"))
    figures["worker_s"] = time.perf_counter() - t
    print(f"[{label}] done in {figures['worker_s']:.0f} s", file=sys.stderr, flush=True)
    if opts.keep:
        print(f"[{label}] kept {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return figures


# ---------------------------------------------------------------------------- report


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def report(small: dict, large: dict, quick: bool) -> str:
    big = large["days"] * large["per_day"] >= 100_000
    nominal_backfill = (365, 275) if big else (250, 50)
    at_size = (large["days"], large["per_day"]) == nominal_backfill
    # the new-day targets: a day of 50 papers after 250 listing days against after 20
    new_day_sizes = small["days"] == 20 and large["days"] >= 250 and large["per_day"] == 50
    ratio = large["new_day_s"] / small["new_day_s"] if small["new_day_s"] else float("inf")
    q = large["query_ms"]
    rows: list[tuple[str, str, str, str]] = []

    def met(ok: bool, exact: bool = True) -> str:
        word = "yes" if ok else "NO"
        return word if exact else f"({word})"

    for label, f in (("small", small), ("large", large)):
        rows.append(
            (
                f"{label} history: {f['days']} days x {f['per_day']}/day",
                f"{f['new_papers'] + f['relisted']:,} cards, {f['papers_in_warehouse']:,} papers"
                f" ({f['relisted']:,} re-listed), generated in {f['generate_s']:.1f} s",
                "",
                "",
            )
        )
    rows += [
        (f"backfill small ({small['days']} days)", f"{small['backfill_s']:.1f} s", "", ""),
        (
            "new day after small",
            f"{small['new_day_s']:.1f} s",
            "<= 20 s",
            met(small["new_day_s"] <= 20, new_day_sizes),
        ),
        (
            f"backfill large ({large['days']} x {large['per_day']})",
            f"{large['backfill_s']:.1f} s",
            "<= 20 min (365x275)" if big else "<= 5 min (250x50)",
            met(large["backfill_s"] <= (1200 if big else 300), at_size),
        ),
        (
            "new day after large",
            f"{large['new_day_s']:.1f} s",
            "<= 20 s",
            met(large["new_day_s"] <= 20, new_day_sizes),
        ),
        ("ratio new day large / small", f"{ratio:.2f}", "<= 1.2", met(ratio <= 1.2, new_day_sizes)),
        (
            "a later day by `papertrends backfill` (start-up included)",
            f"{small['cli_day_s']:.1f} s small, {large['cli_day_s']:.1f} s large",
            "(apart)",
            "",
        ),
        (
            "rising query, median of 20 (read-only con)",
            f"{statistics.median(q):.1f} ms (min {min(q):.1f}, max {max(q):.1f};"
            f" {large['rising_rows']} rows)",
            "< 100 ms",
            met(statistics.median(q) < 100),
        ),
        ("`papertrends query` CLI once (start-up)", f"{large['cli_query_s']:.2f} s", "(apart)", ""),
        (
            "peak RSS, process tree, large backfill",
            _mib(large["rss_tree_peak"]),
            "<= 4 GiB (365x275)",
            met(large["rss_tree_peak"] <= 4 * 2**30, big and at_size),
        ),
        (
            "  getrusage maxrss self + children",
            _mib(large["rusage_self"]) + " + " + _mib(large["rusage_children"]),
            "",
            "",
        ),
        ("warehouse after large backfill", _mib(large["size_backfill"]), "", ""),
        (
            "growth after the new day",
            f"{_mib(large['size_new'] - large['size_backfill'])}"
            f" (its listing file: {large['new_file_bytes'] / 1024:,.0f} KiB)",
            "",
            "",
        ),
        (
            "growth over the two days after it",
            _mib(large["size_later"] - large["size_new"]),
            "",
            "",
        ),
    ]
    w = [max(len(r[i]) for r in [*rows, ("figure", "value", "target", "met")]) for i in range(4)]
    line = "  ".join("-" * n for n in w)
    out = [
        "  ".join(
            h.ljust(n) for h, n in zip(("figure", "value", "target", "met"), w, strict=True)
        ).rstrip(),
        line,
    ]
    out += ["  ".join(c.ljust(n) for c, n in zip(r, w, strict=True)).rstrip() for r in rows]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out.append(line)
    out.append(
        f"{os.cpu_count()} cores, load average {load}; run warnings: "
        f"small {small['warnings']}, large {large['warnings']}"
    )
    if not (at_size and new_day_sizes) or quick:
        out.append("(yes)/(NO): sizes differ from the target's, indicative only")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days-small", type=int, default=20)
    p.add_argument("--days-large", type=int, default=250)
    p.add_argument("--papers-per-day", type=int, default=50)
    p.add_argument("--quick", action="store_true", help="6 and 12 days x 10 papers")
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--keep", action="store_true", help="keep the temporary homes")
    p.add_argument(
        "--sources",
        nargs="+",
        default=[str(INSPEC_ALL)],
        help="JSONL files with 'title\\nabstract' text (besides the sample)",
    )
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_daily", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--home", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--days", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._worker:
        worker(args)
        return 0
    if args._daily:
        daily_worker(args)
        return 0
    if args.quick:
        args.days_small, args.days_large, args.papers_per_day = 6, 12, 10
    if args.papers_per_day < 5:
        p.error("--papers-per-day must be >= 5 (the pasted-page format needs 5 cards a day)")
    small = run_worker("small", args.days_small, args.papers_per_day, args)
    large = run_worker("large", args.days_large, args.papers_per_day, args)
    print(report(small, large, args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
