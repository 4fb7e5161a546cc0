"""Download the day's paper listing from each source into ``landing/<date>/``.

Pure Python (httpx, no Dagster). Two sources:

- ``hf``: Hugging Face daily papers, ``GET {base}/api/daily_papers?date=D&limit=100&p=K``
  for K = 0, 1, ... until a page has fewer than ``limit`` items; one file per page,
  ``hf-daily-papers-D-pK.json``.
- ``arxiv``: the arXiv API (``export.arxiv.org/api/query``), the submissions of one
  announcement cycle in the configured categories (see :func:`arxiv_window`), paged by
  ``opensearch:totalResults``; one file per page, ``arxiv-D-startS.xml``.

Every response body is landed exactly as received, written atomically (temporary file,
then rename), and a hidden sidecar ``landing/<date>/.fetch-<source>.json`` (the landing
reader skips dot files) says what was fetched:

    {"source": "hf"|"arxiv", "listing_date": "YYYY-MM-DD", "fetched_at": ISO-8601 UTC,
     "status": "ok"|"no_listing"|"kept_previous"|"not_modified", "papers": int,
     "message": str, "files": [{"file": name, "url": str, "http_status": int,
     "etag": str|null, "last_modified": str|null, "bytes": int, "papers": int}]}

- ``ok``: the files were (re)written from this fetch.
- ``no_listing``: the source published nothing for the date (HF ``[]``, arXiv 0 entries,
  weekends and holidays): no listing file, only the sidecar; ``files`` holds the request
  with ``"file": null``. Not an error.
- ``kept_previous``: this fetch found fewer papers than the files already landed for the
  date (a feed that shrank to one paper): those files and their sidecar entries are kept.
- ``not_modified``: every page answered 304 to the conditional request sent from the
  previous sidecar's ``etag``/``last_modified``: the files are kept as they are.

HTTP: timeouts, retries with exponential backoff on 429, 5xx, transport errors and
timeouts (honouring ``Retry-After`` in seconds or as an HTTP date, capped), a User-Agent
naming papertrends, and a minimum interval between requests (arXiv asks for one request
every 3 seconds). When the retries run out, :class:`FetchError` carries one line naming
the source, the URL and the last status.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import time
import xml.etree.ElementTree as ET
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from filelock import FileLock

from transforms.files import atomic_write, one_line

__all__ = [
    "DEFAULT_ARXIV_API_URL",
    "DEFAULT_ARXIV_CATEGORIES",
    "DEFAULT_HF_BASE_URL",
    "SOURCES",
    "FetchError",
    "FetchOutcome",
    "FetchSettings",
    "HttpClient",
    "arxiv_window",
    "count_papers",
    "fetch_listing",
    "parse_retry_after",
    "read_sidecar",
    "sidecar_path",
    "user_agent",
]

SOURCES = ("hf", "arxiv")
DEFAULT_HF_BASE_URL = "https://huggingface.co"
DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_ARXIV_CATEGORIES = ("cs.LG", "cs.CL")

STATUSES = ("ok", "no_listing", "kept_previous", "not_modified")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_EASTERN = zoneinfo.ZoneInfo("America/New_York")

log = logging.getLogger(__name__)


class Logger(Protocol):
    def info(self, msg: str) -> Any: ...
    def warning(self, msg: str) -> Any: ...


class FetchError(Exception):
    """A fetch that failed for good; the message is one line naming source and URL."""


def user_agent(contact: str | None = None) -> str:
    """``papertrends/<version> (...; <contact>)``: who is asking, and how to reach them."""
    try:
        from importlib.metadata import version

        ver = version("papertrends")
    except Exception:  # not installed (a checkout on sys.path)
        ver = "0"
    who = (contact or "").strip() or "no contact configured (PAPERTRENDS_CONTACT)"
    if "@" in who and ":" not in who:
        who = f"mailto:{who}"
    return f"papertrends/{ver} (self-hosted research-trends digest; {who}) python-httpx"


@dataclass(frozen=True)
class FetchSettings:
    """Where the sources are and how politely to ask them. The defaults are for
    production; tests shrink the timeouts, backoff and intervals."""

    hf_base_url: str = DEFAULT_HF_BASE_URL
    arxiv_api_url: str = DEFAULT_ARXIV_API_URL
    arxiv_categories: tuple[str, ...] = DEFAULT_ARXIV_CATEGORIES
    hf_page_size: int = 100
    arxiv_page_size: int = 200
    max_pages: int = 100  # safety stop: 10,000 HF papers or 20,000 arXiv entries a day
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    attempts: int = 4  # requests per URL, the first one included
    backoff_s: float = 2.0  # waits backoff_s, 2*backoff_s, 4*backoff_s, ...
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 120.0  # a longer Retry-After is waited for this long
    arxiv_min_interval_s: float = 3.0  # arXiv API terms: at most one request every 3 s
    hf_min_interval_s: float = 0.0
    user_agent: str = field(default_factory=user_agent)

    def min_interval(self, source: str) -> float:
        return self.arxiv_min_interval_s if source == "arxiv" else self.hf_min_interval_s


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


class HttpClient:
    """GET with retries, backoff and a minimum interval between request starts.

    One instance per source and fetch: the interval runs from the end of the previous
    request (retries included), so arXiv never sees two requests closer than
    ``min_interval_s``.
    """

    def __init__(
        self,
        source: str,
        settings: FetchSettings,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        logger: Logger | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.min_interval_s = settings.min_interval(source)
        self._sleep = sleep
        self._log = logger or log
        self._last_end: float | None = None
        self.requests = 0
        self._own = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(
                settings.timeout_s, connect=min(settings.connect_timeout_s, settings.timeout_s)
            ),
            headers={"User-Agent": settings.user_agent},
            follow_redirects=True,
        )

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pace(self) -> None:
        # Measured from the end of the previous exchange, not its start: the server then
        # sees at least the interval between two requests whatever the network latency.
        if self._last_end is not None and self.min_interval_s > 0:
            wait = self._last_end + self.min_interval_s - time.monotonic()
            if wait > 0:
                self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.max_backoff_s, self.settings.backoff_s * 2 ** (attempt - 1))

    def get(
        self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """The response (200, 304, or another 2xx); FetchError once retries run out or on
        a status that retrying cannot fix (404, 400...)."""
        request = self._client.build_request("GET", url, params=params, headers=headers)
        shown = str(request.url)
        attempts = max(1, self.settings.attempts)
        last = "no response"
        for attempt in range(1, attempts + 1):
            self._pace()
            self.requests += 1
            try:
                try:
                    response = self._client.send(request)  # the whole body is read here
                finally:
                    self._last_end = time.monotonic()
            except httpx.TimeoutException as exc:
                last = f"timed out ({type(exc).__name__})"
                delay = self._backoff(attempt)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {one_line(exc) or 'transport error'}"
                delay = self._backoff(attempt)
            else:
                status = response.status_code
                if status < 300 or status == 304:
                    return response
                reason = f" {response.reason_phrase}" if response.reason_phrase else ""
                last = f"HTTP {status}"
                if status not in RETRY_STATUSES:
                    raise FetchError(f"{self.source}: GET {shown}: HTTP {status}{reason}")
                delay = self._backoff(attempt)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    delay = min(retry_after, self.settings.max_retry_after_s)
            if attempt < attempts:
                self._log.warning(
                    f"{self.source}: GET {shown}: {last}, retrying in {delay:.3g}s "
                    f"(attempt {attempt} of {attempts})"
                )
                self._sleep(delay)
        raise FetchError(f"{self.source}: GET {shown}: {last} after {attempts} attempts")


# ----------------------------------------------------------------------- counting papers


def count_papers(data: bytes, name: str) -> tuple[int, list[str], str | None]:
    """(papers, first titles, problem) of a response, with the ingest's own parser.

    A file the parser cannot use at all counts 0 papers, with the parser's one-line reason.
    """
    from transforms.formats import parse_document  # lazily: the parser is heavy to import
    from transforms.records import ListingFileError

    try:
        result = parse_document(data, name)
    except ListingFileError as exc:
        return 0, [], one_line(exc)
    return len(result.records), [r.title for r in result.records[:10]], None


# -------------------------------------------------------------------------------- pages


@dataclass
class Page:
    """One response: the file it lands as and what it holds."""

    name: str
    url: str
    http_status: int
    data: bytes
    etag: str | None = None
    last_modified: str | None = None
    items: int | None = None  # entries the response holds (None: it does not parse)
    papers: int = 0
    titles: list[str] = field(default_factory=list)
    problem: str | None = None

    def entry(self, landed: bool = True) -> dict:
        return {
            "file": self.name if landed else None,
            "url": self.url,
            "http_status": self.http_status,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "bytes": len(self.data),
            "papers": self.papers,
        }


@dataclass
class FetchOutcome:
    source: str
    listing_date: dt.date
    status: str
    papers: int
    message: str
    requests: int
    files: list[dict]
    sidecar: Path
    urls: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def url(self) -> str | None:
        return self.urls[0] if self.urls else None


def sidecar_path(folder: Path, source: str) -> Path:
    return folder / f".fetch-{source}.json"


def read_sidecar(folder: Path, source: str) -> dict | None:
    """The sidecar of the previous fetch of ``source`` into ``folder``, or None."""
    try:
        data = json.loads(sidecar_path(folder, source).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _fetch_lock(folder: Path, source: str) -> FileLock:
    """One fetch of a source into a date's folder at a time (schedule and CLI at once)."""
    return FileLock(folder / f".fetch-{source}.lock")


