"""The README's layout section names what is in the tree, and the tree holds what it names:
every module of the packages is listed under its folder, and every listed path exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("orchestration", "transforms", "expectations")
#: a line's leading names: "keyphrases.py, keyphrase_lexicon.py, lexicon/" (then its text)
NAMES = re.compile(r"^( *)((?:[\w.-]+/?)(?:, [\w.-]+/?)*)")
#: lines indented this deep continue the description of the line above
CONTINUATION = 16


def layout_block(readme: str) -> list[str]:
    section = readme.split("\n## Layout\n", 1)[1]
    return section.split("```\n", 2)[1].splitlines()


def listed_paths(lines: list[str]) -> set[str]:
    """The paths the layout names, each under the folders it is indented beneath (two
    spaces a level)."""
    paths: set[str] = set()
    parents: list[str] = []
    for line in lines:
        match = NAMES.match(line)
        indent = len(line) - len(line.lstrip(" "))
        if not match or indent >= CONTINUATION:
            continue
        names = [n for n in match.group(2).split(", ") if "." in n or n.endswith("/")]
        if not names:
            continue
        level = indent // 2
        parents = parents[:level]
        for name in names:
            paths.add("/".join([*parents, name.rstrip("/")]))
        if len(names) == 1 and names[0].endswith("/"):
            parents.append(names[0].rstrip("/"))
    return paths


def test_the_layout_parser_reads_nesting_and_lists() -> None:
    lines = [
        "pkg/          a package:",
        "  a.py          text",
        "  b.py, c/      text naming d.py",
        "                continued, e.py",
        "  sub/          a folder:",
        "    f.py          text",
        "other/        text",
    ]
    assert listed_paths(lines) == {
        "pkg",
        "pkg/a.py",
        "pkg/b.py",
        "pkg/c",
        "pkg/sub",
        "pkg/sub/f.py",
        "other",
    }


def test_every_listed_path_exists() -> None:
    listed = listed_paths(layout_block((ROOT / "README.md").read_text(encoding="utf-8")))
    assert {"orchestration/defs/ingest.py", "expectations/runner.py"} <= listed
    assert sorted(p for p in listed if not (ROOT / p).exists()) == []


def test_every_module_is_listed() -> None:
    listed = listed_paths(layout_block((ROOT / "README.md").read_text(encoding="utf-8")))
    modules = {
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    }
    # a folder listed with nothing under it (cli/, formats/) stands for its modules
    leaves = [p for p in listed if not any(q.startswith(f"{p}/") for q in listed)]
    unlisted = [
        m for m in modules if m not in listed and not any(m.startswith(f"{p}/") for p in leaves)
    ]
    assert sorted(unlisted) == []
