"""Helpers for the metadata assets and checks show in the Dagster UI."""

from collections.abc import Iterable, Sequence


def markdown_table(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    """A Markdown table; cells are one line, pipes escaped, cut at 120 characters."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(c).replace("|", "\\|").replace("\n", " ")[:120] for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
