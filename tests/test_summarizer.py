"""The summarizer end to end: a tiny warm-started model trained a few steps on the sample corpus."""
import json
import shutil

import numpy as np
import pytest

from data import SAMPLES, read_articles
from models.guard import Guard
from models.summarizer import Summarizer, Truecaser
from serve.cli import main as cli
from training.train_summarizer import casing_lexicon

pytestmark = pytest.mark.slow
ARTS = read_articles(SAMPLES)


@pytest.fixture(scope="module")
def models(tiny_models):
    """The session's tiny models (tests/conftest.py): summarizer 2 steps, 1 decoder layer, 96 input tokens."""
    return tiny_models


@pytest.fixture(scope="module")
def summarizer(models):
    """The tiny summarizer with the generator serving both outputs (the flow most tests here check), whichever
    path its training chose."""
    s = Summarizer.from_pretrained(models / "summarizer")
    s.settings.headline_path = s.settings.teaser_path = "generator"
    return s


def test_model_directory_is_self_describing(models):
    d = models / "summarizer"
    names = {p.name for p in d.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "casing.json", "metrics.json", "MODEL_CARD.md",
            "output_vocab.json"} <= names
    assert not [p for p in d.rglob("*") if p.suffix in (".bin", ".pkl", ".pt")]
    config = json.loads((d / "config.json").read_text())
    assert config["newsdesk"]["generation"]["max_input_tokens"] == 96
    assert json.loads((d / "metrics.json").read_text())["training"]["steps"] == 2
    assert "faithfulness guard" in (d / "MODEL_CARD.md").read_text()


def test_summaries_are_shaped_and_never_unsupported(summarizer):
    bodies = [a.body for a in ARTS[:6]]
    out = summarizer.summarize(bodies, batch_size=4)
    assert len(out) == 6
    for body, s in zip(bodies, out):
        assert s.headline and s.teaser and len(s.headline.split()) <= 16 and len(s.teaser.split()) <= 46
        assert s.headline_source.startswith(("generator", "extractive"))
        assert s.teaser_source.startswith(("generator", "extractive"))
        assert Guard(body, summarizer.name_words).check(s.headline).ok
        assert Guard(body, summarizer.name_words).check(s.teaser).ok
        assert s.evidence and all(0 <= i < len(s.sentences) for i in s.evidence)
    assert summarizer.summarize(bodies[0]).headline == out[0].headline  # a single str gives one Summary


def test_generation_keeps_to_the_training_targets_vocabulary(models, tmp_path):
    """The beam search scores only the token ids the training targets used (output_vocab.json)."""
    from training.train_summarizer import SummarizerArgs, target_ids, training_pairs, write_output_vocab
    s = Summarizer.from_pretrained(models / "summarizer")
    vocab = json.loads((models / "summarizer" / "output_vocab.json").read_text())
    assert s.output_vocab == vocab and s.tokenizer.sep_token_id in vocab and len(vocab) < s.tokenizer.vocab_size
    args = SummarizerArgs(**{**json.loads((models / "summarizer" / "metrics.json").read_text())["args"], "progress": False})
    _, pairs = training_pairs(args)
    assert set(vocab) == {t for _, _, x in pairs for t in target_ids(s, x)} | {s.tokenizer.sep_token_id}
    inputs = [s.prepare(a.body)[0] for a in ARTS[:3]]
    states, mask = s.encode(inputs)
    groups = [(i, s.control_ids(t)[0], 2, 12) for i in range(3) for t in ("headline", "teaser")]
    n = s.settings.num_beams
    hyps = [ids for group in s._beam_search(states, mask, groups, n) for ids in group]
    assert len(hyps) == 6 * n and all(set(ids[1:]) <= set(vocab) for ids in hyps)
    # a model without the file (trained before it existed) scores the whole vocabulary, until the file is added
    d = tmp_path / "models" / "summarizer"
    shutil.copytree(models / "summarizer", d)
    (d / "output_vocab.json").unlink()
    assert Summarizer.from_pretrained(d).output_vocab is None
    assert write_output_vocab(SummarizerArgs(**{**args.__dict__, "models": str(d.parent)})) == len(vocab)
    assert Summarizer.from_pretrained(d).output_vocab == vocab


