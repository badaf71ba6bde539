"""predict() and the batch script on tiny trained models (tests/conftest.py)."""
import csv
import json
import signal
import subprocess
import sys
import time

import pytest

from data import LABELS, SAMPLES, read_articles
from models.base import ModelLoadError
from serve import Prediction, load, predict
from serve.batch import CSV_COLUMNS, run_batch
from serve.cli import main as cli

pytestmark = pytest.mark.slow
ARTS = read_articles(SAMPLES)


def check_prediction(p, id_=None):
    assert isinstance(p, Prediction)
    assert set(p.probabilities) == set(LABELS) and sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert p.topic == max(p.probabilities, key=p.probabilities.get)
    assert p.headline.strip() and p.teaser.strip()
    assert p.headline_source.startswith(("compressive", "generator", "extractive"))
    assert p.teaser_source.startswith(("compressive", "generator", "extractive"))
    assert set(p.models) == {"classifier", "summarizer"} and all("@" in v for v in p.models.values())
    assert isinstance(p.warnings, list) and isinstance(p.evidence, list)
    if id_ is not None:
        assert p.id == id_


def test_each_input_form(tiny_models):
    a = ARTS[0]
    from_str = predict(a.body, models=tiny_models)
    check_prediction(from_str)
    from_dict = predict({"id": "d1", "headline": a.headline, "body": a.body}, models=tiny_models)
    check_prediction(from_dict, "d1")
    from_article = predict(a, models=tiny_models)
    check_prediction(from_article, a.id)
    headline_only = predict({"headline": "Kyiv and Warsaw sign a new border agreement"}, models=tiny_models)
    check_prediction(headline_only)
    assert any("no body" in w for w in headline_only.warnings)
    assert any(w.startswith("topic read the first 64 of") for w in from_str.warnings)  # a long article is flagged
    # the summarizer reads the body, so a given headline changes only the topic input
    assert from_dict.headline == from_str.headline and from_dict.teaser == from_str.teaser


