"""Tests for transforms.keyphrases (pure Python, no Dagster, no benchmark data needed)."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from transforms.keyphrases import (
    EXTRACTOR_CODE_VERSION,
    KEYPHRASE_SCHEMA,
    ExtractorConfig,
    Keyphrase,
    KeyphraseExtractor,
    build_corpus_stats,
    extract_jsonl,
    extract_many,
    fold_plural,
    is_boilerplate,
    keyphrases_frame,
    normalize_keyphrase,
    select_pending,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "hf_papers_sequence.txt"

TOPICS = [
    (
        "Discrete flow matching for biological sequence design",
        "Discrete flow matching models generate biological sequences. We propose a multi-objective "
        "guided discrete flow matching sampler that steers biological sequence design toward "
        "Pareto-efficient trade-offs. Experimental results show that the sampler improves protein "
        "binding affinity.",
    ),
    (
        "Sparse attention for long-context language models",
        "Large language models struggle with long contexts because self-attention is quadratic. "
        "This paper introduces a sparse attention kernel for long-context language models. The "
        "sparse attention kernel reduces memory use and keeps perplexity on long documents.",
    ),
    (
        "Graph neural networks for traffic forecasting",
        "Traffic forecasting requires spatial and temporal reasoning. We present a graph neural "
        "network that combines spatial graph convolution with temporal attention. On road sensor "
        "datasets the graph neural network achieves state-of-the-art traffic forecasting accuracy.",
    ),
    (
        "Reinforcement learning from human feedback with reward model ensembles",
        "Reward model ensembles reduce reward hacking in reinforcement learning from human feedback. "
        "We study reward model ensembles for policy optimization and show that uncertainty "
        "penalties improve policy robustness.",
    ),
]


def make_docs(n: int = 20) -> list[tuple[str, str, str]]:
    return [
        (
            f"p{i:03d}",
            TOPICS[i % 4][0] + f" (variant {i})",
            TOPICS[i % 4][1] + f" Setting {i} uses {i + 3} runs.",
        )
        for i in range(n)
    ]


# ---------------------------------------------------------------------------- normal forms


@pytest.mark.parametrize(
    ("phrase", "norm"),
    [
        ("Language Model", "language model"),
        ("language models", "language model"),
        ("  LANGUAGE\t  models ", "language model"),
        ("state-of-the-art", "state of the art"),
        ("Multi-Objective", "multi objective"),
        ("self–attention", "self attention"),  # en dash
        ("studies", "study"),
        ("probabilities", "probability"),
        ("policies", "policy"),
        ("analysis", "analysis"),
        ("analyses", "analysis"),
        ("bus", "bus"),
        ("buses", "bus"),
        ("process", "process"),
        ("processes", "process"),
        ("classes", "class"),
        ("approaches", "approach"),
        ("matrices", "matrix"),
        ("criteria", "criterion"),
        ("physics", "physics"),
        ("series", "series"),
        ("metrics", "metric"),
        ("corpus", "corpus"),
        ("LLMs", "llm"),
        ("the model's outputs", "the model output"),
        ("graph neural networks", "graph neural network"),
        ("inductive biases", "inductive bias"),  # lemminflect's noun lemma
        ("lenses", "lens"),
        ("glasses", "glass"),
        ("statistics", "statistics"),  # listed as not a plural: kept
        ("GANs", "gan"),  # lemminflect does not know it: the rules
        ("mixture of experts", "mixture of expert"),
    ],
)
def test_normalize_keyphrase(phrase, norm):
    assert normalize_keyphrase(phrase) == norm


def test_noun_lemmas_equal_lemminflect():
    """The noun lemmas read from lemminflect's tables are getAllLemmas(w, "NOUN")'s first."""
    from lemminflect import getAllLemmas

    from transforms.keyphrases import _noun_lemma, _pos_table

    words = [w for w in _pos_table() if w == w.lower() and w.endswith("s")]
    mismatched = [
        w for w in words if _noun_lemma(w) != (getAllLemmas(w, "NOUN").get("NOUN") or (None,))[0]
    ]
    assert len(words) > 10_000 and mismatched == []
    assert fold_plural("biases") == "bias" and fold_plural("lenses") == "lens"


def test_singular_and_plural_share_normal_form():
    assert normalize_keyphrase("Language-Models") == normalize_keyphrase("language model")
    assert fold_plural("gas") == "gas" and fold_plural("status") == "status"


@pytest.mark.parametrize(
    "phrase",
    [
        "paper",
        "this paper",
        "propose",
        "state-of-the-art",
        "experimental results",
        "results show",
        "proposed method",
        "extensive experiments",
        "42",
        "3.14",
        "1,000",
        "model",
        "the",
        "",
        "Scale",
        "Cure",
        "methods",
        "results",
    ],
)
def test_boilerplate_dropped(phrase):
    assert is_boilerplate(normalize_keyphrase(phrase))


@pytest.mark.parametrize(
    "phrase",
    ["discrete flow matching", "language model", "graph neural networks", "reward hacking"],
)
def test_real_phrases_not_boilerplate(phrase):
    assert not is_boilerplate(normalize_keyphrase(phrase))


# ---------------------------------------------------------------------------- extractor


def test_extractor_ranks_and_cleaning():
    title, abstract = TOPICS[0]
    kps = KeyphraseExtractor().extract(title, abstract)
    assert kps, "no keyphrases"
    assert [k.rank for k in kps] == list(range(1, len(kps) + 1))
    assert all(
        isinstance(k, Keyphrase) and isinstance(k.score, float) and 0 < k.score <= 1 for k in kps
    )
    assert [k.score for k in kps] == sorted((k.score for k in kps), reverse=True)
    norms = [k.keyphrase_norm for k in kps]
    assert len(norms) == len(set(norms)), "duplicate normal forms"
    assert all(k.keyphrase_norm == normalize_keyphrase(k.keyphrase) for k in kps)
    assert "discrete flow matching" in norms
    for k in kps:
        assert not is_boilerplate(k.keyphrase_norm)
        assert not any(
            w in {"propose", "show", "paper", "result"} for w in k.keyphrase_norm.split()
        )
        assert not k.keyphrase_norm.replace(" ", "").isdigit()


def test_no_near_duplicates_in_one_list():
    text = (
        "Data set distillation\nWe distill a data set into a small dataset. Dataset distillation "
        "and data set distillation compress data sets; distillation of the data set keeps accuracy."
    )
    kps = KeyphraseExtractor().extract_text(text)
    squashed = [k.keyphrase_norm.replace(" ", "") for k in kps]
    assert len(squashed) == len(set(squashed))
    bags = [frozenset(k.keyphrase_norm.split()) for k in kps]
    assert len(bags) == len(set(bags))
    # a single word already inside a better phrase is not repeated
    for i, k in enumerate(kps):
        if len(k.keyphrase_norm.split()) == 1:
            assert not any(k.keyphrase_norm in b for b in bags[:i])


def test_top_and_empty_inputs():
    ex = KeyphraseExtractor(replace(ExtractorConfig(), top=3))
    assert len(ex.extract(*TOPICS[1])) == 3
    assert KeyphraseExtractor().extract("", "") == []
    assert KeyphraseExtractor().extract_text("") == []


def test_extract_text_matches_extract():
    ex = KeyphraseExtractor()
    title, abstract = TOPICS[2]
    assert ex.extract_text(f"{title}\n{abstract}") == ex.extract(title, abstract)


def test_corpus_stats_deterministic_picklable_and_used():
    texts = [f"{t}\n{a}" for t, a in TOPICS] * 20
    c1, c2 = build_corpus_stats(texts), build_corpus_stats(iter(texts))
    assert c1 == c2 and pickle.loads(pickle.dumps(c1)) == c1
    assert c1.n_docs == 80 and c1.df["language"] == 20
    assert 0 < c1.idf("language") < c1.idf("neverseenword") == 1.0
    ex = KeyphraseExtractor(corpus=c1)
    a = ex.extract(*TOPICS[1])
    assert a == KeyphraseExtractor(corpus=c2).extract(*TOPICS[1])
    assert [k.rank for k in a] == list(range(1, len(a) + 1))


def test_parallel_equals_serial():
    docs = make_docs(20)
    corpus = build_corpus_stats(f"{t}\n{a}" for _, t, a in docs)
    serial = extract_many(docs, corpus=corpus, workers=1)
    parallel = extract_many(docs, corpus=corpus, workers=2, chunk_size=3)
    assert list(serial) == [d[0] for d in docs]
    assert parallel == serial and list(parallel) == list(serial)
    assert all(serial[d[0]] for d in docs)
    # statistics of the docs themselves: counted by the parent while the workers score
    assert extract_many(docs, corpus="auto", workers=1) == serial
    assert extract_many(docs, corpus="auto", workers=2) == serial
    assert extract_many(docs, corpus="auto", workers=2, chunk_size=1) == serial
    with pytest.raises(ValueError, match="auto"):
        extract_many(docs, corpus="all", workers=1)


def test_spawned_workers_equal_serial(monkeypatch):
    """Where fork is missing (spawn): the chunks travel to the workers, the same output."""
    import multiprocessing

    import transforms.keyphrases as module

    docs = make_docs(8)
    serial = extract_many(docs, corpus="auto", workers=1)
    monkeypatch.setattr(module, "_pool_context", lambda: multiprocessing.get_context("spawn"))
    assert extract_many(docs, corpus="auto", workers=2) == serial


def test_auto_corpus_failure_stops_the_workers(monkeypatch):
    """If counting the statistics fails, the error comes out and no worker hangs."""
    import transforms.keyphrases as module

    def broken(docs):
        raise RuntimeError("counting failed")

    monkeypatch.setattr(module, "_docs_stats", broken)
    with pytest.raises(RuntimeError, match="counting failed"):
        extract_many(make_docs(20), corpus="auto", workers=2)


# ---------------------------------------------------------------------------- issue 12 fixes

SEQREC = (
    "Text is all you need: language representations for sequential recommendation",
    "Sequential recommendation aims to model dynamic user behavior from historical "
    "interactions. Representation learning remains a challenge when item identifiers are "
    "sparse. We model user preferences with language representations, and the recommendation "
    "framework offers a simple approach to cold-start items. Output data matters significantly "
    "for sequential recommendation.",
)
MOE = (
    "Sparse mixture of experts models for efficient language modeling",
    "Sparse mixture of experts models route each token to a few experts. We show that sparse "
    "mixture of experts models scale language modeling at a fixed compute budget, and that "
    "chain of thought prompting benefits from expert routing.",
)
GENE = (
    "LLaMA-Gene: A General-purpose Gene Task Large Language Model",
    "We present a general-purpose gene task large language model. The general-purpose gene "
    "task large language model reads DNA and protein sequences after instruction fine-tuning.",
)
LATEX = (
    "Dirichlet flow matching",
    r"Dirichlet flow matching avoids the pathologies of na\"ive linear flow matching on the "
    r"simplex, at a cost of $O(n^2)$ per step. \emph{Flow matching} designs DNA sequences.",
)


def norms_of(doc: tuple[str, str]) -> list[str]:
    return [k.keyphrase_norm for k in KeyphraseExtractor().extract(*doc)]


def test_no_keyphrase_ends_in_a_verb_or_starts_with_one():
    norms = norms_of(SEQREC)
    assert "sequential recommendation" in norms
    for norm in norms:
        words = norm.split()
        assert words[-1] not in {"aim", "remains", "offer", "matter", "matters"}, norm
        assert norm != "model user preference" and not norm.startswith("model dynamic"), norm
    # a verb cut from its sentence after the subject ("the framework offers a ...")
    assert "recommendation framework" in norms


def test_no_keyphrase_cut_before_its_head_noun():
    norms = norms_of(GENE)
    assert "gene task large language model" in norms
    assert not [n for n in norms if n.endswith("language")], norms


def test_of_terms_kept_whole():
    norms = norms_of(MOE)
    assert "sparse mixture of expert model" in norms
    assert not {"sparse mixture", "expert model", "mixture"} & set(norms)
    assert not [n for n in norms if n.startswith("expert model")], norms
    assert any(n.startswith("chain of thought") for n in norms)
    # other "of" phrases are still no keyphrases
    from transforms.keyphrases import _cleaner

    assert _cleaner("en")._judge("number of parameters") is None
    assert _cleaner("en")._judge("mixture of experts")[0] == "mixture of expert"


def test_latex_decoded_before_extraction():
    kps = KeyphraseExtractor().extract(*LATEX)
    norms = [k.keyphrase_norm for k in kps]
    assert "naïve linear flow matching" in norms
    assert not [n for n in norms if n.split()[0] in {"ive", "emph", "o"}], norms
    assert all("\\" not in k.keyphrase and "$" not in k.keyphrase for k in kps)


@pytest.mark.parametrize("doc", [*TOPICS, SEQREC, MOE, GENE, LATEX])
def test_top_five_hold_no_phrase_inside_another(doc):
    kps = KeyphraseExtractor().extract(*doc)
    top = [f" {k.keyphrase_norm} " for k in kps[:5]]
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            assert a not in b and b not in a, (a, b)
    # the phrase that waited comes right after them, and scores never rise down the list
    assert [k.score for k in kps] == sorted((k.score for k in kps), reverse=True)


def test_contained_phrase_waits_for_the_first_five():
    """On the first card of the bundled sample, the phrases inside (or around) a better one
    come right after the first five, in their order, with the fifth's score."""
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    title, abstract = lines[2].removeprefix("Subscribe"), lines[3]
    kps = KeyphraseExtractor().extract(title, abstract)
    norms = [k.keyphrase_norm for k in kps]
    unconstrained = KeyphraseExtractor(replace(ExtractorConfig(), distinct_top=0))
    before = [k.keyphrase_norm for k in unconstrained.extract(title, abstract)]
    assert "flow matching" in before[:6] and "discrete flow matching" in before[:6]
    first_five = [f" {n} " for n in norms[:5]]
    waited = [n for n in before if n not in norms[:5] and before.index(n) < norms.index(n)]
    assert waited and norms[5 : 5 + len(waited)] == waited
    assert all(any(f" {n} " in q or q in f" {n} " for q in first_five) for n in waited)
    assert {k.score for k in kps[4 : 5 + len(waited)]} == {kps[4].score}