def test_round_trip_generates_identically(models, tmp_path):
    a = Summarizer.from_pretrained(models / "summarizer", precision="float32")
    a.save_pretrained(tmp_path / "copy")
    b = Summarizer.from_pretrained(tmp_path / "copy", precision="float32")
    inputs = [a.prepare(x.body)[0] for x in ARTS[:2]]
    assert a.candidates(inputs, "headline") == b.candidates(inputs, "headline")


def test_lean_beam_search_matches_hf_generate(models):
    s = Summarizer.from_pretrained(models / "summarizer", precision="float32")  # float32 LM head, as HF uses
    s.settings.num_beams, s.settings.headline_max_tokens, s.settings.teaser_max_tokens = 3, 12, 20
    inputs = [s.prepare(a.body)[0] for a in ARTS[:4]]
    lean = s.generate_all(inputs)
    for task in ("headline", "teaser"):
        assert lean[task] == s._generate_hf(inputs, task)  # batched,
        assert lean[task][1:2] == s._generate_hf(inputs[1:2], task)  # and alone
    assert s.generate_all(inputs[2:3], num_return=2)["teaser"] == [lean["teaser"][2][:2]]


@pytest.mark.parametrize("precision", ["bfloat16", "int8"])
def test_fast_decoder_follows_training_when_refreshed(models, precision):
    """The beam search runs a fast copy of the decoder, which does not follow weight updates; training refreshes
    it before each validation (once it did not, and validation scored the untrained decoder)."""
    import torch
    s = Summarizer.from_pretrained(models / "summarizer", precision=precision)
    with s.using_paths("extractive"):
        s.summarize(ARTS[0].body)
    assert not s._fast_built  # built on first use: serving both outputs extractive never builds it

    def fast_weight():
        w = s.fast_decoder.bert.encoder.layer[0].output.dense.weight
        return (w() if callable(w) else w).float()  # (a dynamically quantized layer's weight is a method)

    trained = s.model.decoder.bert.encoder.layer[0].output.dense.weight
    assert torch.allclose(fast_weight(), trained, rtol=1e-2, atol=1e-2)
    with torch.no_grad():
        trained.add_(0.5)  # a training step
    assert not torch.allclose(fast_weight(), trained, rtol=1e-2, atol=1e-2)
    s.refresh_decoder()
    assert torch.allclose(fast_weight(), trained, rtol=1e-2, atol=1e-2)
    assert s._vocab_head is not None and s.candidates([s.prepare(ARTS[0].body)[0]], "headline")


def test_encoding_in_a_batch_matches_one_at_a_time(models):
    """bfloat16 and float32 encode a batch (padded) as they encode each article alone."""
    import torch
    for precision in ("bfloat16", "float32"):
        s = Summarizer.from_pretrained(models / "summarizer", precision=precision)
        inputs = [s.prepare(a.body)[0] for a in ARTS[:6]]
        states, mask = s.encode(inputs)
        for i, text in enumerate(inputs):
            alone = s.encode_one(text)
            assert int(mask[i].sum()) == alone.shape[0]
            assert torch.allclose(states[i, :alone.shape[0]], alone, atol=0.05 if precision == "bfloat16" else 1e-5)


def test_training_records_each_outputs_path_chosen_on_validation(models):
    paths = json.loads((models / "summarizer" / "metrics.json").read_text())["paths"]
    assert set(paths) == {"headline", "teaser"}
    for p in paths.values():
        assert p["n"] > 0 and p["path"] == ("generator" if p["generator"] >= p["extractive"] else "extractive")
    s = Summarizer.from_pretrained(models / "summarizer")
    assert (s.settings.headline_path, s.settings.teaser_path) == (paths["headline"]["path"], paths["teaser"]["path"])
    assert "Paths served" in (models / "summarizer" / "MODEL_CARD.md").read_text()


