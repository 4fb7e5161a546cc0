"""transforms.formats on the real sample files (tests/fixtures/formats, see their
.source.md) and on damaged copies of them made here.

Expected values were read off the fixture files by hand, not from the parser.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

import transforms.listing as listing
from transforms.formats import FORMATS, iter_snapshot, parse_document, parse_file
from transforms.records import ListingFileError, ListingRecord, Rejection

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SEQUENCE = Path(__file__).parents[1] / "data" / "samples" / "hf_papers_sequence.txt"

API_OLD = "arxiv_api_query_2025-10-17_cs.RO-neural.xml"
API_CRLF = "arxiv_api_query_2026-02-12_ti-random.xml"
API_NEW = "arxiv_api_query_2026-03-26_attention-mechanism.xml"
RSS_AI = "arxiv_rss2_2026-04-27_cs.AI.xml"
RSS_COMBINED = "arxiv_rss2_2026-09-24_cs.LG+cs.AI+cs.CL+stat.ML.xml"
FEED_ATOM = "arxiv_rss_atom_2026-09-25_cs.LG.xml"
DAILY_COMPACT = "hf_api_daily_papers_2026-06-12.json"
DAILY_PRETTY = "hf_api_daily_papers_2026-07-31.json"
PAPER = "hf_api_paper_2608.09888.json"
SEARCH = "hf_api_papers_search_diffusion.json"
SNAP_A = "kaggle_arxiv_snapshot_0704.0001-0704.0023.jsonl"
SNAP_B = "kaggle_arxiv_snapshot_0704.0024-0704.0034.jsonl"


def data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def text(name: str) -> str:
    return data(name).decode("utf-8")


def by_id(result) -> dict[str, ListingRecord]:
    return {r.arxiv_id: r for r in result.records}


def reasons(result) -> list[str]:
    return [r.reason for r in result.rejections]


# --- the real samples -------------------------------------------------------------------

# (file, format, arXiv ids in file order, as the .source.md files list them)
SAMPLES = [
    (API_OLD, "arxiv_api_atom", ["2510.14968", "2510.14827"]),
    (
        API_CRLF,
        "arxiv_api_atom",
        ["2101.02199", "2502.06628", "2409.12515", "1607.04331", "1910.08253"],
    ),
    (API_NEW, "arxiv_api_atom", ["2002.00741", "1102.2017", "1112.2954"]),
    (RSS_COMBINED, "arxiv_rss", ["2609.26811", "2609.26820", "2205.06398", "2009.13987"]),
    (RSS_AI, "arxiv_rss", ["2604.21935", "2604.21936", "2604.21937"]),
    (FEED_ATOM, "arxiv_feed_atom", ["2609.28553", "2402.10149", "2401.08875"]),
    (
        DAILY_COMPACT,
        "hf_api_daily_papers",
        ["2606.00467", "2606.12730", "2606.13594", "2606.13174", "2606.10423"],
    ),
    (
        DAILY_PRETTY,
        "hf_api_daily_papers",
        ["2607.23193", "2607.27958", "2607.28582", "2607.28308", "2607.16922"],
    ),
    (SEARCH, "hf_api_search", ["2006.11239", "2112.10752", "2202.00512"]),
    (PAPER, "hf_api_paper", ["2608.09888"]),
    (SNAP_A, "arxiv_snapshot", [f"0704.{n:04d}" for n in range(1, 24)]),
    (SNAP_B, "arxiv_snapshot", [f"0704.{n:04d}" for n in range(24, 35)]),
]


def test_every_fixture_is_tested():
    listed = {name for name, _, _ in SAMPLES}
    on_disk = {p.name for p in FIXTURES.iterdir() if not p.name.endswith(".md")}
    assert listed == on_disk
    assert all((FIXTURES / f"{name}.source.md").is_file() for name in listed)


@pytest.mark.parametrize(("name", "fmt", "ids"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_counts_ids_and_format(name, fmt, ids):
    result, sha = parse_file(FIXTURES / name)
    assert sha == hashlib.sha256(data(name)).hexdigest()
    assert result.format == fmt and fmt in FORMATS
    assert [r.arxiv_id for r in result.records] == ids
    assert [r.position for r in result.records] == list(range(1, len(ids) + 1))
    assert result.rejections == []
    assert result.encoding == "utf-8"
    for record in result.records:
        # Hard wraps joined, whitespace folded, no feed prefix left.
        assert "\n" not in record.title and "\r" not in record.abstract
        assert "\n" not in record.abstract and "  " not in record.abstract
        assert "Announce Type" not in record.abstract
        assert record.raw_text and len(record.raw_text) <= 20_000
        assert record.authors


@pytest.mark.parametrize(
    ("name", "types"),
    [
        (RSS_COMBINED, ["new", "new", "cross", "replace"]),
        (RSS_AI, ["new", "new", "new"]),
        (FEED_ATOM, ["new", "cross", "replace"]),
        (API_NEW, [None, None, None]),
    ],
)
def test_announce_types(name, types):
    result = parse_document(data(name), name)
    assert [r.announce_type for r in result.records] == types


def test_arxiv_api_old_style():
    result = parse_document(data(API_OLD), API_OLD)
    rdd, nif = result.records
    assert rdd.title == (
        "RDD: Retrieval-Based Demonstration Decomposer for Planner Alignment in Long-Horizon Tasks"
    )
    assert rdd.arxiv_version == 1
    assert rdd.authors == ("Mingxuan Yan", "Yuping Wang", "Zechun Liu", "Jiachen Li")
    assert rdd.categories == ("cs.RO", "cs.AI", "cs.CV", "cs.LG", "cs.SY", "eess.SY")
    assert rdd.published == dt.date(2025, 10, 16)
    assert rdd.url == "https://arxiv.org/abs/2510.14968"
    assert rdd.abstract.startswith(
        "To tackle long-horizon tasks, recent hierarchical vision-language-action (VLAs) frameworks"
    )
    assert rdd.abstract.endswith("Code and more results are available at rdd-neurips.github.io.")
    assert rdd.raw_text.startswith("<entry><id>http://arxiv.org/abs/2510.14968v1</id>")
    assert nif.authors[-1] == "Martin Magnusson" and len(nif.authors) == 6
    assert nif.categories == ("cs.RO",)


def test_arxiv_api_new_style_with_crlf():
    raw = data(API_CRLF)
    assert raw.count(b"\r\n") == 111  # the file really is CRLF
    result = parse_document(raw, API_CRLF)
    records = by_id(result)
    first = records["2101.02199"]
    assert first.title == "Random-field random surfaces"
    assert first.arxiv_version == 5
    assert first.published == dt.date(2021, 1, 6)  # v1, not the v5 update of 2023
    assert first.authors == ("Paul Dario", "Matan Harel", "Ron Peled")
    assert first.categories == ("math-ph", "math.PR")
    assert "$\\nabla φ$ type" in first.abstract
    assert "in the following cases. It is shown that" in first.abstract  # paragraph joined
    manifolds = records["1607.04331"]
    assert manifolds.arxiv_version == 2
    assert manifolds.categories == ("stat.ML", "cs.LG", "q-bio.NC")
    assert manifolds.authors == ("Subhaneil Lahiri", "Peiran Gao", "Surya Ganguli")
    assert records["2409.12515"].authors[-1] == "Augusto Teixeira"
    assert records["1910.08253"].categories == ("math.PR", "hep-th")
    # The same file with LF line ends gives the same records.
    lf = parse_document(raw.replace(b"\r\n", b"\n"), API_CRLF)
    assert [(r.title, r.abstract) for r in lf.records] == [
        (r.title, r.abstract) for r in result.records
    ]


def test_arxiv_api_new_style_unicode_and_order():
    records = by_id(parse_document(data(API_NEW), API_NEW))
    assert records["2002.00741"].title.startswith("Déjà vu: A Contextualized Temporal Attention")
    assert records["2002.00741"].categories == ("cs.IR", "cs.CL", "cs.LG")
    assert records["2002.00741"].published == dt.date(2020, 1, 29)
    assert records["1112.2954"].authors == (
        "F. Penunuri",
        "R. Peon-Escalante",
        "C. Villanueva",
        "Carlos A. Cruz-Villar",
    )
    assert records["1102.2017"].arxiv_version == 2
    assert records["1102.2017"].published == dt.date(2011, 2, 10)


def test_rss_combined_feed():
    result = parse_document(data(RSS_COMBINED), RSS_COMBINED)
    drift, signal, outlier, polytope = result.records
    assert drift.title == "The Drift Contract: Spectral Updates for Depth-Robust Local Learning"
    assert drift.abstract.startswith("Local learning trains each layer with its own auxiliary loss")
    assert drift.authors == ("Fabien Polly",)
    assert drift.arxiv_version == 1 and drift.published == dt.date(2026, 9, 24)
    assert signal.authors == ("Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan")
    assert signal.categories == ("cs.LG", "cs.AI")
    # Cross-listed and replaced papers: old ids, later versions, v1 date unknown.
    assert (outlier.arxiv_version, outlier.published) == (2, None)
    assert outlier.authors == ("Pritam Dey", "Zhengwu Zhang", "David B. Dunson")
    assert outlier.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert (polytope.arxiv_version, polytope.published) == (3, None)
    assert polytope.url == "https://arxiv.org/abs/2009.13987"


def test_rss_single_category_feed():
    result = parse_document(data(RSS_AI), RSS_AI)
    math, artifact, molclaw = result.records
    assert (
        math.title == "Math Takes Two: A test for emergent mathematical reasoning in communication"
    )
    assert math.authors == ("Michael Cooper", "Samuel Cooper")
    assert len(artifact.authors) == 18
    assert artifact.authors[0] == "Lianrui Zuo" and artifact.authors[-1] == "Bennett A. Landman"
    assert "\\textbf{adaptability}" in artifact.abstract
    assert artifact.categories == ("cs.AI", "cs.CV", "cs.MA")
    assert len(molclaw.authors) == 17
    assert all(r.published == dt.date(2026, 4, 27) for r in result.records)


def test_atom_announcement_feed():
    result = parse_document(data(FEED_ATOM), FEED_ATOM)
    smiles, particles, dcrmta = result.records
    assert smiles.arxiv_version == 1 and smiles.published == dt.date(2026, 9, 25)
    assert smiles.abstract == (
        "Drug toxicity prediction is critical for reducing late-stage attrition in drug "
        "discovery, yet remains challenging due to severe class imbalance, scaffold-based "
        "generalization, and the clinical need for interpretable predictions."
    )
    assert smiles.authors[0] == "Quang Minh Nguyen" and len(smiles.authors) == 6
    assert (particles.arxiv_version, particles.published) == (3, None)
    assert particles.categories == ("hep-ph", "cs.LG", "hep-ex")
    assert dcrmta.title == "DCRMTA: Deep Causal Representation Learning for Multi-Touch Attribution"
    assert dcrmta.authors == ("Jiaming Tang", "Jingxuan Wen", "Liping Jing")


def test_hf_daily_papers_compact():
    records = by_id(parse_document(data(DAILY_COMPACT), DAILY_COMPACT))
    first = records["2606.00467"]
    assert first.title.startswith("On the Limits of LLM Adaptability: Impact of Model-Internalized")
    assert first.authors == ("Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez")
    assert first.upvotes == 0
    assert first.published == dt.date(2026, 5, 30)  # paper.publishedAt, not the shifted one
    assert first.organization == "California institute of technology"
    assert first.ai_keywords[:2] == ("zero-shot annotation", "LLM-as-a-judge")
    assert '("decision stickiness")' in first.abstract and not first.summary_is_ai
    assert first.url == "https://huggingface.co/papers/2606.00467"
    assert first.raw_text.startswith('{"paper":{"id":"2606.00467"')
    psych = records["2606.12730"]
    assert (
        psych.github_url == "https://github.com/psychology-of-AI/Rethinking-Pyschometric-Eval-LLMs"
    )
    assert (psych.github_stars, psych.upvotes) == (1, 5)
    assert (
        records["2606.13594"].project_url == "https://chicychen.github.io/dense-hetero-latent-mas/"
    )
    assert records["2606.13594"].organization == "University of Michigan"
    assert records["2606.10423"].published == dt.date(2026, 6, 9)


def test_hf_daily_papers_pretty_without_ai_fields():
    result = parse_document(data(DAILY_PRETTY), DAILY_PRETTY)
    records = by_id(result)
    assert all(r.ai_keywords == () for r in result.records)
    assert records["2607.27958"].title == (
        "Σ-Mem: An Online Reliability Memory for LLM-based Multi-Agent Systems"
    )
    assert records["2607.27958"].organization == "Nanyang Technological University"
    beta = records["2607.28582"]
    assert beta.title.startswith("β-OPSD: Deriving with Policy Optimization")
    assert beta.project_url == "https://umd-huang-lab.github.io/beta-opsd/"
    assert beta.organization == "Furong Huang's Lab at UMD"
    assert records["2607.23193"].github_url == "https://github.com/MAC-AutoML/OmniScope"
    assert records["2607.23193"].authors[0] == "Jinsen Su"
    assert records["2607.23193"].published == dt.date(2026, 7, 28)


def test_hf_single_paper_and_search():
    (paper,) = parse_document(data(PAPER), PAPER).records
    assert paper.title == "BDH-CQ: In-Context Learning with Recurrent Latent Reasoning"
    assert (paper.upvotes, paper.github_stars) == (782, 11184)
    assert paper.github_url == "https://github.com/pathwaycom/arc-task-gen"
    assert paper.organization == "Pathway" and paper.published == dt.date(2026, 8, 10)
    assert paper.authors[0] == "Björn Engdahl" and "Przemysław Uznański" in paper.authors
    assert "\\$0.0007" in paper.abstract
    search = by_id(parse_document(data(SEARCH), SEARCH))
    ddpm = search["2006.11239"]
    assert ddpm.title == "Denoising Diffusion Probabilistic Models"
    assert ddpm.authors == ("Jonathan Ho", "Ajay Jain", "Pieter Abbeel")
    assert ddpm.published == dt.date(2020, 6, 19)
    assert ddpm.abstract.startswith(
        "We present high quality image synthesis results using diffusion"
    )
    assert search["2112.10752"].authors[-1] == "Björn Ommer"


def test_snapshot_records():
    records = by_id(parse_document(data(SNAP_A), SNAP_A))
    first = records["0704.0001"]
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan")
    assert (first.arxiv_version, first.published) == (2, dt.date(2007, 4, 2))
    assert first.categories == ("hep-ph",)
    assert (first.first_line, first.lines) == (1, (1,))
    assert first.abstract.startswith("A fully differential calculation in perturbative")
    assert records["0704.0002"].categories == ("math.CO", "cs.CG")
    assert records["0704.0002"].published == dt.date(2007, 3, 31)
    assert records["0704.0003"].arxiv_version == 3
    assert "Neal J. Evans II" in records["0704.0009"].authors
    assert records["0704.0020"].authors[:2] == ("The BABAR Collaboration", "B. Aubert")
    more = by_id(parse_document(data(SNAP_B), SNAP_B))
    assert more["0704.0025"].authors == ("A. S. Mishchenko", "N. Nagaosa")  # affiliations dropped
    assert more["0704.0031"].authors == ("V. M. Biryukov",)
    assert more["0704.0027"].arxiv_version == 4
    assert more["0704.0033"].arxiv_version == 2
    assert more["0704.0028"].authors == ("Péter E. Frenkel",)
    assert more["0704.0034"].categories == ("q-bio.PE", "q-bio.CB", "quant-ph")


def test_pasted_page_still_goes_to_the_text_parser():
    result, _ = parse_file(SEQUENCE)
    assert result.format == "hf_page_text"
    assert len(result.records) == 200


@pytest.mark.parametrize("name", [DAILY_COMPACT, API_OLD, RSS_AI, SNAP_B])
def test_detection_ignores_the_file_name(name):
    for alias in ("listing.txt", "page.md", "x.json", "feed.xml", "noext"):
        assert parse_document(data(name), alias).format == parse_document(data(name), name).format


def test_markdown_that_starts_with_a_link_is_page_text():
    page = (
        "[Upvote 117](https://huggingface.co/login)\n"
        "### [Some Paper About Things](https://huggingface.co/papers/2410.05434)\n"
        + "We study things in depth and report what we found about them in detail. " * 3
        + "\n"
    ).encode()
    assert parse_document(page, "page.md").format in {"hf_page_text", "hf_page_markdown"}


# --- damaged copies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "marker"), [(DAILY_COMPACT, '{"paper":'), (DAILY_PRETTY, '"paper": {')]
)
@pytest.mark.parametrize("cut_item", [0, 1, 3, 4])
@pytest.mark.parametrize("into", [1, 40, 900])
def test_truncated_json_keeps_the_complete_items(name, marker, cut_item, into):
    raw = text(name)
    starts = [m.start() for m in re.finditer(re.escape(marker), raw)]
    assert len(starts) == 5
    cut = starts[cut_item] + into
    result = parse_document(raw[:cut].encode(), name)
    assert len(result.records) == cut_item
    assert [r.position for r in result.records] == list(range(1, cut_item + 1))
    (rejection,) = result.rejections
    assert "truncated" in rejection.reason
    assert rejection.reason.startswith(f"entry {cut_item + 1}: ")


@pytest.mark.parametrize("name", [DAILY_COMPACT, DAILY_PRETTY, SEARCH])
def test_json_array_without_closing_bracket(name):
    raw = text(name).rstrip()
    assert raw.endswith("]")
    result = parse_document(raw[:-1].encode(), name)
    assert len(result.records) == len(json.loads(raw))
    assert len(result.rejections) == 1 and "truncated" in result.rejections[0].reason


def test_damaged_item_in_the_middle_costs_only_itself():
    items = json.loads(text(DAILY_COMPACT))
    parts = [json.dumps(item, separators=(",", ":")) for item in items]
    parts[2] = parts[2].replace('"authors":[', '"authors"[', 1)  # a colon lost
    result = parse_document(("[" + ",".join(parts) + "]").encode(), DAILY_COMPACT)
    assert [r.arxiv_id for r in result.records] == [
        "2606.00467",
        "2606.12730",
        "2606.13174",
        "2606.10423",
    ]
    (rejection,) = result.rejections
    assert rejection.reason.startswith("entry 3: not valid JSON (")
    assert "2606.13594" in rejection.raw_text


def test_json_latin1_and_utf16():
    items = json.loads(text(SEARCH))
    items[0]["paper"]["title"] = "Déjà vu: Denoising Diffusion Probabilistic Models"
    body = json.dumps(items, ensure_ascii=False, indent=2)
    latin = parse_document(body.encode("latin-1"), SEARCH)
    assert latin.format == "hf_api_search" and latin.encoding in {"cp1252", "latin-1"}
    assert latin.records[0].title == "Déjà vu: Denoising Diffusion Probabilistic Models"
    assert latin.records[1].authors[-1] == "Björn Ommer"
    pretty = text(DAILY_PRETTY)
    expected = [r.title for r in parse_document(data(DAILY_PRETTY), DAILY_PRETTY).records]
    for encoded in (
        pretty.encode("utf-16"),
        pretty.encode("utf-16-le"),
        b"\xef\xbb\xbf" + data(DAILY_PRETTY),
    ):
        result = parse_document(encoded, DAILY_PRETTY)
        assert [r.title for r in result.records] == expected
        assert result.records[1].title.startswith("Σ-Mem")


def test_json_entry_without_title_or_summary():
    items = json.loads(text(DAILY_COMPACT))
    del items[1]["paper"]["title"], items[1]["title"]
    items[2]["paper"]["summary"] = "  "
    items[2]["summary"] = ""
    del items[3]["paper"]["id"]
    result = parse_document(json.dumps(items).encode(), DAILY_COMPACT)
    assert reasons(result) == ["entry 2: no title", "entry 4: no paper id"]
    ai = by_id(result)["2606.13594"]
    assert ai.summary_is_ai and ai.abstract == items[2]["paper"]["ai_summary"]
    pretty = json.loads(text(DAILY_PRETTY))  # no ai_summary to fall back on
    del pretty[0]["paper"]["summary"], pretty[0]["summary"]
    result = parse_document(json.dumps(pretty).encode(), DAILY_PRETTY)
    assert reasons(result) == ["entry 1: no abstract (summary)"]
    assert len(result.records) == 4 and result.records[0].position == 1


def test_json_duplicates_bounds_and_odd_items():
    items = json.loads(text(DAILY_COMPACT))
    short = json.loads(json.dumps(items[1]))
    short["paper"]["id"] = "2606.99999"
    short["paper"]["title"] = "Hi"
    doc = [*items, items[0], short, 42, {"foo": "bar"}]
    result = parse_document(json.dumps(doc).encode(), DAILY_COMPACT)
    assert len(result.records) == 5
    assert reasons(result) == [
        "duplicate entry: same arXiv id as position 1 (entry 6, 2606.00467)",
        "entry 7 not kept: title of 2 characters is shorter than 5",
        "entry 8: not a Hugging Face paper item (int with no 'paper' object)",
        "entry 9: not a Hugging Face paper item (object with no 'paper' object)",
    ]


def test_truncated_single_paper_object():
    raw = text(PAPER)
    result = parse_document(raw[: len(raw) // 2].encode(), PAPER)
    assert result.records == [] and len(result.rejections) == 1
    assert result.rejections[0].reason.startswith("entry 1: not valid JSON (")


def _entry_spans(raw: str, tag: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(rf"<{tag}>.*?</{tag}>", raw, re.S)]


@pytest.mark.parametrize(
    ("name", "tag"),
    [(API_CRLF, "entry"), (RSS_COMBINED, "item"), (FEED_ATOM, "entry"), (API_OLD, "entry")],
)
@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.5, 0.75, 0.97, 0.999])
def test_truncated_xml_keeps_the_complete_entries(name, tag, fraction):
    raw = text(name)
    cut = int(len(raw) * fraction)
    spans = _entry_spans(raw, tag)
    complete = sum(1 for _, end in spans if end <= cut)
    started = sum(1 for start, _ in spans if start < cut)
    result = parse_document(raw[:cut].encode(), name)
    assert len(result.records) == complete
    assert len(result.rejections) == started - complete
    for rejection in result.rejections:
        assert f"no closing </{tag}> (file truncated or damaged)" in rejection.reason


def test_xml_entry_without_title_or_summary_and_broken_entry():
    raw = text(API_CRLF)
    entries = _entry_spans(raw, "entry")
    second = raw[entries[1][0] : entries[1][1]]
    fourth = raw[entries[3][0] : entries[3][1]]
    fifth = raw[entries[4][0] : entries[4][1]]
    damaged = (
        raw.replace(second, re.sub(r"<title>.*?</title>", "", second))
        .replace(fourth, re.sub(r"<summary>.*?</summary>", "", fourth, flags=re.S))
        .replace(fifth, fifth.replace("</title>", "</titel>"))
    )
    result = parse_document(damaged.encode(), API_CRLF)
    assert [r.arxiv_id for r in result.records] == ["2101.02199", "2409.12515"]
    assert reasons(result)[:2] == ["entry 2: no title", "entry 4: no abstract"]
    assert reasons(result)[2].startswith("entry 5: not well-formed XML (mismatched tag")
    assert "1910.08253" in result.rejections[2].raw_text


def test_arxiv_api_error_entry():
    error = (
        "<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.1234v</id>"
        "<title>Error</title><summary>incorrect id format for 1234.1234v</summary>"
        "<updated>2007-10-12T00:00:00-04:00</updated>"
        "<author><name>arXiv api core</name></author></entry>"
    )
    raw = text(API_NEW)
    doc = raw.replace("</feed>", error + "</feed>")
    result = parse_document(doc.encode(), API_NEW)
    assert len(result.records) == 3
    assert reasons(result) == ["entry 4: arXiv API error: incorrect id format for 1234.1234v"]
    alone = (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<link href="http://arxiv.org/api/query?id_list=1234.1234v" rel="self"/>'
        "<id>http://arxiv.org/api/xyz</id>" + error + "</feed>"
    )
    result = parse_document(alone.encode(), "error.xml")
    assert result.format == "arxiv_api_atom" and result.records == []
    assert reasons(result) == ["entry 1: arXiv API error: incorrect id format for 1234.1234v"]


def test_xml_duplicates_and_latin1():
    raw = text(RSS_COMBINED)
    first = _entry_spans(raw, "item")[0]
    doc = raw.replace("</channel>", raw[first[0] : first[1]] + "</channel>")
    result = parse_document(doc.encode(), RSS_COMBINED)
    assert len(result.records) == 4
    assert reasons(result) == ["duplicate entry: same arXiv id as position 1 (entry 5, 2609.26811)"]
    api = text(API_NEW)
    as_latin = parse_document(api.encode("latin-1"), API_NEW)  # declared UTF-8, is not
    assert as_latin.records[0].title.startswith("Déjà vu")
    declared = api.replace("encoding='UTF-8'", "encoding='ISO-8859-1'").encode("latin-1")
    assert parse_document(declared, API_NEW).records[0].title.startswith("Déjà vu")


def test_feed_authors_with_and_and_suffixes():
    raw = text(RSS_COMBINED)
    doc = raw.replace(
        "<dc:creator>Fabien Polly</dc:creator>",
        "<dc:creator>Fabien Polly, John Smith, Jr., Ada Byron and Alan Turing</dc:creator>",
    )
    record = parse_document(doc.encode(), RSS_COMBINED).records[0]
    assert record.authors == ("Fabien Polly", "John Smith, Jr.", "Ada Byron", "Alan Turing")


def test_snapshot_broken_lines():
    lines = text(SNAP_A).split("\n")
    lines[6] = lines[6][:200]  # line 7 cut short
    row = json.loads(lines[9])
    del row["abstract"]
    lines[9] = json.dumps(row)  # line 10 without abstract
    lines[11] = "[1, 2]"
    lines.insert(15, lines[0])  # line 16 repeats line 1
    result = parse_document("\n".join(lines).encode(), SNAP_A)
    assert len(result.records) == 20
    assert reasons(result) == [
        "line 7: not valid JSON (Unterminated string starting at)",
        "line 10: no abstract",
        "line 12: not a JSON object (a list)",
        "duplicate entry: same arXiv id as position 1 (line 16, 0704.0001)",
    ]
    assert [r.line for r in result.rejections] == [7, 10, 12, 16]
    assert result.rejections[0].lines == (7,)
    assert by_id(result)["0704.0023"].first_line == 24


def test_snapshot_broken_first_line_is_still_the_snapshot():
    lines = text(SNAP_B).split("\n")
    lines[0] = lines[0][:-40]
    result = parse_document("\n".join(lines).encode(), SNAP_B)
    assert result.format == "arxiv_snapshot"
    assert len(result.records) == 10
    assert reasons(result) == ["line 1: not valid JSON (Unterminated string starting at)"]


# --- iter_snapshot -----------------------------------------------------------------------


def test_iter_snapshot_from_path_lines_and_gzip(tmp_path):
    ids = [f"0704.{n:04d}" for n in range(1, 24)]
    from_path = list(iter_snapshot(FIXTURES / SNAP_A))
    assert [r.arxiv_id for r in from_path] == ids
    assert [r.arxiv_id for r in iter_snapshot(str(FIXTURES / SNAP_A))] == ids
    assert [r.arxiv_id for r in iter_snapshot(io.StringIO(text(SNAP_A)))] == ids
    assert [r.arxiv_id for r in iter_snapshot(data(SNAP_A).splitlines(keepends=True))] == ids
    packed = tmp_path / "arxiv-metadata-oai-snapshot.json.gz"
    packed.write_bytes(gzip.compress(data(SNAP_A) + data(SNAP_B)))
    both = list(iter_snapshot(packed))
    assert [r.arxiv_id for r in both] == [f"0704.{n:04d}" for n in range(1, 35)]
    assert [r.position for r in both] == list(range(1, 35))
    assert both[23].first_line == 24


def test_iter_snapshot_category_filter_and_date_field():
    lines = data(SNAP_A).splitlines()
    assert [r.arxiv_id for r in iter_snapshot(lines, {"math.CO"})] == [
        "0704.0002",
        "0704.0004",
        "0704.0010",
    ]
    kept = [r.arxiv_id for r in iter_snapshot(lines, {"math"})]  # an archive keeps all of it
    assert kept == [
        "0704.0002",
        "0704.0004",
        "0704.0005",
        "0704.0010",
        "0704.0011",
        "0704.0012",
        "0704.0013",
        "0704.0014",
        "0704.0019",
        "0704.0022",
    ]
    assert [r.arxiv_id for r in iter_snapshot(lines, {"cs.CG", "gr-qc"})] == [
        "0704.0002",
        "0704.0007",
    ]
    assert list(iter_snapshot(lines, set())) == []
    first = next(iter_snapshot(lines, date_field="update_date"))
    assert first.published == dt.date(2008, 11, 26)
    with pytest.raises(ValueError, match="date_field"):
        next(iter_snapshot(lines, date_field="v2"))


def test_iter_snapshot_bad_lines_and_duplicates():
    lines = data(SNAP_B).splitlines()
    lines[2] = b"\xff\xfe not utf-8"
    lines.append(lines[0])
    out = list(iter_snapshot(lines))
    rejections = [r for r in out if isinstance(r, Rejection)]
    assert [r.reason for r in rejections] == [
        "line 3: not UTF-8 text (invalid start byte)",
        "duplicate entry: same arXiv id as position 1 (line 12, 0704.0024)",
    ]
    assert sum(isinstance(r, ListingRecord) for r in out) == 10
    assert sum(isinstance(r, ListingRecord) for r in iter_snapshot(lines, dedupe=False)) == 11


# --- files that are not listings ----------------------------------------------------------


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("listing.txt", "hello")
    return buf.getvalue()


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("listing.json")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"[]"))
    return buf.getvalue()


NOT_LISTINGS = [
    (
        "paper.pdf",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "paper.pdf: PDF document, not a listing",
    ),
    ("shot.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40), "shot.png: PNG image"),
    ("shot.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40), "shot.jpg: JPEG image"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00" + bytes(20), "anim.gif: GIF image"),
    ("pic.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20), "pic.webp: WebP image"),
    ("papers.zip", _zip(), "papers.zip: ZIP archive"),
    ("papers.json.gz", gzip.compress(b"[]"), "papers.json.gz: gzip-compressed data"),
    ("papers.tar", _tar(), "papers.tar: tar archive"),
    ("papers.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24), "papers.7z: 7z archive"),
    ("blob.bin", bytes(range(256)) * 8, "blob.bin: binary data"),
    (
        "page.html",
        b"<!DOCTYPE html>\n<html><head><title>Daily Papers</title></head><body></body></html>",
        "page.html: HTML page source, not a listing: save the page as text or Markdown",
    ),
    (
        "page.htm",
        b"  <html lang='en'><body><h3>Paper</h3></body></html>\n",
        "page.htm: HTML page source",
    ),
    (
        "xhtml.xml",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        "xhtml.xml: HTML page source",
    ),
    ("empty.json", b"[]", "empty.json: empty JSON array, no papers"),
    ("blank.json", b" {\n}\n", "blank.json: empty JSON object, no papers"),
    (
        "numbers.json",
        b"[1, 2, 3]",
        "numbers.json: JSON array of int values, not Hugging Face papers",
    ),
    (
        "models.json",
        b'[{"modelId": "x/y", "likes": 3}]',
        "models.json: JSON array of objects with keys (modelId, likes), not Hugging Face papers",
    ),
    (
        "config.json",
        b'{"name": "x", "version": 2}',
        "config.json: JSON object with keys (name, version), not a Hugging Face paper",
    ),
    ("err.json", b'{"error": "Paper not found"}', "err.json: API error response (Paper not found)"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "deep.json: JSON"),
    (
        "logo.svg",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect/></svg>\n',
        "logo.svg: XML document (<svg>), not a listing feed",
    ),
    (
        "pom.xml",
        b'<project xmlns="http://maven.apache.org/POM/4.0.0">\n  <modelVersion>4.0.0</modelVersion>\n</project>',
        "pom.xml: XML document (<project>), not a listing feed",
    ),
]


@pytest.mark.parametrize(
    ("name", "payload", "message"), NOT_LISTINGS, ids=[n for n, _, _ in NOT_LISTINGS]
)
def test_files_that_are_not_listings(name, payload, message):
    with pytest.raises(ListingFileError) as info:
        parse_document(payload, name)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_parse_file_errors(tmp_path, monkeypatch):
    with pytest.raises(ListingFileError, match=r"^missing\.json: cannot read"):
        parse_file(tmp_path / "missing.json")
    big = tmp_path / "big.json"
    big.write_bytes(data(DAILY_COMPACT))
    monkeypatch.setattr(listing, "MAX_FILE_BYTES", 1000)  # the one size limit
    with pytest.raises(ListingFileError, match=r"^big\.json: 28,365 bytes is larger than"):
        parse_file(big)


def test_empty_feed_and_empty_file():
    raw = text(FEED_ATOM)
    empty = raw[: raw.index("<entry>")] + "</feed>"
    result = parse_document(empty.encode(), "empty.xml")
    assert result.format == "arxiv_feed_atom" and result.records == [] and result.rejections == []
    assert parse_document(b"", "nothing.txt").records == []