def test_generic_single_words_are_not_keyphrases():
    kps = KeyphraseExtractor().extract(
        "Scale",
        "Scale matters. We study scale and cure rates; the cure depends on scale. Scale, cure "
        "and methods: results on protein folding at scale.",
    )
    singles = {k.keyphrase_norm for k in kps if " " not in k.keyphrase_norm}
    assert not singles & {"scale", "cure", "method", "result"}, singles


# ---------------------------------------------------------------------------- versioning


def test_config_version():
    base = ExtractorConfig()
    assert base.version() == ExtractorConfig().version()
    assert len(base.version()) == 12
    changed = {
        replace(base, top=5).version(),
        replace(base, max_words=3).version(),
        replace(base, length_boost=2.0).version(),
        replace(base, drop_fragments=False).version(),
        replace(base, distinct_top=3).version(),
    }
    assert base.version() not in changed and len(changed) == 5
    assert EXTRACTOR_CODE_VERSION


# ---------------------------------------------------------------------------- word lists

#: One valid new entry per kind of lexicon file.
_NEW_ENTRY = {
    "word": "zzzqword",
    "phrase": "zzzq phrase",
    "of_term": "zzzq of words",
    "plural": "zzzqs\tzzzq",
    "verb": "+zzzqed",
}


def _lexicon_copy(tmp_path: Path) -> Path:
    import shutil

    from transforms.keyphrase_lexicon import LEXICON_DIR

    folder = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, folder)
    return folder