def test_paths_can_be_added_to_a_model_trained_before_the_choice(models, tmp_path):
    from training.train_summarizer import SummarizerArgs, write_paths
    d = tmp_path / "models" / "summarizer"
    shutil.copytree(models / "summarizer", d)
    metrics, config = json.loads((d / "metrics.json").read_text()), json.loads((d / "config.json").read_text())
    chosen = metrics.pop("paths")
    for t in ("headline", "teaser"):
        config["newsdesk"]["generation"].pop(f"{t}_path")
    (d / "metrics.json").write_text(json.dumps(metrics))
    (d / "config.json").write_text(json.dumps(config))
    assert Summarizer.from_pretrained(d).settings.headline_path == "generator"  # the default before a choice
    args = SummarizerArgs(**{**metrics["args"], "models": str(d.parent), "progress": False})
    assert write_paths(args) == chosen  # the same validation articles as training, the same choice
    s = Summarizer.from_pretrained(d)
    assert (s.settings.headline_path, s.settings.teaser_path) == (chosen["headline"]["path"], chosen["teaser"]["path"])
    assert json.loads((d / "metrics.json").read_text())["paths"] == chosen
    assert "Paths served" in (d / "MODEL_CARD.md").read_text()


def test_an_extractive_path_runs_no_generation_for_that_output(models, monkeypatch):
    s = Summarizer.from_pretrained(models / "summarizer")
    s.settings.headline_path, s.settings.teaser_path = "extractive", "generator"
    asked, generate = [], s.generate_all
    monkeypatch.setattr(s, "generate_all", lambda inputs, tasks, **kw: asked.append(tuple(tasks)) or generate(inputs, tasks, **kw))
    out = s.summarize([a.body for a in ARTS[:3]], batch_size=3)
    assert asked == [("teaser",)]
    for o in out:
        assert o.headline_source == "extractive" and o.headline == s.extractive_headline(o.sentences)[0]
        assert not any(w.startswith("headline") for w in o.warnings)  # a chosen path, not a fallback
    s.settings.teaser_path = "extractive"
    out = s.summarize([a.body for a in ARTS[:3]], batch_size=3)
    assert asked == [("teaser",)] and all(o.teaser_source == "extractive" and o.teaser for o in out)


def test_guard_takes_next_beam_then_fallback(summarizer):
    body = ("The World Bank will provide $200 million to repair the grid in Kharkiv, the ministry said on Monday. "
            "Officials said work starts in spring. The money comes from a five-year programme.")
    sentences = summarizer.prepare(body)[1]
    s = summarizer._choose(body, sentences, False,
                           ["zelensky hails $250 million loan", "world bank gives $200 million for kharkiv grid"],
                           ["the imf gives $300 million.", "the bank pledges 900 million dollars."])
    assert s.headline == "World Bank gives $200 million for Kharkiv grid"
    assert s.headline_source == "generator (beam candidate 2)"
    assert s.teaser_source == "extractive" and "$200 million" in s.teaser
    assert any("rejected" in w for w in s.warnings) and s.raw["headline"].startswith("Zelensky")
    assert 0 in s.evidence  # the generated headline rests on the first sentence


def test_extractive_headline_comes_from_the_lead_sentence(summarizer):
    body = ("Update. The council of Lviv approved a new budget for school repairs on Friday. "
            "Work on the first schools starts next month. Parents welcomed the plan.")
    sentences = summarizer.prepare(body)[1]
    s = summarizer._choose(body, sentences, False, ["mayor klitschko opens bridge"], ["the imf gives $300 million."])
    assert s.headline_source == "extractive" and s.headline == "Council of Lviv approved new budget for school repairs"
    assert 1 in s.evidence and s.teaser_source == "extractive"
    assert {"headline: extractive fallback", "teaser: extractive fallback"} <= set(s.warnings)
    furniture = "Sign up for our weekly newsletter to get the best stories in your inbox. " + body
    assert summarizer.extractive_headline(summarizer.prepare(furniture)[1])[0] == s.headline


