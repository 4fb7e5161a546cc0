"""``papertrends keyphrases``: the pipeline's extractor on a JSONL file."""

from __future__ import annotations

import click

from transforms.errors import UserError
from transforms.files import one_line


@click.command(short_help="extract keyphrases from a JSONL file with the pipeline's extractor")
@click.option("--input", "input_path", required=True, help="input JSONL file")
@click.option("--output", "output_path", required=True, help="output JSONL file")
@click.option("--top", type=int, default=10, show_default=True, help="keyphrases per document")
@click.option("--workers", type=int, help="processes (default: one per core)")
def keyphrases(input_path: str, output_path: str, top: int, workers: int | None) -> None:
    """Read lines {"id": ..., "text": ...} and write lines {"id": ..., "keyphrases": [...]}
    (best first), with exactly the extractor and cleaning the pipeline uses."""
    from transforms.keyphrases import extract_jsonl

    try:
        written = extract_jsonl(input_path, output_path, top=top, workers=workers)
    except (OSError, ValueError) as exc:
        raise UserError(one_line(exc, first=True) or type(exc).__name__) from None
    click.echo(f"wrote keyphrases of {written} document(s) to {output_path}")
