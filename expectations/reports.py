"""A result's report: ``<suite>__<window>.json`` and GX's Data Docs page next to it.

Both are written atomically (``transforms.files.atomic_write``): a reader sees the old
report or the new one. The HTML page is rendered in memory (no site, no store) from GX's
own result: with chunks, the page of ``html_chunk``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from expectations.gx import gx
from expectations.results import SuiteResult
from transforms.files import atomic_write

log = logging.getLogger(__name__)


def report_stem(result: SuiteResult) -> str:
    date_part = result.listing_date or "all"
    return f"{result.suite}__{date_part}"


def render_html(result: SuiteResult) -> str | None:
    """GX Data Docs page for the validation, rendered in memory (no site, no store).

    The page references Bootstrap/jQuery from public CDNs: offline it opens
    unstyled but complete.  None when there is no GX result (skipped/missing).
    """
    if result.gx_result is None:
        return None
    gx()
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    document = ValidationResultsPageRenderer().render(result.gx_result)
    return DefaultJinjaPageView().render(document)


def save_report(result: SuiteResult, directory: Path, *, html: bool = True) -> Path:
    """Write ``<suite>__<date>.json`` atomically; return its path.

    With ``html=True`` (default) also write the GX Data Docs page next to it as
    ``<suite>__<date>.html`` (best effort: a rendering error is logged, not raised).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = report_stem(result)
    path = directory / f"{stem}.json"
    payload = result.to_json()
    atomic_write(path, json.dumps(payload, indent=2, sort_keys=False, allow_nan=False) + "\n")
    if html:
        try:
            page = render_html(result)
        except Exception as exc:
            log.warning("GX Data Docs rendering failed for %s: %s", stem, exc)
            page = None
        if page is not None:
            atomic_write(directory / f"{stem}.html", page)
    return path