def test_repetitive_candidates_are_rejected(summarizer):
    body = "NATO allies met in Brussels on Monday to discuss air defence for Ukraine. Talks went on late."
    s = summarizer._choose(body, summarizer.prepare(body)[1], False,
                           ["nato, nato chief says nato has no plan", "nato allies discuss air defence for ukraine"],
                           ["nato allies met in brussels to discuss air defence for ukraine."])
    assert s.headline == "NATO allies discuss air defence for Ukraine"
    assert s.headline_source == "generator (beam candidate 2)"
    assert any("repetitive" in w for w in s.warnings)


def test_long_and_empty_inputs(summarizer):
    long_body = " ".join(f"Sentence number {i} reports on talks in Geneva about grain exports." for i in range(400))
    s = summarizer.summarize([long_body])[0]
    assert s.headline and any("input cut" in w for w in s.warnings)
    assert all(i in summarizer.prepare(long_body)[2] for i in s.evidence) or s.teaser_source != "extractive"
    text, sentences, keep, cut = summarizer.prepare(long_body)
    assert cut and keep[:3] == [0, 1, 2] and len(summarizer.tokenizer(text)["input_ids"]) <= 96 + 20
    for bad in ("", "   \n "):
        with pytest.raises(ValueError, match="empty"):
            summarizer.summarize([ARTS[0].body, bad])
    with pytest.raises(TypeError):
        summarizer.summarize([None])


def test_truecasing_and_lexicon():
    tc = Truecaser({"zelensky": "Zelensky"})
    assert tc("world bank gives funds to kharkiv. zelensky thanks it", "The World Bank and Kharkiv officials") == \
        "World Bank gives funds to Kharkiv. Zelensky thanks it"
    lex = casing_lexicon(["Officials in Kyiv met. Then Kyiv said no. Later in Kyiv it rained. A cat sat."])
    assert lex == {"kyiv": "Kyiv"}


def test_evaluate_cli_reports_headline_and_teaser(models, tmp_path):
    out = tmp_path / "eval.json"
    assert cli(["evaluate", "--models", str(models), "--data", str(SAMPLES), "--out", str(out), "--limit", "8"]) == 0
    r = json.loads(out.read_text())
    keys = {"n", "rouge1", "rouge2", "rougeL", "mean_words", "novel_word_share", "unsupported_share", "fallback_share"}
    for name in ("headline", "teaser", "headline_lead", "teaser_lead", "headline_extractive",
                 "teaser_extractive"):
        assert keys <= set(r[name]), name
        assert r[name]["n"] == 8 and all(0 <= r[name][k] <= 1 for k in keys - {"n", "mean_words"})
    assert r["headline"]["unsupported_share"] == 0.0 and r["teaser"]["unsupported_share"] == 0.0
    assert "topic" in r and "topic_baseline" in r