def test_version_follows_the_word_lists(tmp_path, monkeypatch):
    """Editing any list changes the extractor version with no bump; a comment does not."""
    import transforms.keyphrase_lexicon as lex

    folder = _lexicon_copy(tmp_path)
    assert lex.load_lexicon(folder).digest == lex.LEXICON_DIGEST
    base = ExtractorConfig().version()
    digests = {lex.LEXICON_DIGEST}
    for name, (kind, _) in lex.FILES.items():
        path = folder / name
        original = path.read_text(encoding="utf-8")
        path.write_text(original + "# a new comment\n\n", encoding="utf-8")
        assert lex.load_lexicon(folder).digest == lex.LEXICON_DIGEST, name
        path.write_text(original + _NEW_ENTRY[kind] + "\n", encoding="utf-8")
        digest = lex.load_lexicon(folder).digest
        assert digest not in digests, name
        digests.add(digest)
        monkeypatch.setattr(lex, "LEXICON_DIGEST", digest)
        assert ExtractorConfig().version() != base, name
        monkeypatch.undo()
        path.write_text(original, encoding="utf-8")
    assert ExtractorConfig().version() == base
    monkeypatch.setattr(lex, "lemminflect_version", lambda: "0.0.0")
    assert ExtractorConfig().version() != base


