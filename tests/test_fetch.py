"""Fetching listings over HTTP, against a real server on 127.0.0.1 with recorded responses.

The functions of transforms/fetch.py are tested directly (fast), the two fetch assets
through ``dg.materialize`` on a temporary home, and ``papertrends fetch`` end to end once
(slow). Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from orchestration import env
from orchestration.defs.fetch import (
    FETCH_ASSET_KEYS,
    ListingSources,
    arxiv_listing,
    fetch_run_config,
    hf_daily_papers,
)
from orchestration.resources import PapertrendsHome
from transforms.fetch import (
    FetchError,
    FetchSettings,
    arxiv_query,
    arxiv_window,
    fetch_listing,
    parse_retry_after,
    read_sidecar,
    user_agent,
)

SAMPLES = Path("/work/shared/samples/formats")
HF_SAMPLE = SAMPLES / "hf_api_daily_papers_2026-06-12.json"
ARXIV_SAMPLE = SAMPLES / "arxiv_api_query_2026-02-12_ti-random.xml"
HF_DAY = dt.date(2026, 6, 12)  # a Friday
ARXIV_DAY = dt.date(2026, 6, 16)  # a Tuesday: Friday 14:00 to Monday 14:00 Eastern
HF_PATH = "/api/daily_papers"
ARXIV_PATH = "/api/query"

pytestmark = pytest.mark.skipif(
    not HF_SAMPLE.exists() or not ARXIV_SAMPLE.exists(), reason="shared samples missing"
)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def _local_server():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def httpserver(_local_server: HTTPServer) -> HTTPServer:
    """pytest-httpserver's server, bound to 127.0.0.1 (its default "localhost" may be ::1)."""
    _local_server.clear()
    return _local_server


class ListLogger:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.infos: list[str] = []

    def info(self, msg: str) -> None:
        self.infos.append(msg)

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)


def fast(server: HTTPServer, **changes) -> FetchSettings:
    base = {
        "hf_base_url": server.url_for("/").rstrip("/"),
        "arxiv_api_url": server.url_for(ARXIV_PATH),
        "timeout_s": 2.0,
        "attempts": 4,
        "backoff_s": 0.01,
        "max_retry_after_s": 5.0,
        "arxiv_min_interval_s": 0.0,
        "user_agent": user_agent("tests@example.org"),
    }
    return FetchSettings(**(base | changes))


def hf_items() -> list[dict]:
    return json.loads(HF_SAMPLE.read_bytes())


def hf_page_bytes(n: int, offset: int = 0) -> bytes:
    """n daily-papers items made from the sample's five, each a distinct paper."""
    base = hf_items()
    items = []
    for i in range(offset, offset + n):
        item = json.loads(json.dumps(base[i % len(base)]))
        paper_id = f"2606.{20000 + i}"
        title = f"{item['paper']['title']} (part {i})"
        item["paper"]["id"], item["paper"]["title"], item["title"] = paper_id, title, title
        items.append(item)
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode()


def hf_query(p: int, day: dt.date = HF_DAY) -> dict[str, str]:
    return {"date": day.isoformat(), "limit": "100", "p": str(p)}


def arxiv_pages(size: int) -> list[bytes]:
    """The sample feed's five real entries, re-paged ``size`` a page (CRLF kept)."""
    data = ARXIV_SAMPLE.read_bytes()
    first = data.index(b"<entry>")
    head, entries = data[:first], re.findall(rb"<entry>.*?</entry>\s*", data, re.S)
    head = re.sub(rb"<opensearch:totalResults>\d+", b"<opensearch:totalResults>%d" % 5, head)
    pages = []
    for start in range(0, len(entries), size):
        page_head = re.sub(
            rb"<opensearch:startIndex>\d+", b"<opensearch:startIndex>%d" % start, head
        )
        pages.append(page_head + b"".join(entries[start : start + size]) + b"</feed>\r\n")
    return pages


def folder_for(tmp_path: Path, day: dt.date) -> Path:
    return tmp_path / "landing" / day.isoformat()


