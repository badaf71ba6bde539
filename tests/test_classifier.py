"""The classifier end to end on the project's own sample corpus: a few training steps, real files."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from scipy.special import log_softmax

import training.train_classifier as tc
from data import LABELS, SAMPLES, Article, read_articles
from models.base import ModelLoadError, bundled_minilm, load_pretrained, resolve_base
from models.baseline import TfidfBaseline
from models.classifier import TopicClassifier, article_text
from serve.cli import main as cli
from training.metrics import expected_calibration_error, fit_blend, fit_temperature, softmax

FAST = dict(data=[str(SAMPLES)], batch_size=8, max_length=64, train_max_length=64, train_precision="float32",
            export_onnx=False, progress=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    results = tc.train_classifier(tc.ClassifierArgs(models=str(models), max_steps=3, **FAST))
    return models, results


def test_training_writes_a_self_describing_model_dir(trained):
    models, results = trained
    d = models / "classifier"
    names = {p.name for p in d.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "metrics.json", "MODEL_CARD.md",
            "confusion_matrix.png", "calibration.png", "baseline"} <= names
    assert not [p for p in d.rglob("*") if p.suffix in (".bin", ".pkl", ".pt", ".joblib")]
    assert sorted(p.name for p in models.iterdir()) == ["classifier"]  # no checkpoint or temp dir left
    config = json.loads((d / "config.json").read_text())
    assert config["id2label"] == {str(i): lab for i, lab in enumerate(LABELS)}
    assert config["newsdesk"]["temperature"] == pytest.approx(results["temperature"])
    assert config["newsdesk"]["blend_weight"] == results["blend_weight"] and 0 <= results["blend_weight"] <= 1
    metrics = json.loads((d / "metrics.json").read_text())
    for split in ("valid", "test"):
        for name in ("topic", "topic_encoder", "topic_baseline"):
            m = metrics[split][name]
            assert {"accuracy", "macro_f1", "ece", "per_class", "confusion_matrix"} <= set(m)
            assert sum(map(sum, m["confusion_matrix"])) == metrics["split_sizes"][split]
    assert metrics["training"]["steps"] == 3
    assert metrics["training"]["precision"] == "float32"  # as asked ("auto": test_auto_precision_follows_the_cpu)
    assert {v.dtype for v in load_file(str(d / "model.safetensors")).values()} == {torch.float32}
    assert (d / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (d / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the reliability diagram
    table = metrics["test"]["reliability"]["calibrated"]
    assert sum(table["count"]) == metrics["split_sizes"]["test"] and len(table["edges"]) == len(table["count"]) + 1
    card = (d / "MODEL_CARD.md").read_text()
    assert "macro-F1" in card and "reconstruction_finance" in card and "Limits" in card


def test_unsure_and_bodiless_rows_are_scored_apart_and_weights_can_be_averaged(tmp_path):
    rows = [json.loads(line) for line in SAMPLES.read_text().splitlines()]
    for i, row in enumerate(rows):
        row["sure"] = i % 3 != 0  # a third marked unsure
        if i % 5 == 0:
            row["body"] = None  # a feed item: headline and teaser only
    data = tmp_path / "mixed.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = {**FAST, "data": [str(data)]}
    results = tc.train_classifier(tc.ClassifierArgs(models=str(tmp_path / "m"), max_steps=3, evals_per_epoch=100,
                                                    patience=10, soup_from=0.0, contrastive_weight=0.5, **args))
    metrics = json.loads((tmp_path / "m" / "classifier" / "metrics.json").read_text())
    for split in ("valid", "test"):
        for name in ("topic", "topic_encoder", "topic_baseline"):
            parts = [metrics[split][f"{name}_{p}"]["n"] for p in ("sure_rows", "unsure_rows")]
            assert sum(parts) == metrics["split_sizes"][split] and min(parts) > 0
            assert 0 < metrics[split][f"{name}_no_body_rows"]["n"] < metrics["split_sizes"][split]
    assert results["training"]["soup"]["n"] == 3  # one set of weights per evaluation, averaged
    card = (tmp_path / "m" / "classifier" / "MODEL_CARD.md").read_text()
    assert "rows marked unsure" in card and "Weight averaging" in card and "contrastive" in card


def test_supervised_contrastive_loss_prefers_embeddings_grouped_by_topic():
    y = torch.tensor([0, 0, 1, 1])
    grouped = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    mixed = grouped[[0, 2, 1, 3]]
    assert tc.supervised_contrastive(grouped, y, 0.1) < tc.supervised_contrastive(mixed, y, 0.1)
    assert tc.supervised_contrastive(grouped, torch.tensor([0, 1, 2, 3]), 0.1) == 0  # no pair shares a topic


def test_round_trip_gives_identical_probabilities(trained, tmp_path):
    models, _ = trained
    texts = [a.text for a in read_articles(SAMPLES)[:12]]
    a = TopicClassifier.from_pretrained(models / "classifier", precision="float32")
    a.save_pretrained(tmp_path / "copy")
    b = TopicClassifier.from_pretrained(tmp_path / "copy", precision="float32")
    assert np.array_equal(a.probabilities(texts, batch_size=5), b.probabilities(texts, batch_size=5))
    assert b.temperature == a.temperature and b.max_length == 64
    assert TopicClassifier.from_pretrained(tmp_path / "copy", max_length=32).max_length == 32  # budget override
    p1, p12 = a.probabilities(texts, batch_size=1), a.probabilities(texts, batch_size=12)
    assert np.allclose(p1, p12, atol=1e-5) and np.array_equal(p1.argmax(1), p12.argmax(1))  # batching has no effect
    for precision in ("int8", "bfloat16"):
        q1 = TopicClassifier.from_pretrained(models / "classifier", precision=precision).probabilities(texts)
        q2 = TopicClassifier.from_pretrained(tmp_path / "copy", precision=precision).probabilities(texts)
        assert np.array_equal(q1, q2)
        assert np.abs(q1 - a.probabilities(texts)).max() < 0.1  # stays near float32 on this tiny model


def test_the_headline_can_be_repeated_in_front(trained, tmp_path):
    a = Article(id="1", headline="Talks in Geneva", teaser="Ministers met.", body="They met for hours.")
    assert article_text(a) == "Talks in Geneva\nMinisters met.\nThey met for hours."
    assert article_text(a, 2) == "Talks in Geneva\n" * 3 + "Ministers met.\nThey met for hours."
    assert article_text({"headline": "H", "body": "B"}, 1) == "H\nH\nB" and article_text("B", 3) == "B"
    assert article_text({"teaser": "T", "body": "B"}, 1) == "T\nB"  # no headline, nothing repeated
    models, _ = trained
    clf = TopicClassifier.from_pretrained(models / "classifier", precision="float32")
    clf.headline_repeats = 1
    clf.save_pretrained(tmp_path / "h")
    again = TopicClassifier.from_pretrained(tmp_path / "h", precision="float32")
    assert again.headline_repeats == 1 and again.input_text(a) == article_text(a, 1)
    assert np.array_equal(again.probabilities([a]), again.probabilities([article_text(a, 1)]))


def test_served_probabilities_blend_the_encoder_and_tfidf(trained, tmp_path):
    models, _ = trained
    texts = [a.text for a in read_articles(SAMPLES)[:12]]
    clf = TopicClassifier.from_pretrained(models / "classifier", precision="float32")
    clf.blend_weight = 0.3  # whatever training chose on the tiny sample split, check the formula at a mixed weight
    tfidf = TfidfBaseline.load(models / "classifier" / "baseline").decision_function(texts)
    enc = clf.logits(texts)
    expected = softmax(0.3 * log_softmax(enc.astype(float), axis=1) + 0.7 * log_softmax(tfidf.astype(float), axis=1),
                       clf.temperature)
    assert np.allclose(clf.probabilities(texts), expected, atol=1e-6)
    clf.blend_weight = 1.0  # the encoder alone
    assert np.allclose(clf.probabilities(texts), softmax(enc, clf.temperature), atol=1e-6)
    clf.blend_weight = 0.3
    clf.save_pretrained(tmp_path / "blend")
    assert json.loads((tmp_path / "blend" / "config.json").read_text())["newsdesk"]["blend_weight"] == 0.3
    again = TopicClassifier.from_pretrained(tmp_path / "blend", precision="float32")
    assert np.array_equal(again.probabilities(texts), clf.probabilities(texts))
    for f in (tmp_path / "blend" / "baseline").iterdir():
        f.unlink()
    (tmp_path / "blend" / "baseline").rmdir()
    with pytest.raises(ModelLoadError, match="no baseline/ folder"):
        TopicClassifier.from_pretrained(tmp_path / "blend")


def test_blend_weight_is_fitted_on_log_loss():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 600)
    a, b = rng.normal(size=(600, 4)), rng.normal(size=(600, 4))
    a[np.arange(600), y] += 1.5  # two models, each informative on its own noise
    b[np.arange(600), y] += 1.5
    nll = lambda p: -np.log(p[np.arange(600), y]).mean()
    w, t = fit_blend(a, b, y)
    assert 0.2 <= w <= 0.8 and nll(softmax(w * a + (1 - w) * b, t)) < min(nll(softmax(a, fit_temperature(a, y))),
                                                                          nll(softmax(b, fit_temperature(b, y))))
    assert fit_blend(a, rng.normal(size=(600, 4)), y)[0] == 1.0  # an uninformative second model gets no weight


@pytest.mark.parametrize("native, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_precision_follows_the_cpu(trained, monkeypatch, native, expected):
    import models.base
    monkeypatch.setattr(models.base, "cpu_has_bf16", lambda: native)
    assert models.base.resolve_precision("auto") == expected
    models_dir, _ = trained
    auto = TopicClassifier.from_pretrained(models_dir / "classifier")
    assert auto.precision == expected and next(auto.model.parameters()).dtype == getattr(torch, expected)


def test_precision_choices(trained):
    models, _ = trained
    texts = [a.text for a in read_articles(SAMPLES)[:12]]
    bf = TopicClassifier.from_pretrained(models / "classifier", precision="bfloat16")
    assert bf.precision == "bfloat16" and next(bf.model.parameters()).dtype == torch.bfloat16
    p1, p12 = bf.probabilities(texts, batch_size=1), bf.probabilities(texts, batch_size=12)
    assert np.allclose(p1, p12, atol=0.02)  # bfloat16 rows do not scale each other, unlike int8
    with pytest.raises(ValueError, match="precision must be one of"):
        TopicClassifier.from_pretrained(models / "classifier", precision="fp8")
    with pytest.raises(ValueError, match="precision='float32'"):
        bf.save_pretrained(models / "never")
    assert not (models / "never").exists()


def test_predict_api_and_empty_text(trained):
    models, _ = trained
    clf = TopicClassifier.from_pretrained(models / "classifier", num_threads=1)
    out = clf.predict_proba(["Ministers met in Geneva.", "A brigade trained recruits."], batch_size=1)
    assert len(out) == 2 and all(list(p) == list(LABELS) for p in out)
    assert all(abs(sum(p.values()) - 1) < 1e-5 for p in out)
    assert clf.predict("Ministers met in Geneva.") in LABELS
    assert isinstance(clf.predict_proba({"headline": "Talks in Geneva"}), dict)
    for bad in ("", "   \n", ["fine text", " "]):
        with pytest.raises(ValueError, match="empty"):
            clf.predict_proba(bad)
    with pytest.raises(TypeError):
        clf.predict_proba([42])


def test_calibration_keeps_argmax_and_lowers_ece():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 400)
    logits = rng.normal(size=(400, 4))
    logits[np.arange(400), y] += 1.5
    logits *= 4  # overconfident
    t = fit_temperature(logits, y)
    assert t > 1.5
    before, after = softmax(logits), softmax(logits, t)
    assert np.array_equal(before.argmax(1), after.argmax(1))
    assert expected_calibration_error(after, y) < expected_calibration_error(before, y)
    perfect = np.eye(4)[y]
    assert expected_calibration_error(perfect, y) == 0.0


def test_classifier_temperature_changes_confidence_not_labels(trained):
    models, _ = trained
    clf = TopicClassifier.from_pretrained(models / "classifier")
    texts = [a.text for a in read_articles(SAMPLES)[:20]]
    p1 = clf.probabilities(texts)
    clf.temperature *= 3
    p3 = clf.probabilities(texts)
    assert np.array_equal(p1.argmax(1), p3.argmax(1)) and p3.max(1).mean() < p1.max(1).mean()


def test_baseline_round_trip_without_pickle(tmp_path):
    arts = read_articles(SAMPLES)
    texts, labels = [a.text for a in arts], [a.topic for a in arts]
    base = TfidfBaseline(LABELS).fit(texts, labels)
    base.save(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["baseline.json", "baseline.safetensors"]
    again = TfidfBaseline.load(tmp_path / "b")
    assert np.allclose(base.predict_proba(texts), again.predict_proba(texts), atol=1e-6)
    assert np.mean(np.array(again.predict(texts)) == np.array(labels)) > 0.9  # fits its own training data


def test_resume_continues_an_interrupted_run(tmp_path, monkeypatch, capsys):
    models = tmp_path / "m"
    args = dict(models=str(models), max_steps=4, evals_per_epoch=100, patience=10, **FAST)
    import training.checkpoint as ckpt  # where the training loops' evaluations save checkpoints
    real_save, calls = ckpt.save_checkpoint, []

    def crash_after_two(*a, **k):
        real_save(*a, **k)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(ckpt, "save_checkpoint", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        tc.train_classifier(tc.ClassifierArgs(**args))
    state = json.loads((models / ".classifier-checkpoint" / "state.json").read_text())
    assert state["step"] == 2 and not (models / "classifier").exists()
    monkeypatch.setattr(ckpt, "save_checkpoint", real_save)
    results = tc.train_classifier(tc.ClassifierArgs(resume=True, **args))
    assert "resumed at step 2" in capsys.readouterr().out
    assert results["training"]["steps"] == 4
    assert [h["step"] for h in results["training"]["history"]] == [1, 2, 3, 4]
    assert not (models / ".classifier-checkpoint").exists()
    (models / ".classifier-checkpoint").mkdir()
    (models / ".classifier-checkpoint" / "state.json").write_text(json.dumps({"step": 1, "args": {"lr": 1}}))
    with pytest.raises(ValueError, match="other arguments"):  # resuming with changed arguments is refused
        tc.train_classifier(tc.ClassifierArgs(resume=True, **args))


def test_evaluate_cli_output_schema(trained, tmp_path, capsys):
    models, _ = trained
    out = tmp_path / "eval.json"
    assert cli(["evaluate", "--models", str(models), "--data", str(SAMPLES), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    n = len(read_articles(SAMPLES))
    for name in ("topic", "topic_baseline"):
        m = result[name]
        assert {"n", "accuracy", "macro_f1", "ece", "per_class", "confusion_matrix"} <= set(m)
        assert m["n"] == n and 0 <= m["accuracy"] <= 1 and 0 <= m["macro_f1"] <= 1 and 0 <= m["ece"] <= 1
        assert set(m["per_class"]) == set(LABELS)
        assert all(set(v) == {"precision", "recall", "f1", "support"} for v in m["per_class"].values())
        assert np.array(m["confusion_matrix"]).shape == (4, 4) and np.sum(m["confusion_matrix"]) == n
    assert "macro-F1" in capsys.readouterr().out
    assert cli(["evaluate", "--models", str(models), "--data", str(SAMPLES), "--split", "test"]) == 0


def test_cli_reports_errors_clearly(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "body": "text", "topic": "diplomacy"}\n{"id": "2", "body": "x", "topic": "war"}\n')
    assert cli(["train-classifier", "--data", str(bad), "--models", str(tmp_path / "m")]) == 2
    assert f"{bad}:2: unknown topic label 'war'" in capsys.readouterr().err
    assert cli(["evaluate", "--models", str(tmp_path / "empty"), "--data", str(SAMPLES)]) == 2
    assert "train-classifier" in capsys.readouterr().err
    with pytest.raises(ValueError, match="train_precision must be auto, float32 or bfloat16, got 'int8'"):
        tc.train_classifier(tc.ClassifierArgs(models=str(tmp_path / "m"), **{**FAST, "train_precision": "int8"}))


def test_a_damaged_model_directory_is_a_model_load_error(trained, tmp_path, capsys):
    import shutil

    models, _ = trained
    d = tmp_path / "m" / "classifier"
    shutil.copytree(models / "classifier", d)
    (d / "model.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(ModelLoadError, match=f"cannot load the model in {d} .*retrain it"):
        TopicClassifier.from_pretrained(d)
    assert cli(["classify", "--models", str(d.parent), str(SAMPLES), "--limit", "1"]) == 2
    assert f"cannot load the model in {d}" in capsys.readouterr().err


def test_model_directories_are_readable_like_any_other(trained):
    import os

    models, _ = trained
    umask = os.umask(0o022)
    os.umask(umask)
    assert (models / "classifier").stat().st_mode & 0o777 == 0o777 & ~umask


def test_base_model_resolution(monkeypatch, tmp_path):
    from transformers import AutoConfig
    assert resolve_base("minilm") == str(bundled_minilm()) == resolve_base(None)
    assert resolve_base(str(bundled_minilm())) == str(bundled_minilm())
    with pytest.raises(ModelLoadError, match="does not exist"):
        resolve_base("./no/such/dir")
    with pytest.raises(ModelLoadError, match="not a model directory"):
        resolve_base(str(tmp_path))
    import socket

    import huggingface_hub.constants
    connections = []

    def no_network(*args, **kwargs):
        connections.append(args)
        raise OSError("test: no network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # as read at import, before the env
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="HF_HUB_OFFLINE is set and the model is not in the local cache"):
        load_pretrained(AutoConfig, resolve_base("newsdesk-test/not-a-real-model"))
    assert connections == []  # honoured: the Hub was never contacted


def test_classify_cli_prints_one_prediction_per_article(trained, capsys):
    models, _ = trained
    assert cli(["classify", "--models", str(models), str(SAMPLES), "--limit", "3", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [a.id for a in read_articles(SAMPLES)[:3]]
    assert all(r["topic"] in LABELS and set(r["probabilities"]) == set(LABELS) for r in rows)


def test_train_flags_come_from_the_argument_dataclasses():
    from serve.cli import _dataclass, build_parser
    args = build_parser().parse_args(["train-classifier", "--data", "a.jsonl", "b.csv", "--field", "body=text",
                                      "--field", "headline=title", "--max-length", "96", "--threads", "1",
                                      "--no-progress"])
    got = _dataclass(tc.ClassifierArgs, args)
    assert got.data == ["a.jsonl", "b.csv"] and got.fields == ["body=text", "headline=title"]  # repeatable
    assert got.max_length == 96 and got.num_threads == 1 and got.progress is False
    assert got.epochs == tc.ClassifierArgs().epochs  # every other setting: the dataclass default