def test_lemminflect_version_is_the_installed_one():
    from importlib.metadata import version

    import lemminflect

    from transforms.keyphrase_lexicon import lemminflect_version, lexicon_version

    assert lemminflect_version() == lemminflect.__version__ == version("lemminflect")
    assert lexicon_version().endswith(f"+lemminflect-{lemminflect.__version__}")


def test_verb_forms_are_lemminflect_inflections_of_the_lemmas():
    """VERB_FORMS = lemminflect's inflections of the lemmas of verb_lemmas.txt (the tags
    asked for, single-word spellings) plus the '+form' additions, each of which lemminflect
    does not give."""
    from lemminflect import getAllInflections

    from transforms.keyphrase_lexicon import LEXICON_DIR, VERB_FORMS

    generated: set[str] = set()
    added: set[str] = set()
    for raw in (LEXICON_DIR / "verb_lemmas.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        lemma, *tags = line.split()
        if lemma.startswith("+"):
            added.add(lemma[1:])
            continue
        forms = getAllInflections(lemma, upos="VERB")
        assert forms, lemma
        if tags and tags[0].startswith("-"):
            keep = set(forms) - {t[1:] for t in tags}
        else:
            keep = set(tags) or set(forms)
        assert keep <= set(forms), line
        generated |= {f for t in keep for f in forms[t] if f.isalpha()}
    assert len(generated) > 300
    assert added == {"cannot", "occurred", "proven"}
    assert not added & generated
    assert generated | added == VERB_FORMS


def test_verb_table_reader_equals_get_all_inflections():
    """verb_forms() reads lemminflect's tables directly; it answers as getAllInflections(lemma,
    upos="VERB") for every word of the table (and for the modals, "be" and an unknown word)."""
    from lemminflect import getAllInflections

    from transforms.keyphrase_lexicon import _inflection_tables, verb_forms

    table, _ = _inflection_tables()
    lines = table.split("\n")
    words = sorted({line.split(",", 1)[0] for line in lines if line} | {"zzzunknownzzz"})
    words += ["aardvark" * 3, "zzzz", lines[0].split(",")[0], lines[-2].split(",")[0]]
    words = [w for w in words if w == w.lower()] + ["can", "must", "be", "dare"]
    mismatched = [w for w in words if verb_forms(w) != getAllInflections(w, upos="VERB")]
    assert len(words) > 30_000 and mismatched == []


#: Entries the hand lists held that lemminflect already decides the same way (its noun lemmas
#: for fold_plural, its parts of speech for the verb-only gerund rule): no longer listed.
_LEFT_TO_LEMMINFLECT_PLURALS = (
    "analyses:analysis buses:bus crises:crisis diagnoses:diagnosis gases:gas "
    "hypotheses:hypothesis indices:index matrices:matrix parentheses:parenthesis "
    "syntheses:synthesis theses:thesis vertices:vertex viruses:virus statuses:status "
    "campuses:campus bonuses:bonus censuses:census consensuses:consensus focuses:focus "
    "apices:apex appendices:appendix halves:half lives:life wolves:wolf knives:knife "
    "shelves:shelf selves:self movies:movie cookies:cookie zombies:zombie quizzes:quiz "
    "caches:cache niches:niche avalanches:avalanche headaches:headache"
)
_LEFT_TO_LEMMINFLECT_SINGULARS = (
    "acoustics aerodynamics aesthetics alias apparatus astrophysics atlas bias biophysics "
    "canvas chaos cosmos diabetes dynamics economics electrodynamics electronics ergonomics "
    "ethics forensics genetics geophysics herpes kudos lens linguistics logistics mathematics "
    "means measles metaphysics mumps news pancreas pathos physics politics pragmatics "
    "robotics semantics series species thermodynamics plus this"
)
_LEFT_TO_LEMMINFLECT_GERUNDS = (
    "ranking clustering sampling encoding denoising embedding indexing labeling labelling "
    "matching planning rendering testing tokenizing training watermarking grounding "
    "inpainting painting"
)


def test_words_left_to_lemminflect_fold_as_the_lists_did():
    from transforms.keyphrase_lexicon import IRREGULAR_PLURALS, NON_PLURAL_S, TECH_GERUNDS
    from transforms.keyphrases import _verb_gerund

    pairs = [p.split(":") for p in _LEFT_TO_LEMMINFLECT_PLURALS.split()]
    assert not {p for p, _ in pairs} & IRREGULAR_PLURALS.keys()
    assert [p for p, s in pairs if fold_plural(p) != s] == []
    singulars = _LEFT_TO_LEMMINFLECT_SINGULARS.split()
    assert not set(singulars) & NON_PLURAL_S
    assert [w for w in singulars if fold_plural(w) != w] == []
    gerunds = _LEFT_TO_LEMMINFLECT_GERUNDS.split()
    assert not set(gerunds) & TECH_GERUNDS
    assert [w for w in gerunds if _verb_gerund(w)] == []
    # what stays listed is needed: lemminflect alone would decide otherwise
    assert fold_plural("axes") == "axis" and fold_plural("children") == "child"
    assert fold_plural("statistics") == "statistics" and fold_plural("genomics") == "genomics"
    assert not _verb_gerund("parsing")


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("generic_words.txt", "Method", "expected one lowercase word"),
        ("generic_words.txt", "two words", "expected one lowercase word"),
        ("generic_words.txt", "paper", "duplicate entry (first on line"),
        ("boilerplate_phrases.txt", "this paper-like", "expected lowercase words"),
        ("of_terms.txt", "bag with words", 'expected a term "X of Y"'),
        ("irregular_plurals.txt", "mice", "expected 'plural<TAB>singular'"),
        ("irregular_plurals.txt", "mice\tmouse\tx", "expected 'plural<TAB>singular'"),
        ("verb_lemmas.txt", "propose VBX", "unknown tag 'VBX'"),
        ("verb_lemmas.txt", "propose VBD -VBG", "unknown tag '-VBG'"),
        ("verb_lemmas.txt", "zzzunknownzzz", "lemminflect has no verb inflections"),
        ("verb_lemmas.txt", "can VBZ", "these tags give no form"),
        ("verb_lemmas.txt", "+two words", "expected '+form'"),
    ],
)
def test_lexicon_loader_rejects_a_malformed_line(tmp_path, name, line, message):
    from transforms.keyphrase_lexicon import LexiconError, load_lexicon

    folder = _lexicon_copy(tmp_path)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    lineno = len(text.splitlines()) + 1
    path.write_text(text + line + "  # the bad line\n", encoding="utf-8")
    with pytest.raises(LexiconError) as err:
        load_lexicon(folder)
    assert str(err.value).startswith(f"{path}, line {lineno}: {message}"), str(err.value)
    assert repr(line)[:-1] in str(err.value)  # the line as written, its comment too