class _Previous:
    """What the previous fetch left: its sidecar entries whose files still exist."""

    def __init__(self, folder: Path, sidecar: dict | None) -> None:
        self.sidecar = sidecar or {}
        entries = [e for e in self.sidecar.get("files") or [] if isinstance(e, dict)]
        self.files = {str(e["file"]): e for e in entries if e.get("file")}
        self.intact = bool(self.files) and all((folder / n).is_file() for n in self.files)
        self.folder = folder

    @property
    def papers(self) -> int:
        if not self.intact:
            return 0
        return sum(int(e.get("papers") or 0) for e in self.files.values())

    def conditional_headers(self, name: str) -> dict[str, str]:
        entry = self.files.get(name)
        if not self.intact or entry is None:
            return {}
        headers = {}
        if entry.get("etag"):
            headers["If-None-Match"] = str(entry["etag"])
        if entry.get("last_modified"):
            headers["If-Modified-Since"] = str(entry["last_modified"])
        return headers

    def data(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes() if name in self.files else None
        except OSError:
            return None


def _get_page(
    http: HttpClient,
    previous: _Previous,
    name: str,
    url: str,
    params: dict[str, Any],
) -> Page:
    response = http.get(url, params=params, headers=previous.conditional_headers(name))
    shown = str(response.request.url)
    if response.status_code == 304:
        data = previous.data(name)
        if data is None:
            raise FetchError(f"{http.source}: GET {shown}: HTTP 304 with no previous file {name}")
        entry = previous.files[name]
        return Page(
            name,
            shown,
            304,
            data,
            etag=response.headers.get("ETag") or entry.get("etag"),
            last_modified=response.headers.get("Last-Modified") or entry.get("last_modified"),
        )
    return Page(
        name,
        shown,
        response.status_code,
        response.content,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


def _hf_items(page: Page) -> None:
    try:
        items = json.loads(page.data)
    except ValueError as exc:
        page.problem = f"not valid JSON ({one_line(exc)})"
        return
    if not isinstance(items, list):
        page.problem = f"a JSON {type(items).__name__}, not the list of daily papers"
        return
    page.items = len(items)


def _fetch_hf(http: HttpClient, previous: _Previous, day: dt.date, logger: Logger) -> list[Page]:
    settings = http.settings
    url = settings.hf_base_url.rstrip("/") + "/api/daily_papers"
    limit = settings.hf_page_size
    pages: list[Page] = []
    for k in range(settings.max_pages):
        name = f"hf-daily-papers-{day.isoformat()}-p{k}.json"
        params = {"date": day.isoformat(), "limit": limit, "p": k}
        page = _get_page(http, previous, name, url, params)
        _hf_items(page)
        pages.append(page)
        if page.items is None or page.items < limit:
            break
    else:
        logger.warning(f"hf: stopped after {settings.max_pages} pages of {limit}")
    return pages


def arxiv_window(day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The submission window (UTC, end excluded) of arXiv's listing dated ``day``, or None
    when arXiv publishes no listing that day (Saturday, Sunday).

    arXiv announces at 20:00 US Eastern, Sunday to Thursday; the web listing is dated by
    the next day (the UTC date of the announcement), so listing dates are Monday to Friday.
    An announcement holds what was submitted between two 14:00 Eastern deadlines: the
    deadline of the weekday before the listing date, and the deadline of the weekday before
    that one (Monday's listing: Thursday 14:00 to Friday 14:00; Tuesday's: Friday 14:00 to
    Monday 14:00). Windows computed this way tile time, so each submission lands in exactly
    one listing date; and the window of date D has closed (18:00 or 19:00 UTC on D-1)
    before the daily schedule runs at 06:30 UTC on D. A holiday without an announcement
    still gets its window (arXiv rolls it into the next announcement; we keep it apart).
    ``submittedDate`` is the v1 submission time, in GMT, to the minute.
    """
    if day.weekday() >= 5:
        return None

    def weekday_before(d: dt.date) -> dt.date:
        d -= dt.timedelta(days=1)
        while d.weekday() >= 5:
            d -= dt.timedelta(days=1)
        return d

    end_day = weekday_before(day)
    start_day = weekday_before(end_day)

    def deadline(d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(14, 0), _EASTERN).astimezone(dt.UTC)

    return deadline(start_day), deadline(end_day)


def arxiv_query(categories: tuple[str, ...], start: dt.datetime, end: dt.datetime) -> str:
    cats = " OR ".join(f"cat:{c}" for c in categories)
    last = end - dt.timedelta(minutes=1)  # submittedDate ranges include both ends
    return f"({cats}) AND submittedDate:[{start:%Y%m%d%H%M} TO {last:%Y%m%d%H%M}]"


def _arxiv_items(page: Page) -> int | None:
    """Entries of an arXiv API page (``items``) and its ``opensearch:totalResults``."""
    try:
        root = ET.fromstring(page.data)
    except ET.ParseError as exc:
        page.problem = f"not valid XML ({one_line(exc)})"
        return None
    if root.tag != f"{_ATOM}feed":
        page.problem = f"not an Atom feed (root element {root.tag})"
        return None
    entries = root.findall(f"{_ATOM}entry")
    for entry in entries:
        entry_id = entry.findtext(f"{_ATOM}id") or ""
        if "/api/errors" in entry_id:
            summary = one_line(entry.findtext(f"{_ATOM}summary") or "error")
            raise FetchError(f"arxiv: GET {page.url}: API error: {summary}")
    page.items = len(entries)
    total = root.findtext(f"{_OPENSEARCH}totalResults")
    try:
        return int(total) if total is not None else None
    except ValueError:
        return None


def _fetch_arxiv(
    http: HttpClient,
    previous: _Previous,
    day: dt.date,
    window: tuple[dt.datetime, dt.datetime],
    logger: Logger,
) -> list[Page]:
    settings = http.settings
    size = settings.arxiv_page_size
    query = arxiv_query(settings.arxiv_categories, *window)
    pages: list[Page] = []
    start, total = 0, None
    for _ in range(settings.max_pages):
        params = {
            "search_query": query,
            "sortBy": "submittedDate",
            "sortOrder": "ascending",
            "start": start,
            "max_results": size,
        }
        name = f"arxiv-{day.isoformat()}-start{start}.xml"
        page = _get_page(http, previous, name, settings.arxiv_api_url, params)
        page_total = _arxiv_items(page)
        pages.append(page)
        total = page_total if total is None else total
        if page.items is None or total is None:
            break
        if page.items == 0:
            if start < total:
                page.problem = f"an empty page at start={start} of {total} results: stopped there"
            break
        start += size
        if start >= total:
            break
    else:
        logger.warning(f"arxiv: stopped after {settings.max_pages} pages of {size}")
    return pages


# ------------------------------------------------------------------------------ landing


def _now_iso(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_if_changed(path: Path, data: bytes) -> None:
    """Atomic write, skipped when the file already holds these bytes (its mtime stays, so
    the landing sensor does not see a change)."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(path, data)


def fetch_listing(
    source: str,
    listing_date: dt.date,
    folder: Path,
    settings: FetchSettings | None = None,
    *,
    client: httpx.Client | None = None,
    logger: Logger | None = None,
    now: Callable[[], dt.datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchOutcome:
    """Fetch ``source``'s listing of ``listing_date`` into ``folder`` (``landing/<date>/``)
    and write its sidecar; see the module docstring for the statuses. Raises FetchError."""
    if source not in SOURCES:
        raise ValueError(f"unknown listing source {source!r} (known: {', '.join(SOURCES)})")
    settings = settings or FetchSettings()
    if source == "arxiv" and not settings.arxiv_categories:
        raise FetchError("arxiv: no categories to fetch (set PAPERTRENDS_ARXIV_CATEGORIES)")
    logger = logger or log
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    day = listing_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        logger.warning(message)

    with (
        _fetch_lock(folder, source),
        HttpClient(source, settings, client=client, sleep=sleep, logger=logger) as http,
    ):
        previous = _Previous(folder, read_sidecar(folder, source))
        if source == "hf":
            pages = _fetch_hf(http, previous, listing_date, logger)
        else:
            window = arxiv_window(listing_date)
            if window is None:
                pages = []
            else:
                pages = _fetch_arxiv(http, previous, listing_date, window, logger)

        for page in pages:
            if page.items:  # something to count; an empty list or feed is 0 papers
                page.papers, page.titles, problem = count_papers(page.data, page.name)
                page.problem = page.problem or problem
            if page.problem:
                warn(
                    f"{source}: {page.name} ({len(page.data):,} bytes from {page.url}): "
                    f"{page.problem}; landed as received, counted as {page.papers} papers"
                )
        papers = sum(p.papers for p in pages)
        urls = [p.url for p in pages]
        titles = [t for p in pages for t in p.titles][:10]
        fetched_at = _now_iso(clock())
        previous_papers = previous.papers
        when = previous.sidecar.get("fetched_at", "an earlier fetch")
        stale: list[str] = []

        if not pages:  # arXiv on a weekend: nothing is announced, nothing to ask
            status = "no_listing"
            files: list[dict] = []
            message = f"arXiv publishes no listing dated {day} (a {listing_date:%A})"
        elif all(p.http_status == 304 for p in pages) and {p.name for p in pages} == set(
            previous.files
        ):
            status = "not_modified"
            files = [p.entry() for p in pages]
            papers = previous_papers
            message = f"not modified since {when}: kept {len(files)} file(s), {papers} papers"
        elif papers < previous_papers:
            status = "kept_previous"
            files = list(previous.files.values())
            message = (
                f"{source}: the fetch of {day} found {papers} papers, fewer than the "
                f"{previous_papers} of {when}: kept the previous {len(files)} file(s)"
            )
            warn(message)
            papers = previous_papers
        elif all(p.items == 0 for p in pages):
            status = "no_listing"
            files = [p.entry(landed=False) for p in pages]
            what = "[]" if source == "hf" else "0 entries"
            message = f"{source} published no listing for {day}: {urls[0]} returned {what}"
            stale = list(previous.files)
        else:
            status = "ok"
            for page in pages:
                _write_if_changed(folder / page.name, page.data)
            files = [p.entry() for p in pages]
            message = f"fetched {papers} papers in {len(files)} file(s)"
            if warnings:
                message += "; " + "; ".join(warnings)
            stale = [n for n in previous.files if n not in {p.name for p in pages}]

        sidecar = {
            "source": source,
            "listing_date": day,
            "fetched_at": fetched_at,
            "status": status,
            "papers": papers,
            "message": message,
            "files": files,
        }
        path = sidecar_path(folder, source)
        atomic_write(path, json.dumps(sidecar, indent=1, ensure_ascii=False) + "\n")
        for name in stale:  # files of an earlier fetch that this one replaced
            if "/" not in name and not name.startswith("."):
                (folder / name).unlink(missing_ok=True)
        logger.info(f"{source} {day}: {status}: {message}")
        return FetchOutcome(
            source=source,
            listing_date=listing_date,
            status=status,
            papers=papers,
            message=message,
            requests=http.requests,
            files=files,
            sidecar=path,
            urls=urls,
            titles=titles,
            warnings=warnings,
        )