def listing_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def requests_to(server: HTTPServer, path: str) -> list[Request]:
    return [req for req, _ in server.log if req.path == path]


# ------------------------------------------------------------------------ HTTP behaviour


def test_pagination_two_full_pages_and_a_short_one(httpserver: HTTPServer, tmp_path: Path):
    bodies = [hf_page_bytes(100, 0), hf_page_bytes(100, 100), hf_page_bytes(37, 200)]
    for p, body in enumerate(bodies):
        httpserver.expect_request(HF_PATH, query_string=hf_query(p)).respond_with_data(
            body, content_type="application/json", headers={"ETag": f'"p{p}"'}
        )
    folder = folder_for(tmp_path, HF_DAY)
    out = fetch_listing("hf", HF_DAY, folder, fast(httpserver))

    names = [f"hf-daily-papers-2026-06-12-p{p}.json" for p in range(3)]
    assert listing_names(folder) == names
    for name, body in zip(names, bodies, strict=True):
        assert (folder / name).read_bytes() == body  # exactly as received
    assert (out.status, out.papers, out.requests) == ("ok", 237, 3)
    sidecar = read_sidecar(folder, "hf")
    assert set(sidecar) == {
        "source",
        "listing_date",
        "fetched_at",
        "status",
        "papers",
        "message",
        "files",
    }
    assert (sidecar["source"], sidecar["listing_date"], sidecar["status"]) == (
        "hf",
        "2026-06-12",
        "ok",
    )
    assert dt.datetime.fromisoformat(sidecar["fetched_at"]).utcoffset() == dt.timedelta(0)
    assert sidecar["papers"] == 237
    assert [f["file"] for f in sidecar["files"]] == names
    first = sidecar["files"][0]
    assert first["url"] == httpserver.url_for(HF_PATH) + "?date=2026-06-12&limit=100&p=0"
    assert (first["http_status"], first["etag"], first["bytes"], first["papers"]) == (
        200,
        '"p0"',
        len(bodies[0]),
        100,
    )
    assert first["last_modified"] is None
    assert [f["papers"] for f in sidecar["files"]] == [100, 100, 37]
    # Nothing but the listing files and the hidden sidecar/lock (no temporary files left).
    assert {p.name for p in folder.iterdir()} == {*names, ".fetch-hf.json", ".fetch-hf.lock"}