def test_model_work_runs_on_one_inference_thread(tiny_models, monkeypatch):
    """Whichever thread calls predict() (Gradio serves from a pool of worker threads), the models run on one
    thread, the one that loaded them: PyTorch is ~1.8x slower once two threads of a process run its ops."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    desk = load(tiny_models)
    seen, real = [], desk._predict_batch
    monkeypatch.setattr(desk, "_predict_batch", lambda batch: seen.append(threading.current_thread().name) or real(batch))
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda i: desk.predict(ARTS[i].body), range(6)))
    results.append(desk.predict(ARTS[0].body))  # and from the main thread
    assert [r.headline for r in results[:1]] == [results[-1].headline]
    assert len(seen) == 7 and len(set(seen)) == 1 and seen[0].startswith("newsdesk-inference")


def test_a_list_is_batched_and_equals_one_by_one(tiny_models):
    items = [a.body for a in ARTS[:5]] + [ARTS[5]]
    together = predict(items, models=tiny_models, batch_size=4)
    assert [p.id for p in together] == ["0", "1", "2", "3", "4", ARTS[5].id]
    for item, p in zip(items, together):
        alone = predict(item, models=tiny_models)
        check_prediction(alone)
        assert (alone.headline, alone.teaser, alone.topic) == (p.headline, p.teaser, p.topic)
        for lab in LABELS:
            assert alone.probabilities[lab] == pytest.approx(p.probabilities[lab], abs=1e-4)
    assert predict([], models=tiny_models) == []


def test_models_load_once_lazily_and_from_the_environment(tiny_models, monkeypatch):
    desk = load(tiny_models)
    assert load(str(tiny_models)) is desk
    monkeypatch.setenv("NEWSDESK_MODELS", str(tiny_models))
    assert load() is desk
    p = predict("Ukraine's parliament passed the budget on Thursday after a long debate.")
    check_prediction(p)
    classifier = desk.classifier
    predict("Another article about the grain corridor and the ports.")
    assert desk.classifier is classifier  # not reloaded


@pytest.mark.parametrize("bad, error, words", [
    ("", ValueError, "empty"),
    ("   \n ", ValueError, "empty"),
    ({}, ValueError, "no text"),
    ({"title": "x"}, ValueError, "'body'"),
    ({"body": 42}, TypeError, "'body' must be a string"),
    (42, TypeError, "got int"),
    (b"Kyiv", TypeError, "decode"),
    (["fine text here", ""], ValueError, "article 1"),
    (({"body": "x"} for _ in range(2)), TypeError, "list"),
])
def test_invalid_input_gets_a_clear_error(tiny_models, bad, error, words):
    with pytest.raises(error, match=words):
        predict(bad, models=tiny_models)


def test_no_models_says_how_to_train(tmp_path):
    with pytest.raises(ModelLoadError, match="make train"):
        predict("Some article text.", models=tmp_path / "none")


# --- batch -----------------------------------------------------------------------------------------------------
def write_input(path, n=8):
    lines = [json.dumps({"id": f"a{i}", "headline": a.headline, "body": a.body}) for i, a in enumerate(ARTS[:n])]
    lines.insert(2, '{"id": "broken", "body": "no closing brace"')        # line 3: malformed JSON
    lines.insert(4, json.dumps({"id": "empty", "body": "   "}))          # line 5: no text
    lines.append(json.dumps({"id": "a1", "body": "A second row with a known id."}))  # duplicate id
    data = "\n".join(lines).encode() + b"\n"
    data += b'{"id": "bytes", "body": "caf\xe9"}\n'                       # undecodable byte
    path.write_bytes(data)
    return n


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_batch_writes_every_row_once_with_error_records(tiny_models, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    n = write_input(src)
    report = run_batch(src, out, models=tiny_models, batch_size=3, progress=False)
    recs = records(out)
    assert (report.read, report.written, report.failed, report.done_before) == (n + 4, n + 4, 4, 0)
    good = [r for r in recs if not r["error"]]
    assert [r["id"] for r in good] == [f"a{i}" for i in range(n)]
    for r in good:
        assert r["topic"] in LABELS and r["headline"] and r["teaser"] and r["headline_source"]
    errors = {r["line"]: r for r in recs if r["error"]}
    assert "malformed JSON" in errors[3]["error"]
    assert "no text" in errors[5]["error"] and errors[5]["id"] == "empty"
    assert "duplicate id 'a1'" in errors[n + 3]["error"]
    assert "UTF-8" in errors[n + 4]["error"]
    assert sorted(r["line"] for r in recs) == list(range(1, n + 5))  # every line exactly once, in order
    # running again does nothing: everything is there
    again = run_batch(src, out, models=tiny_models, batch_size=3, progress=False)
    assert (again.written, again.done_before, again.ok) == (0, n + 4, False)
    assert len(records(out)) == n + 4


def test_batch_writes_the_rows_read_before_a_file_breaks_off(tiny_models, tmp_path):
    import gzip

    from data import DataError

    src, out = tmp_path / "in.jsonl.gz", tmp_path / "out.jsonl"
    lines = "".join(json.dumps({"id": f"a{i}", "body": a.body}) + "\n" for i, a in enumerate(ARTS[:10]))
    src.write_bytes(gzip.compress(lines.encode())[:-12])  # a truncated download: the stream ends early
    with pytest.raises(DataError, match="in.jsonl.gz: cannot read file"):
        run_batch(src, out, models=tiny_models, batch_size=16, progress=False)
    recs = records(out)
    assert len(recs) >= 5 and [r["line"] for r in recs] == list(range(1, len(recs) + 1))
    assert all(not r["error"] and r["topic"] in LABELS for r in recs)
    with pytest.raises(DataError):  # rerun: the rows written are skipped, the file still breaks off
        run_batch(src, out, models=tiny_models, batch_size=16, progress=False)
    assert records(out) == recs


def test_batch_cli_exit_status_and_csv_round_trip(tiny_models, tmp_path, capsys):
    src = tmp_path / "in.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "text", "topic"])
        for a in ARTS[:4]:
            w.writerow([a.id, a.headline, a.body, "not-a-label"])  # topic column is ignored by batch
    out = tmp_path / "out.csv"
    rc = cli(["batch", str(src), str(out), "--models", str(tiny_models), "--field", "headline=title",
              "--field", "body=text", "--no-progress"])
    assert rc == 0
    assert "4 rows read: 4 written" in capsys.readouterr().err
    with open(out, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == CSV_COLUMNS
    assert [r["id"] for r in rows] == [a.id for a in ARTS[:4]]
    for r in rows:
        assert r["topic"] in LABELS and r["headline"] and not r["error"]
        assert sum(float(r[f"p_{lab}"]) for lab in LABELS) == pytest.approx(1.0, abs=1e-3)
    # a CSV result file is also valid input for another run (ids, headline and teaser columns)
    out2 = tmp_path / "again.jsonl"
    assert cli(["batch", str(out), str(out2), "--models", str(tiny_models), "--field", "body=teaser",
                "--no-progress"]) == 0
    assert [r["id"] for r in records(out2)] == [a.id for a in ARTS[:4]]

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "body": "Kyiv hosted talks on the grain deal."}\nnot json\n')
    assert cli(["batch", str(bad), str(tmp_path / "bad.out.jsonl"), "--models", str(tiny_models),
                "--no-progress"]) == 1
    assert "(1 failed)" in capsys.readouterr().err
    assert cli(["batch", str(bad), str(tmp_path / "out.txt"), "--models", str(tiny_models)]) == 2
    assert "must be .jsonl or .csv" in capsys.readouterr().err
    assert cli(["batch", str(tmp_path / "missing.jsonl"), str(tmp_path / "never.jsonl"), "--models", str(tiny_models),
                "--no-progress"]) == 2
    assert "missing.jsonl: file not found" in capsys.readouterr().err and not (tmp_path / "never.jsonl").exists()


def test_batch_resumes_after_an_interrupt(tiny_models, tmp_path, monkeypatch):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    n = write_input(src, n=10)
    desk = load(tiny_models)
    real, calls = desk.predict, {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(desk, "predict", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_batch(src, out, batch_size=2, progress=False, desk=desk)
    partial = records(out)
    assert 0 < len(partial) < n + 4
    with open(out, "a") as fh:
        fh.write('{"id": "a9", "line": 1')  # a crash in the middle of a write leaves half a line
    monkeypatch.setattr(desk, "predict", real)
    report = run_batch(src, out, batch_size=2, progress=False, desk=desk)
    recs = records(out)
    assert report.done_before == len(partial) and report.written == n + 4 - len(partial)
    assert sorted(r["line"] for r in recs) == list(range(1, n + 5))
    ids = [r["id"] for r in recs if not r["error"]]
    assert sorted(ids) == sorted(f"a{i}" for i in range(n)) and len(ids) == len(set(ids))


def test_batch_process_killed_midway_then_rerun(tiny_models, tmp_path):
    """The real thing: SIGKILL the command while it writes, run it again, each id exactly once."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [{"id": f"k{i}", "body": ARTS[i % len(ARTS)].body} for i in range(30)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cmd = [sys.executable, "-m", "serve.cli", "batch", str(src), str(out), "--models", str(tiny_models),
           "--batch-size", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 3):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(records(out))
    assert 3 <= done < 30, "the run should have been killed midway"
    run_batch(src, out, models=tiny_models, batch_size=8, progress=False)  # the rerun, in this process (faster)
    ids = [r["id"] for r in records(out)]
    assert sorted(ids) == sorted(r["id"] for r in rows) and len(ids) == 30