def test_lexicon_loader_rejects_missing_and_unknown_files(tmp_path):
    from transforms.keyphrase_lexicon import LexiconError, load_lexicon

    folder = _lexicon_copy(tmp_path)
    (folder / "generic_word.txt").write_text("paper\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"generic_word\.txt: not a lexicon file"):
        load_lexicon(folder)
    (folder / "generic_word.txt").unlink()
    (folder / "ly_nouns.txt").unlink()
    with pytest.raises(LexiconError, match=r"ly_nouns\.txt: cannot read the lexicon file"):
        load_lexicon(folder)


# ---------------------------------------------------------------------------- warehouse helpers


def test_keyphrases_frame_schema():
    res = extract_many(make_docs(4), workers=1)
    df = keyphrases_frame(res, "v1")
    assert df.schema == pl.Schema(KEYPHRASE_SCHEMA)
    assert list(df.columns) == [
        "paper_id",
        "rank",
        "keyphrase",
        "keyphrase_norm",
        "score",
        "extractor_version",
    ]
    assert df.height == sum(len(v) for v in res.values())
    empty = keyphrases_frame({}, "v1")
    assert empty.height == 0 and empty.schema == pl.Schema(KEYPHRASE_SCHEMA)


def test_select_pending_incremental():
    docs = make_docs(6)
    papers = pl.DataFrame(
        {
            "paper_id": [d[0] for d in docs],
            "title": [d[1] for d in docs],
            "abstract": [d[2] for d in docs],
        }
    )
    v1 = ExtractorConfig().version()
    empty = keyphrases_frame({}, v1)
    assert select_pending(papers, empty, v1).height == 6
    first = extract_many(list(select_pending(papers, empty, v1).iter_rows()), workers=1)
    existing = keyphrases_frame(first, v1)
    assert select_pending(papers, existing, v1).height == 0  # second pass: nothing to do
    v2 = replace(ExtractorConfig(), top=5).version()
    assert (
        select_pending(papers, existing, v2)["paper_id"].to_list() == papers["paper_id"].to_list()
    )
    # a new paper is the only pending one
    more = pl.concat(
        [papers, pl.DataFrame({"paper_id": ["new"], "title": ["t"], "abstract": ["a"]})]
    )
    assert select_pending(more, existing, v1)["paper_id"].to_list() == ["new"]


# ---------------------------------------------------------------------------- JSONL


def test_extract_jsonl_round_trip(tmp_path):
    docs = make_docs(5)
    inp, out = tmp_path / "in.jsonl", tmp_path / "out" / "kp.jsonl"
    inp.write_text(
        "".join(json.dumps({"id": i, "text": f"{t}\n{a}"}) + "\n" for i, t, a in docs) + "\n"
    )
    assert extract_jsonl(inp, out, top=4, workers=1) == 5
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [d[0] for d in docs]
    corpus = build_corpus_stats(f"{t}\n{a}" for _, t, a in docs)
    ex = KeyphraseExtractor(replace(ExtractorConfig(), top=4), corpus)
    for r, (_, t, a) in zip(rows, docs, strict=False):
        assert 0 < len(r["keyphrases"]) <= 4
        assert r["keyphrases"] == [k.keyphrase for k in ex.extract(t, a)]
    assert [p.name for p in out.parent.iterdir()] == ["kp.jsonl"]  # no temp file left


@pytest.mark.parametrize(
    ("bad", "msg"),
    [
        ("{not json", "line 2"),
        ('{"text": "no id"}', "line 2"),
        ('{"id": 1, "text": 5}', "line 2"),
        ("[1, 2]", "line 2"),
    ],
)
def test_extract_jsonl_bad_line(tmp_path, bad, msg):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text(
        json.dumps({"id": "a", "text": "Title\nSome abstract about graph neural networks."})
        + "\n"
        + bad
        + "\n"
    )
    out.write_text("previous\n")
    with pytest.raises(ValueError, match=msg):
        extract_jsonl(inp, out, workers=1)
    assert out.read_text() == "previous\n"  # untouched on failure


# ---------------------------------------------------------------------------- compiled scorer


def test_scorer_is_public_yake_rust_and_cli_path_is_light():
    """The extractor scores with yake-rust's public API (no `yake` package, no private
    method), and the `papertrends keyphrases` path loads neither polars nor lemminflect's
    module (its tables are read directly)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from transforms.keyphrases import KeyphraseExtractor\n"
        "kps = KeyphraseExtractor().extract('Graph neural networks', 'Graph neural networks "
        "forecast traffic on road networks.')\n"
        "assert kps, kps\n"
        "bad = [m for m in ('yake', 'polars', 'lemminflect', 'dagster', 'numpy') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
        "assert 'yake_rust' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    import transforms.keyphrases as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    assert "import yake\n" not in source and "yake.data" not in source
    assert "_generate_candidates" not in source


def test_pos_table_equals_lemminflect_get_all_lemmas():
    from lemminflect import getAllLemmas

    from transforms.keyphrases import _parts_of_speech, _pos_table

    words = [w for w in _pos_table() if w == w.lower()]
    words += ["model", "learning", "distributed", "the", "can", "zzzunknownzzz", "merging"]
    mismatched = [w for w in words if set(getAllLemmas(w)) != _parts_of_speech(w)]
    assert len(words) > 50_000 and mismatched == []


def test_scores_deterministic_across_calls_and_processes():
    """yake-rust's scores vary in the last bits between calls; the rounded output does not."""
    docs = make_docs(8)
    ex = KeyphraseExtractor()
    first = [ex.extract(t, a) for _, t, a in docs]
    for _ in range(5):
        assert [ex.extract(t, a) for _, t, a in docs] == first
    again = extract_many(docs, workers=2, chunk_size=1)  # fresh worker processes
    assert [again[d[0]] for d in docs] == first


def test_caches_do_not_change_results():
    from transforms.keyphrases import _cleaner

    docs = make_docs(12)
    corpus = build_corpus_stats(f"{t}\n{a}" for _, t, a in docs)
    warm = [KeyphraseExtractor(corpus=corpus).extract(t, a) for _, t, a in docs]
    cleaner = _cleaner("en")
    cleaner.words.clear()
    cleaner.phrases.clear()
    cleaner.max_phrases = 3  # emptied all the time
    try:
        cold = [KeyphraseExtractor(corpus=corpus).extract(t, a) for _, t, a in docs]
    finally:
        cleaner.max_phrases = 500_000
    assert cold == warm


def test_phrase_verdicts_match_np_test():
    """The cached per-word/per-phrase cleaner says what _np_like + is_boilerplate say."""
    from transforms.keyphrases import _cleaner, _np_like, _stopwords

    cleaner = _cleaner("en")
    phrases = [
        "graph neural networks",
        "results show",
        "merging convolutive source",
        "novel method",
        "significantly outperforms",
        "proposed method",
        "vocal tract normalization",
        "state of the art",
        "learned representations",
        "pareto-efficient trade-offs",
        "llms' outputs",
        "c++ code",
        "model",
        "x",
        "models",
        "data-driven",
        "state-of-the-art method",
        "3.5 ghz",
        "2 3",
        "method approach",
        "shows model",
        "deep neural network training data",
        "’s model",
        "model ’s",
        "proposed",
        "x-ray",
        "mixture of experts",
        "sparse mixture of experts models",
        "mixtures of experts",
        "number of parameters",
        "mixture of the experts",
        "of experts",
        # words of several normal-form tokens next to "of": the exact "X of Y" test
        "gaussian-mixture of experts",
        "mixture of experts-models",
        "mixture of of experts",
        "generating",
        "scale",
    ]
    # every candidate yake-rust gives for the test documents
    ex = KeyphraseExtractor()
    for _, title, abstract in make_docs(len(TOPICS)):
        phrases += [kw.lower() for kw, _ in ex._scorer.get_n_best(f"{title}. {abstract}", n=1000)]
    for p in phrases:
        expected = _np_like(p.split(), _stopwords()) and not is_boilerplate(normalize_keyphrase(p))
        verdict = cleaner._judge(p)
        assert (verdict is not None) == expected, p
        if verdict is not None:
            norm, words, subs = verdict
            assert norm == normalize_keyphrase(p) and words == tuple(norm.split())
            n = len(words)
            shorter = {" ".join(words[i:j]) for i in range(n) for j in range(i + 1, n + 1)}
            assert set(subs) == shorter - {norm}, p


def test_raw_tokens_fast_path_equals_regex():
    """ASCII texts without + or # are split with str.translate: the tokens of _TOKEN."""
    import unicodedata

    from transforms.keyphrases import _POSSESSIVE, _TOKEN, _raw_tokens

    def by_regex(text: str) -> list[str]:
        s = unicodedata.normalize("NFKC", text).lower()
        return _TOKEN.findall(_POSSESSIVE.sub("", s))

    texts = [f"a{chr(c)}b {chr(c)}x{chr(c)} {chr(c)}" for c in range(128)]
    texts += [f"{t}\n{a}" for _, t, a in make_docs(len(TOPICS))]
    texts += ["C++ and C# code", "it's the model's", "snake_case x__y 3.14 1,000", "naïve café"]
    for text in texts:
        assert _raw_tokens(text) == by_regex(text), repr(text)


def test_word_runs_fast_path_equals_regex():
    """An ASCII text's runs of words are cut with str.translate: the same runs as the regex
    (a run of break characters may give several "|" in a row: the same counts)."""
    import re

    from transforms.keyphrases import _POSSESSIVE, _RUN_BREAK, _word_runs

    def by_regex(text: str) -> str:
        s = _POSSESSIVE.sub("", text.lower())
        return " " + " ".join(_RUN_BREAK.sub(" | ", s).split()) + " "

    def runs(s: str) -> str:
        return re.sub(r"(?:\| )+", "| ", s)

    texts = [f"a{chr(c)}b {chr(c)}x{chr(c)} {chr(c)}{chr(c)}c" for c in range(128)]
    texts += [f"{t}. {a}" for _, t, a in make_docs(len(TOPICS))]
    texts += ["Deep (recurrent) nets, e.g. LSTMs; it's the model's |x| -- and [1], (2)."]
    for text in texts:
        assert runs(_word_runs(text)) == runs(by_regex(text)), repr(text)


def test_document_terms_are_normalised_words():
    from transforms.keyphrases import document_terms

    text = "Large Language Models\nThe model's outputs: self-attention/LLMs, today’s data sets."
    assert document_terms(text) == set(normalize_keyphrase(text).split())
    assert "model" in document_terms(text) and "attention" in document_terms(text)


def test_parallel_corpus_stats_equal_serial(monkeypatch):
    import transforms.keyphrases as module
    from transforms.keyphrases import build_corpus_stats_parallel

    monkeypatch.setattr(module, "_STATS_DOCS_PER_WORKER", 200)  # parallel from 400 texts
    texts = [f"{t}\n{a}" for _, t, a in make_docs(450)]
    assert build_corpus_stats_parallel(texts, workers=2) == build_corpus_stats(texts)
    assert build_corpus_stats_parallel(texts[:5], workers=2) == build_corpus_stats(texts[:5])
