"""Issue 19: `newsdesk batch --engine ray` (a local Ray, no cluster) and the classifier on ONNX Runtime."""
import json

import numpy as np
import pytest

from data import SAMPLES, read_articles
from models import onnx_runtime
from models.classifier import TopicClassifier
from serve import ray_engine
from serve.batch import run_batch
from serve.cli import main as cli


def records(folder):
    return [json.loads(line) for f in sorted(folder.glob("shard-*.jsonl")) for line in open(f, encoding="utf-8")]


@pytest.fixture(scope="module")
def local_ray():
    import ray
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The sample corpus in two files (a folder input), one malformed line and one repeated id among them."""
    d = tmp_path_factory.mktemp("corpus")
    lines = [json.dumps({"id": a.id, "headline": a.headline, "body": a.body}) for a in read_articles(SAMPLES)[:24]]
    lines.insert(5, '{"id": "broken", "body": ')            # a.jsonl line 6: malformed JSON
    (d / "a.jsonl").write_text("\n".join(lines[:13]) + "\n")
    (d / "b.jsonl").write_text("\n".join(lines[13:] + [lines[13]]) + "\n")  # b.jsonl's last line repeats its first
    return d


@pytest.mark.slow
def test_ray_engine_gives_the_local_engines_records_and_resumes_by_shard(local_ray, corpus, tiny_models, tmp_path,
                                                                         monkeypatch):
    local = []
    for name in ("a.jsonl", "b.jsonl"):
        run_batch(corpus / name, tmp_path / f"{name}.out.jsonl", models=tiny_models, progress=False)
        local += [{**json.loads(line), "file": str(corpus / name)} for line in open(tmp_path / f"{name}.out.jsonl")]
    # a run that dies after writing two shards (a kill between two renames) ...
    out, real, written = tmp_path / "ray", ray_engine.write_shard, []

    def dies_after_two(*args):
        if len(written) == 2:
            raise KeyboardInterrupt
        real(*args)
        written.append(args[1])

    monkeypatch.setattr(ray_engine, "write_shard", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        ray_engine.run_ray_batch(str(corpus), out, models=tiny_models, shards=5, progress=False)
    assert len(list(out.glob("shard-*.jsonl"))) == 2
    monkeypatch.setattr(ray_engine, "write_shard", real)
    # ... then run again: the two shards are kept, the rest written, every row exactly once
    report = ray_engine.run_ray_batch(str(corpus), out, models=tiny_models, shards=5, progress=False)
    assert report.read == 26 and report.done_before + report.written == 26 and report.done_before > 0
    got = records(out)
    key = lambda r: (r["file"], r["line"])  # noqa: E731
    got, local = sorted(got, key=key), sorted(local, key=key)
    assert [{**r, "probabilities": None} for r in got] == [{**r, "probabilities": None} for r in local]
    for r, want in zip(got, local):  # the same records, row for row (probabilities up to float rounding: batches)
        assert (r.get("probabilities") is None) == (want.get("probabilities") is None)
        if want.get("probabilities"):
            assert r["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)
    errors = {(r["file"].rsplit("/", 1)[1], r["line"]): r["error"] for r in got if r["error"]}
    assert "malformed JSON" in errors[("a.jsonl", 6)] and "duplicate id" in errors[("b.jsonl", 13)]
    assert len(errors) == 2 and report.ok is False  # exit status 1 from the CLI
    again = ray_engine.run_ray_batch(str(corpus), out, models=tiny_models, shards=5, progress=False)
    assert again.written == 0 and again.done_before == 26
    with pytest.raises(ValueError, match="another input or shard count"):
        ray_engine.run_ray_batch(str(corpus), out, models=tiny_models, shards=7, progress=False)


def test_ray_engine_inputs_and_refusals(corpus, tmp_path, tiny_models, capsys):
    assert ray_engine.input_files(str(corpus)) == [corpus / "a.jsonl", corpus / "b.jsonl"]
    assert ray_engine.input_files(str(corpus / "b.*")) == [corpus / "b.jsonl"]
    assert cli(["batch", str(tmp_path / "none*.jsonl"), str(tmp_path / "o"), "--engine", "ray"]) == 2
    assert "no file matches it as a glob" in capsys.readouterr().err
    (tmp_path / "file.jsonl").write_text("")
    assert cli(["batch", str(corpus), str(tmp_path / "file.jsonl"), "--engine", "ray",
                "--models", str(tiny_models)]) == 2
    assert "OUT is a folder" in capsys.readouterr().err
    shards = {ray_engine.shard_of(f"id{i}", 8) for i in range(200)}
    assert shards == set(range(8)) and ray_engine.shard_of("id7", 8) == ray_engine.shard_of("id7", 8)


@pytest.fixture(scope="module")
def exported(tiny_models, tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx") / "classifier"
    TopicClassifier.from_pretrained(tiny_models / "classifier", precision="float32").save_pretrained(d, export_onnx=True)
    return d


def test_onnx_serves_the_float32_probabilities(exported):
    texts = [a.text for a in read_articles(SAMPLES)[:16]]
    p32 = TopicClassifier.from_pretrained(exported, precision="float32").probabilities(texts)
    onnx = TopicClassifier.from_pretrained(exported, precision="onnx")
    assert onnx.precision == "onnx" and isinstance(onnx.model, onnx_runtime.OnnxModel)
    assert np.abs(onnx.probabilities(texts) - p32).max() < 1e-4  # the same graph, in float32
    q = TopicClassifier.from_pretrained(exported, precision="onnx-int8").probabilities(texts)
    assert np.abs(q - p32).max() < 0.1 and (q.argmax(1) != p32.argmax(1)).mean() <= 0.25
    assert TopicClassifier.from_pretrained(exported).precision == onnx_runtime.SERVED  # "auto", onnx/ present


def test_onnx_missing_pieces_are_clear(exported, tiny_models, tmp_path, monkeypatch, capsys):
    from models.base import ModelLoadError
    with pytest.raises(ModelLoadError, match="export-onnx"):  # a directory without onnx/
        TopicClassifier.from_pretrained(tiny_models / "classifier", precision="onnx")
    assert TopicClassifier.from_pretrained(tiny_models / "classifier").precision in ("float32", "bfloat16")
    monkeypatch.setattr(onnx_runtime, "available", lambda: False)
    assert TopicClassifier.from_pretrained(exported).precision in ("float32", "bfloat16")  # auto without onnxruntime
    with pytest.raises(ModelLoadError, match=r"pip install -e '.\[onnx\]'"):
        TopicClassifier.from_pretrained(exported, precision="onnx")


def test_export_onnx_command_adds_onnx_to_a_model_directory(tiny_models, tmp_path):
    import shutil
    shutil.copytree(tiny_models / "classifier", tmp_path / "classifier")
    assert cli(["export-onnx", "--models", str(tmp_path)]) == 0
    assert onnx_runtime.has_export(tmp_path / "classifier")
    assert (tmp_path / "classifier" / "MODEL_CARD.md").exists()  # the rest of the directory is kept