def test_user_agent_names_papertrends_and_a_contact(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(HF_PATH).respond_with_data(HF_SAMPLE.read_bytes())
    fetch_listing("hf", HF_DAY, folder_for(tmp_path, HF_DAY), fast(httpserver))
    (request,) = requests_to(httpserver, HF_PATH)
    agent = request.headers["User-Agent"]
    assert agent.startswith("papertrends/")
    assert "mailto:tests@example.org" in agent


def test_429_with_retry_after_is_honoured_then_200(httpserver: HTTPServer, tmp_path: Path):
    seen: list[float] = []

    def too_many(request: Request) -> Response:
        seen.append(time.monotonic())
        return Response("slow down", status=429, headers={"Retry-After": "1"})

    def ok(request: Request) -> Response:
        seen.append(time.monotonic())
        return Response(HF_SAMPLE.read_bytes(), content_type="application/json")

    httpserver.expect_oneshot_request(HF_PATH).respond_with_handler(too_many)
    httpserver.expect_request(HF_PATH).respond_with_handler(ok)
    logger = ListLogger()
    # backoff_s is tiny: a gap of a second can only come from Retry-After.
    out = fetch_listing("hf", HF_DAY, folder_for(tmp_path, HF_DAY), fast(httpserver), logger=logger)
    assert (out.status, out.papers, out.requests) == ("ok", 5, 2)
    assert seen[1] - seen[0] >= 1.0
    assert any("HTTP 429, retrying in 1s" in w for w in logger.warnings)


def test_retry_after_is_capped(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_oneshot_request(HF_PATH).respond_with_data(
        "", status=503, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request(HF_PATH).respond_with_data(HF_SAMPLE.read_bytes())
    slept: list[float] = []
    out = fetch_listing(
        "hf",
        HF_DAY,
        folder_for(tmp_path, HF_DAY),
        fast(httpserver, max_retry_after_s=0.2),
        sleep=lambda s: (slept.append(s), time.sleep(s)),
    )
    assert out.status == "ok"
    assert slept == [0.2]


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = dt.datetime(2026, 6, 12, 8, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Fri, 12 Jun 2026 08:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Fri, 12 Jun 2026 07:00:00 GMT", now=now) == 0.0  # past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_timeout_then_success(httpserver: HTTPServer, tmp_path: Path):
    def stalls(request: Request) -> Response:
        time.sleep(0.6)  # longer than the client's timeout
        return Response(b"[]", content_type="application/json")

    httpserver.expect_oneshot_request(HF_PATH).respond_with_handler(stalls)
    httpserver.expect_request(HF_PATH).respond_with_data(HF_SAMPLE.read_bytes())
    logger = ListLogger()
    # The server handles one request at a time: back off until the stalled one is over.
    settings = fast(httpserver, timeout_s=0.2, backoff_s=0.6)
    out = fetch_listing("hf", HF_DAY, folder_for(tmp_path, HF_DAY), settings, logger=logger)
    assert (out.status, out.papers, out.requests) == ("ok", 5, 2)
    assert any("timed out" in w for w in logger.warnings)
    folder = folder_for(tmp_path, HF_DAY)
    assert (folder / "hf-daily-papers-2026-06-12-p0.json").read_bytes() == HF_SAMPLE.read_bytes()


def test_500_until_retries_run_out_is_one_line_naming_source_and_url(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(HF_PATH).respond_with_data("oops", status=500)
    folder = folder_for(tmp_path, HF_DAY)
    with pytest.raises(FetchError) as caught:
        fetch_listing("hf", HF_DAY, folder, fast(httpserver, attempts=3))
    url = httpserver.url_for(HF_PATH) + "?date=2026-06-12&limit=100&p=0"
    assert str(caught.value) == f"hf: GET {url}: HTTP 500 after 3 attempts"
    assert len(requests_to(httpserver, HF_PATH)) == 3
    assert listing_names(folder) == []
    assert read_sidecar(folder, "hf") is None


def test_a_404_is_not_retried(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(HF_PATH).respond_with_data("no", status=404)
    with pytest.raises(FetchError, match=r"^hf: GET http://127\.0\.0\.1:\d+/.*: HTTP 404"):
        fetch_listing("hf", HF_DAY, folder_for(tmp_path, HF_DAY), fast(httpserver))
    assert len(requests_to(httpserver, HF_PATH)) == 1


def test_connection_refused_runs_out_of_retries(tmp_path: Path):
    sock = socket.socket()  # a port nobody listens on: bind, read it, close
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    settings = FetchSettings(
        hf_base_url=f"http://127.0.0.1:{port}", attempts=2, backoff_s=0.01, timeout_s=1
    )
    with pytest.raises(FetchError) as caught:
        fetch_listing("hf", HF_DAY, folder_for(tmp_path, HF_DAY), settings)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"hf: GET http://127.0.0.1:{port}/api/daily_papers?date=")
    assert message.endswith("after 2 attempts")


# ------------------------------------------------------------------------- what lands


def test_truncated_json_is_landed_as_received_and_counted_as_zero(
    httpserver: HTTPServer, tmp_path: Path
):
    body = HF_SAMPLE.read_bytes()[:-4000]
    httpserver.expect_request(HF_PATH).respond_with_data(body, content_type="application/json")
    folder = folder_for(tmp_path, HF_DAY)
    logger = ListLogger()
    out = fetch_listing("hf", HF_DAY, folder, fast(httpserver), logger=logger)
    assert (folder / "hf-daily-papers-2026-06-12-p0.json").read_bytes() == body
    assert (out.status, out.papers) == ("ok", 0)
    assert read_sidecar(folder, "hf")["files"][0]["papers"] == 0
    assert len(logger.warnings) == 1
    assert "not valid JSON" in logger.warnings[0]
    assert "hf-daily-papers-2026-06-12-p0.json" in logger.warnings[0]


def test_a_shrunken_refresh_keeps_the_previous_files(httpserver: HTTPServer, tmp_path: Path):
    full = HF_SAMPLE.read_bytes()
    folder = folder_for(tmp_path, HF_DAY)
    httpserver.expect_request(HF_PATH).respond_with_data(full)
    assert fetch_listing("hf", HF_DAY, folder, fast(httpserver)).papers == 5
    before = read_sidecar(folder, "hf")

    httpserver.clear()
    one = json.dumps(hf_items()[:1], separators=(",", ":")).encode()
    httpserver.expect_request(HF_PATH).respond_with_data(one)
    logger = ListLogger()
    out = fetch_listing("hf", HF_DAY, folder, fast(httpserver), logger=logger)

    assert (out.status, out.papers) == ("kept_previous", 5)
    assert (folder / "hf-daily-papers-2026-06-12-p0.json").read_bytes() == full
    after = read_sidecar(folder, "hf")
    assert after["status"] == "kept_previous"
    assert after["papers"] == 5
    assert after["files"] == before["files"]
    assert len(logger.warnings) == 1
    assert "found 1 papers, fewer than the 5" in logger.warnings[0]
    assert after["message"] == logger.warnings[0]


def test_a_bigger_refresh_replaces_the_files(httpserver: HTTPServer, tmp_path: Path):
    folder = folder_for(tmp_path, HF_DAY)
    httpserver.expect_request(HF_PATH).respond_with_data(hf_page_bytes(3))
    fetch_listing("hf", HF_DAY, folder, fast(httpserver))
    httpserver.clear()
    httpserver.expect_request(HF_PATH).respond_with_data(hf_page_bytes(4))
    out = fetch_listing("hf", HF_DAY, folder, fast(httpserver))
    assert (out.status, out.papers) == ("ok", 4)
    assert (folder / "hf-daily-papers-2026-06-12-p0.json").read_bytes() == hf_page_bytes(4)


def test_304_conditional_refresh_keeps_the_files(httpserver: HTTPServer, tmp_path: Path):
    full = HF_SAMPLE.read_bytes()
    stamp = "Fri, 12 Jun 2026 09:00:00 GMT"
    folder = folder_for(tmp_path, HF_DAY)
    httpserver.expect_oneshot_request(HF_PATH).respond_with_data(
        full, headers={"ETag": '"v1"', "Last-Modified": stamp}
    )
    fetch_listing("hf", HF_DAY, folder, fast(httpserver))
    landed = folder / "hf-daily-papers-2026-06-12-p0.json"
    mtime = landed.stat().st_mtime_ns

    httpserver.expect_request(HF_PATH, headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"v1"'}
    )
    out = fetch_listing("hf", HF_DAY, folder, fast(httpserver))

    second = requests_to(httpserver, HF_PATH)[-1]
    assert second.headers["If-None-Match"] == '"v1"'
    assert second.headers["If-Modified-Since"] == stamp
    assert (out.status, out.papers) == ("not_modified", 5)
    assert landed.read_bytes() == full
    assert landed.stat().st_mtime_ns == mtime  # untouched: the landing sensor sees no change
    sidecar = read_sidecar(folder, "hf")
    assert sidecar["status"] == "not_modified"
    assert sidecar["files"][0] | {"url": None} == {
        "file": landed.name,
        "url": None,
        "http_status": 304,
        "etag": '"v1"',
        "last_modified": stamp,
        "bytes": len(full),
        "papers": 5,
    }


def test_a_weekend_empty_list_is_no_listing(httpserver: HTTPServer, tmp_path: Path):
    saturday = dt.date(2026, 6, 13)
    httpserver.expect_request(HF_PATH, query_string=hf_query(0, saturday)).respond_with_data(
        b"[]", content_type="application/json"
    )
    folder = folder_for(tmp_path, saturday)
    logger = ListLogger()
    out = fetch_listing("hf", saturday, folder, fast(httpserver), logger=logger)
    assert (out.status, out.papers) == ("no_listing", 0)
    assert listing_names(folder) == []
    sidecar = read_sidecar(folder, "hf")
    assert sidecar["status"] == "no_listing"
    assert sidecar["files"][0]["file"] is None
    assert sidecar["files"][0]["url"].endswith("?date=2026-06-13&limit=100&p=0")
    assert "returned []" in sidecar["message"]
    assert logger.warnings == []  # not an error


# --------------------------------------------------------------------------------- arXiv


def test_arxiv_window_is_one_announcement_cycle() -> None:
    utc = dt.UTC
    # Tuesday's listing: Friday 14:00 to Monday 14:00 US Eastern (EDT: 18:00 UTC).
    assert arxiv_window(dt.date(2026, 6, 16)) == (
        dt.datetime(2026, 6, 12, 18, 0, tzinfo=utc),
        dt.datetime(2026, 6, 15, 18, 0, tzinfo=utc),
    )
    # Monday's listing: Thursday 14:00 to Friday 14:00; in winter (EST) that is 19:00 UTC.
    assert arxiv_window(dt.date(2026, 12, 7)) == (
        dt.datetime(2026, 12, 3, 19, 0, tzinfo=utc),
        dt.datetime(2026, 12, 4, 19, 0, tzinfo=utc),
    )
    assert arxiv_window(dt.date(2026, 6, 13)) is None  # Saturday
    assert arxiv_window(dt.date(2026, 6, 14)) is None  # Sunday
    # Consecutive listing dates tile time: each submission belongs to one listing.
    days = [dt.date(2026, 6, 15) + dt.timedelta(days=i) for i in range(14)]
    windows = [w for d in days if (w := arxiv_window(d))]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    assert arxiv_query(("cs.LG", "cs.CL"), *windows[2]) == (  # Wednesday's
        "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202606151800 TO 202606161759]"
    )


def test_arxiv_pages_by_total_results_at_the_minimum_interval(
    httpserver: HTTPServer, tmp_path: Path
):
    pages = arxiv_pages(2)
    assert len(pages) == 3
    seen: list[float] = []

    def handler(body: bytes):
        def respond(request: Request) -> Response:
            seen.append(time.monotonic())
            return Response(body, content_type="application/atom+xml")

        return respond

    query = "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202606121800 TO 202606151759]"
    for i, body in enumerate(pages):
        params = {
            "search_query": query,
            "sortBy": "submittedDate",
            "sortOrder": "ascending",
            "start": str(2 * i),
            "max_results": "2",
        }
        httpserver.expect_request(ARXIV_PATH, query_string=params).respond_with_handler(
            handler(body)
        )
    folder = folder_for(tmp_path, ARXIV_DAY)
    interval = 0.3
    settings = fast(httpserver, arxiv_page_size=2, arxiv_min_interval_s=interval)
    out = fetch_listing("arxiv", ARXIV_DAY, folder, settings)

    names = [f"arxiv-2026-06-16-start{s}.xml" for s in (0, 2, 4)]
    assert listing_names(folder) == names
    for name, body in zip(names, pages, strict=True):
        assert (folder / name).read_bytes() == body
    assert (out.status, out.papers, out.requests) == ("ok", 5, 3)
    assert len(seen) == 3
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    assert all(gap >= interval for gap in gaps), gaps
    assert [f["papers"] for f in read_sidecar(folder, "arxiv")["files"]] == [2, 2, 1]


def test_arxiv_retries_are_paced_too(httpserver: HTTPServer, tmp_path: Path):
    seen: list[float] = []

    def fail(request: Request) -> Response:
        seen.append(time.monotonic())
        return Response("busy", status=503)

    httpserver.expect_request(ARXIV_PATH).respond_with_handler(fail)
    settings = fast(httpserver, attempts=3, arxiv_min_interval_s=0.25)
    with pytest.raises(FetchError, match=r"^arxiv: GET .*: HTTP 503 after 3 attempts$"):
        fetch_listing("arxiv", ARXIV_DAY, folder_for(tmp_path, ARXIV_DAY), settings)
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(seen))


def test_arxiv_zero_entries_is_no_listing(httpserver: HTTPServer, tmp_path: Path):
    empty = re.sub(rb"<entry>.*</entry>\s*", b"", ARXIV_SAMPLE.read_bytes(), flags=re.S)
    empty = re.sub(rb"<opensearch:totalResults>\d+", b"<opensearch:totalResults>0", empty)
    httpserver.expect_request(ARXIV_PATH).respond_with_data(empty)
    folder = folder_for(tmp_path, ARXIV_DAY)
    out = fetch_listing("arxiv", ARXIV_DAY, folder, fast(httpserver))
    assert (out.status, out.papers, out.requests) == ("no_listing", 0, 1)
    assert listing_names(folder) == []
    assert "0 entries" in read_sidecar(folder, "arxiv")["message"]


def test_arxiv_on_a_weekend_asks_nothing(httpserver: HTTPServer, tmp_path: Path):
    saturday = dt.date(2026, 6, 13)
    folder = folder_for(tmp_path, saturday)
    out = fetch_listing("arxiv", saturday, folder, fast(httpserver))
    assert (out.status, out.requests) == ("no_listing", 0)
    assert httpserver.log == []
    assert read_sidecar(folder, "arxiv")["files"] == []


def test_arxiv_error_entry_is_a_fetch_error(httpserver: HTTPServer, tmp_path: Path):
    error = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        b"<entry><id>https://arxiv.org/api/errors#incorrect_id_format</id><title>Error</title>"
        b"<summary>incorrect id format</summary></entry></feed>"
    )
    httpserver.expect_request(ARXIV_PATH).respond_with_data(error)
    with pytest.raises(FetchError, match=r"^arxiv: GET .*: API error: incorrect id format$"):
        fetch_listing("arxiv", ARXIV_DAY, folder_for(tmp_path, ARXIV_DAY), fast(httpserver))


# ------------------------------------------------------------------- settings and assets


def test_listing_sources_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.startswith(("PAPERTRENDS_SOURCES", "PAPERTRENDS_FETCH", "PAPERTRENDS_ARXIV")):
            monkeypatch.delenv(var)
    assert env.listing_sources() == {"sources": []}
    monkeypatch.setenv("PAPERTRENDS_SOURCES", "HF, arxiv,hf")
    monkeypatch.setenv("PAPERTRENDS_ARXIV_CATEGORIES", "cs.LG,cs.CL")
    monkeypatch.setenv("PAPERTRENDS_FETCH_ATTEMPTS", "2")
    monkeypatch.setenv("PAPERTRENDS_ARXIV_MIN_INTERVAL_S", "0.5")
    settings = env.listing_sources()
    assert settings == {
        "sources": ["hf", "arxiv"],
        "arxiv_categories": ["cs.LG", "cs.CL"],
        "attempts": 2,
        "arxiv_min_interval_s": 0.5,
    }
    assert ListingSources(**settings).settings().arxiv_categories == ("cs.LG", "cs.CL")
    monkeypatch.setenv("PAPERTRENDS_SOURCES", "hf,rss")
    with pytest.raises(ValueError, match="unknown source"):
        env.listing_sources()


def test_fetch_run_config_names_the_asset_ops() -> None:
    assert fetch_run_config({"hf"}) == {
        "ops": {
            "fetch__hf_daily_papers": {"config": {"enabled": True}},
            "fetch__arxiv_listing": {"config": {"enabled": False}},
        }
    }
    assert [k.to_user_string() for k in FETCH_ASSET_KEYS] == [
        "fetch/hf_daily_papers",
        "fetch/arxiv_listing",
    ]


def _resources(home: env.Home, server: HTTPServer, sources: list[str]) -> dict:
    return {
        "papertrends": PapertrendsHome(path=str(home.root)),
        "listing_sources": ListingSources(
            sources=sources,
            hf_base_url=server.url_for("/").rstrip("/"),
            arxiv_api_url=server.url_for(ARXIV_PATH),
            attempts=2,
            backoff_s=0.01,
            arxiv_min_interval_s=0.0,
        ),
    }


def test_sources_off_materialize_as_no_ops_without_a_request(
    httpserver: HTTPServer, home: env.Home
):
    result = dg.materialize(
        [hf_daily_papers, arxiv_listing],
        partition_key=HF_DAY.isoformat(),
        resources=_resources(home, httpserver, []),
    )
    assert result.success
    assert httpserver.log == []
    for mat in result.asset_materializations_for_node("fetch__hf_daily_papers") + (
        result.asset_materializations_for_node("fetch__arxiv_listing")
    ):
        assert mat.metadata["status"].value == "source disabled"
        assert mat.metadata["requests"].value == 0
    assert not (home.landing / HF_DAY.isoformat()).exists()


def test_fetch_asset_lands_the_day_with_metadata(httpserver: HTTPServer, home: env.Home):
    httpserver.expect_request(HF_PATH, query_string=hf_query(0)).respond_with_data(
        HF_SAMPLE.read_bytes(), content_type="application/json"
    )
    result = dg.materialize(
        [hf_daily_papers, arxiv_listing],
        partition_key=HF_DAY.isoformat(),
        resources=_resources(home, httpserver, ["hf"]),
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("fetch__hf_daily_papers")
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert (meta["status"], meta["requests"], meta["papers"]) == ("ok", 1, 5)
    assert meta["url"].endswith("/api/daily_papers?date=2026-06-12&limit=100&p=0")
    assert hf_items()[0]["paper"]["title"][:60] in meta["preview"]
    folder = home.landing / HF_DAY.isoformat()
    assert listing_names(folder) == ["hf-daily-papers-2026-06-12-p0.json"]
    (arxiv,) = result.asset_materializations_for_node("fetch__arxiv_listing")
    assert arxiv.metadata["status"].value == "source disabled"


def test_run_config_turns_a_source_on_and_a_failure_is_one_line(
    httpserver: HTTPServer, home: env.Home
):
    httpserver.expect_request(HF_PATH).respond_with_data("down", status=502)
    result = dg.materialize(
        [hf_daily_papers, arxiv_listing],
        partition_key=HF_DAY.isoformat(),
        resources=_resources(home, httpserver, []),  # off by default, on by run config
        run_config=fetch_run_config({"hf"}),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "fetch__hf_daily_papers"
    description = failure.step_failure_data.user_failure_data.description
    assert re.fullmatch(
        r"hf: GET http://127\.0\.0\.1:\d+/api/daily_papers\?\S+: HTTP 502 after 2 attempts",
        description,
    )


# ---------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_papertrends_fetch_goes_all_the_way_to_the_digest(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(HF_PATH, query_string=hf_query(0)).respond_with_data(
        HF_SAMPLE.read_bytes(), content_type="application/json", headers={"ETag": '"e2e"'}
    )
    home = env.home(tmp_path / "home")
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PAPERTRENDS_", "DAGSTER_HOME", "PAPERTRENDS_SMTP"))
    }
    environ |= {
        "PAPERTRENDS_HOME": str(home.root),
        "PAPERTRENDS_HF_BASE_URL": httpserver.url_for("/").rstrip("/"),
        "PAPERTRENDS_ARXIV_API_URL": "http://127.0.0.1:9/never",  # must not be asked
        "PAPERTRENDS_FETCH_ATTEMPTS": "2",
        "PAPERTRENDS_FETCH_BACKOFF_S": "0.01",
    }
    # A real process: the fetch settings come from the environment when the definitions
    # load (orchestration.definitions), which a process that already loaded them has read.
    exe = Path(sys.executable).with_name("papertrends")
    proc = subprocess.run(
        [str(exe), "fetch", "--source", "hf", "--date", HF_DAY.isoformat()],
        capture_output=True,
        text=True,
        env=environ,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "hf 2026-06-12: 5 papers, ok" in proc.stdout
    assert (home.publish / "2026-06-12" / "digest.md").is_file()
    folder = home.landing / "2026-06-12"
    assert (folder / "hf-daily-papers-2026-06-12-p0.json").read_bytes() == HF_SAMPLE.read_bytes()
    assert [req.path for req, _ in httpserver.log] == [HF_PATH]  # hf only, once