def test_summarize_cli_names_the_articles_it_cannot_summarize(models, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "has-body", "body": ARTS[0].body}) + "\n" +
                   json.dumps({"id": "headline-only", "headline": "Envoys meet in Geneva"}) + "\n")
    assert cli(["summarize", "--models", str(models), str(src), "--json"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["has-body"]
    assert "skipped headline-only: no body to summarize" in err


def test_fallback_embeddings_are_spans_of_the_model_input(summarizer):
    """Sentence embeddings for the extractive teaser are means over each kept sentence's tokens in the encoder
    input, so the tokens of the joined input must be the sentences' tokens end to end."""
    from models.summarizer import span_means
    for a in ARTS[:5]:
        text, sentences, keep, _ = summarizer.prepare(a.body)
        counts = [len(t) for t in summarizer.tokenizer([sentences[i] for i in keep], add_special_tokens=False)["input_ids"]]
        ids = summarizer.tokenize_inputs([text])["input_ids"][0].tolist()
        flat = [t for s in summarizer.tokenizer([sentences[i] for i in keep], add_special_tokens=False)["input_ids"] for t in s]
        assert ids[1:-1] == flat[:len(ids) - 2]
        states = summarizer.encode_one(text)
        emb = span_means(states, counts)
        assert emb.shape == (len(keep), states.shape[-1])
        full = [j for j in range(len(keep)) if 1 + sum(counts[:j + 1]) <= len(ids) - 1]
        assert np.allclose(np.linalg.norm(emb[full], axis=1), 1.0, atol=1e-5)
        teaser, chosen = summarizer.extractive_teaser(sentences, keep)
        assert chosen[0] in keep and teaser.startswith(sentences[chosen[0]][:20])


def test_the_summarizer_benchmark_runs(models, tmp_path):
    """`make bench-summarizer --skip-training` end to end at toy size (the numbers live in docs/BENCHMARKS.md)."""
    from training import bench_summarizer
    doc = tmp_path / "BENCH.md"
    doc.write_text(f"before\n{bench_summarizer.START}\nold\n{bench_summarizer.END}\nafter\n")
    bench_summarizer.main(["--data", str(SAMPLES), "--models", str(models), "--skip-training", "--headline-articles", "5",
                           "--out", str(tmp_path / "s.json"), "--doc", str(doc)])
    r = json.loads((tmp_path / "s.json").read_text())
    assert r["test_headlines"] == r["scores"]["headline"]["n"] == r["scores"]["headline_lead"]["n"] == 5
    assert r["scores"]["teaser"]["n"] == r["test_with_teaser"] > 0 and not r["paths_added"]
    assert r["speed"]["served"]["latency_ms_p50"] > 0
    served = tuple(r["speed"]["served"]["paths"])
    assert served == (r["paths"]["headline"]["path"], r["paths"]["teaser"]["path"])
    assert (served == ("generator", "generator")) == ("generator" not in r["speed"])
    text = doc.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text and "Paths served" in text


def test_extra_data_adds_training_pairs_only(tmp_path):
    """--extra-data: the extra files' train split joins training, less rewrites of stories held out from --data;
    validation and test stay those of --data."""
    from data import split_articles
    from training.train_summarizer import SummarizerArgs, pairs_for, training_pairs
    base = SummarizerArgs(data=[str(SAMPLES)], valid_fraction=0.2, test_fraction=0.2, min_body_words=20)
    parts, pairs = training_pairs(base)
    extra = tmp_path / "extra.jsonl"  # a rewrite of every sample story: a near-duplicate headline, the same body
    extra.write_text("".join(json.dumps({"id": f"x{a.id}", "headline": f"Update: {a.headline}", "body": a.body}) + "\n"
                             for a in ARTS))
    parts_x, pairs_x = training_pairs(SummarizerArgs(**{**base.__dict__, "extra_data": [str(extra)]}))
    assert parts_x["valid"] == parts["valid"] and parts_x["test"] == parts["test"]
    assert parts_x["train"][:len(parts["train"])] == parts["train"]
    added = {a.id for a in parts_x["train"][len(parts["train"]):]}
    own_train = {a.id for a in split_articles([a for a in read_articles(extra) if pairs_for(a, 20)],
                                              valid=0.2, test=0.2)["train"]}
    rewrites_of_train = {f"x{a.id}" for a in parts["train"]}
    assert added == own_train & rewrites_of_train and added  # never a rewrite of a valid or test story
    assert len(pairs_x) == len(pairs) + sum(len(pairs_for(a, 20)) for a in parts_x["train"][len(parts["train"]):])
