"""``papertrends parse``: what ingest would make of one listing file (nothing is written)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orchestration.cli._common import format_rows
from transforms.errors import UserError


def parsed_document(path: Path) -> dict:
    """What ingest would make of one file, as the JSON ``papertrends parse`` prints."""
    import dataclasses

    from transforms.formats import parse_file
    from transforms.records import ListingFileError

    try:
        result, sha = parse_file(path)
    except ListingFileError as exc:
        return {
            "file": str(path),
            "format": None,
            "records": [],
            "rejected": [{"position": 0, "reason": str(exc), "raw_text": ""}],
            "error": str(exc),
        }
    hidden = {"raw_text", "lines"}
    records = [
        {k: v for k, v in dataclasses.asdict(r).items() if k not in hidden} for r in result.records
    ]
    return {
        "file": str(path),
        "format": result.format,
        "encoding": result.encoding,
        "sha256": sha,
        "warnings": result.warnings,
        "records": records,
        "rejected": [
            {"position": r.line, "reason": r.reason, "raw_text": r.raw_text}
            for r in result.rejections
        ],
        "chrome_lines": len(result.chrome),
    }


@click.command(short_help="show what a listing file would give, without touching the warehouse")
@click.argument("file")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_context
def parse(ctx: click.Context, file: str, fmt: str) -> None:
    """Detect a listing file's format (from its content: page text or Markdown, HF API JSON,
    arXiv API or feed XML, arXiv snapshot JSON Lines) and print the records and the rejected
    entries with their reasons, exactly as ingest would parse them. Nothing is written."""
    doc = parsed_document(Path(file))
    if fmt == "json":
        click.echo(json.dumps(doc, default=str, ensure_ascii=False, indent=1))
        ctx.exit(1 if doc.get("error") else 0)
    if doc.get("error"):
        raise UserError(doc["error"])
    records, rejected = doc["records"], doc["rejected"]
    click.echo(
        f"{file}: {doc['format']} ({doc['encoding']}), {len(records)} record(s), "
        f"{len(rejected)} rejected, {doc['chrome_lines']} page-text line(s) dropped"
    )
    for warning in doc["warnings"]:
        click.echo(f"warning: {warning}")
    columns = ["position", "arxiv_id", "title", "authors", "upvotes", "published", "github_url"]
    rows = [
        (
            r["position"],
            r["arxiv_id"],
            r["title"],
            len(r["authors"]) or r["author_count"],
            r["upvotes"],
            r["published"],
            r["github_url"],
        )
        for r in records
    ]
    click.echo(format_rows(columns, rows, "table", max_width=70))
    if rejected:
        click.echo("rejected:")
        rows = [(r["position"], r["reason"], r["raw_text"][:60]) for r in rejected]
        click.echo(format_rows(["position", "reason", "raw_text"], rows, "table", max_width=70))
