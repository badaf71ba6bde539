"""Issue 17's battery of bad inputs, faults and load cases, as tests: no tracebacks, no rows lost silently."""
import csv
import fcntl
import gzip
import json
import os
import shutil

import pytest

from data import SAMPLES, DataError, iter_rows, read_articles
from models.base import ModelLoadError
from serve import load, predict
from serve.batch import run_batch
from serve.cli import main as cli

ARTS = read_articles(SAMPLES)
ENGLISH = ARTS[0].body
FRENCH = ("Les pourparlers de paix reprendront la semaine prochaine à Kyiv avec les partenaires européens, selon le "
          "ministère des affaires étrangères, qui a confirmé la date de la réunion et la liste des participants.")


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def batch(src, out, models, *extra):
    return cli(["batch", str(src), str(out), "--models", str(models), "--no-progress", *extra])


# --- 1. one bad id must not stop a batch ------------------------------------------------------------------------
def test_an_id_with_an_invalid_byte_is_one_clean_error_record(tiny_models, tmp_path, capsys):
    src, out = tmp_path / "x.csv", tmp_path / "o.csv"
    src.write_bytes(b"id,body\nc2\xff,Kyiv talks resume next week with partners.\n"
                    b"good1,Ukraine and Poland signed a border agreement in Warsaw on Monday.\n")
    assert batch(src, out, tiny_models) == 1  # some rows failed; not 2 (the command failed)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["line"] for r in rows] == ["2", "3"]
    assert "not valid UTF-8" in rows[0]["error"] and rows[0]["id"] == "c2\ufffd"
    assert rows[1]["id"] == "good1" and rows[1]["headline"] and not rows[1]["error"]
    assert "2 rows read: 2 written" in capsys.readouterr().err
    assert batch(src, out, tiny_models) == 1 and "0 written" in capsys.readouterr().err  # a rerun works too


def test_an_escaped_lone_surrogate_id_in_jsonl(tiny_models, tmp_path):
    src, out = tmp_path / "x.jsonl", tmp_path / "o.jsonl"
    src.write_text('{"id": "\\udc80", "body": "Kyiv talks resume."}\n{"id": "ok", "body": "Talks in Warsaw."}\n')
    report = run_batch(src, out, models=tiny_models, progress=False)
    recs = records(out)
    assert (report.written, report.failed) == (2, 1)
    assert recs[0]["line"] == 1 and recs[0]["id"] == "\ufffd" and "not valid UTF-8" in recs[0]["error"]
    assert recs[1]["id"] == "ok" and not recs[1]["error"]


# --- 2. a model directory missing a file -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tokenizer.json", "tokenizer_config.json", "model.safetensors",
                                  "baseline/baseline.json"])
def test_a_classifier_missing_a_file_is_a_model_load_error_naming_it(tiny_models, tmp_path, name):
    from models.classifier import TopicClassifier

    d = tmp_path / "classifier"
    shutil.copytree(tiny_models / "classifier", d)
    (d / name).unlink()
    with pytest.raises(ModelLoadError, match=name.split("/")[-1]):
        TopicClassifier.from_pretrained(d)


def test_require_files_names_the_missing_or_unreadable_file(tmp_path, monkeypatch):
    from models.base import require_files

    (tmp_path / "config.json").write_text("{}")
    require_files(tmp_path, ["config.json"])
    with pytest.raises(ModelLoadError, match=r"has no vocab.txt"):
        require_files(tmp_path, ["config.json", "vocab.txt"])
    monkeypatch.setattr(os, "access", lambda path, mode: not str(path).endswith("config.json"))
    with pytest.raises(ModelLoadError, match=r"cannot read .*config.json: permission denied"):
        require_files(tmp_path, ["config.json"])


# --- 3. an unbalanced quote in a CSV -----------------------------------------------------------------------------
def test_an_unbalanced_quote_is_reported_and_the_rows_after_it_are_read(tmp_path):
    p = tmp_path / "q.csv"
    lines = ["id,body"] + [f"r{i},Body {i} of the talks." for i in range(8)]
    lines[3] = 'r2,"Body 2 opens a quote and never closes it.'
    p.write_text("\n".join(lines) + "\n")
    rows = list(iter_rows(p))
    assert [r.line for r in rows] == list(range(2, 10))  # 8 rows in, 8 rows out
    bad = [r for r in rows if r.error]
    assert len(bad) == 1 and bad[0].line == 4 and "unbalanced quote" in bad[0].error.reason
    assert [r.article.id for r in rows if r.article] == ["r0", "r1", "r3", "r4", "r5", "r6", "r7"]
    # a quote that closes much later (swallowing rows between) is caught too
    lines[3] = 'r2,"Body 2 opens a quote'
    lines[7] = 'r6,and closes it" here'
    p.write_text("\n".join(lines) + "\n")
    rows = list(iter_rows(p))
    assert len(rows) == 8 and [r.line for r in rows if r.error] == [4]  # r6 keeps its quote as text


def test_a_field_spanning_too_many_lines_is_an_error(tmp_path):
    from data.articles import MAX_ROW_LINES

    p = tmp_path / "long.csv"
    p.write_text('id,body\na,"' + "line\n" * (MAX_ROW_LINES + 5) + '"\nb,Fine body.\n')
    rows = list(iter_rows(p))
    assert rows[0].error and rows[0].line == 2 and "runs over" in rows[0].error.reason
    assert rows[-1].article and rows[-1].article.id == "b"


# --- 4. resume against another input ----------------------------------------------------------------------------
def test_resume_refuses_a_changed_input_and_skips_by_id(tiny_models, tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [{"id": f"a{i}", "body": a.body} for i, a in enumerate(ARTS[:5])]
    write_jsonl(src, rows)
    assert batch(src, out, tiny_models) == 0
    assert json.loads((tmp_path / "out.jsonl.meta.json").read_text())["input"] == str(src.resolve())
    write_jsonl(src, [{"id": "new1", "body": ARTS[6].body}, {"id": "new2", "body": ARTS[7].body}] + rows)
    assert batch(src, out, tiny_models) == 2
    assert "has changed since" in capsys.readouterr().err and len(records(out)) == 5
    # a row inserted in the middle is matched by id, not by line
    write_jsonl(src, rows[:2] + [{"id": "mid", "body": ARTS[8].body}] + rows[2:])
    assert batch(src, out, tiny_models) == 0
    assert "1 written" in capsys.readouterr().err
    assert sorted(r["id"] for r in records(out)) == sorted([r["id"] for r in rows] + ["mid"])


def test_resume_refuses_another_input_the_input_itself_and_a_foreign_file(tiny_models, tmp_path, capsys):
    src, other, out = tmp_path / "in.jsonl", tmp_path / "other.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [{"id": "a", "body": ENGLISH}])
    write_jsonl(other, [{"id": "a", "body": ENGLISH}])
    assert batch(src, out, tiny_models) == 0
    assert batch(other, out, tiny_models) == 2 and "holds the results of" in capsys.readouterr().err
    assert batch(src, src, tiny_models) == 2 and "is the input file itself" in capsys.readouterr().err
    foreign = write_jsonl(tmp_path / "foreign.jsonl", [{"id": "a", "body": "some article"}])
    assert batch(src, foreign, tiny_models) == 2 and "not a newsdesk batch output" in capsys.readouterr().err
    assert len(records(foreign)) == 1


# --- 5. two runs on one output ----------------------------------------------------------------------------------
def test_a_second_run_on_the_same_output_fails_fast(tiny_models, tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [{"id": "a", "body": ENGLISH}])
    with open(tmp_path / "out.jsonl.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running `newsdesk batch` holds
        assert batch(src, out, tiny_models) == 2
    assert "is being written by another" in capsys.readouterr().err and not out.exists()
    assert batch(src, out, tiny_models) == 0 and len(records(out)) == 1  # released: runs


# --- 6. --retry-failed -------------------------------------------------------------------------------------------
def test_retry_failed_reruns_the_error_rows_once(tiny_models, tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    good = [json.dumps({"id": f"g{i}", "body": a.body}) for i, a in enumerate(ARTS[:3])]
    src.write_text("\n".join([good[0], '{"id": "bad", "body": 42}', good[1], "{broken", good[2]]) + "\n")
    assert batch(src, out, tiny_models) == 1
    assert batch(src, out, tiny_models) == 1 and "(2 of them failed; --retry-failed" in capsys.readouterr().err
    fixed = json.dumps({"id": "bad", "body": ARTS[5].body})
    src.write_text("\n".join([good[0], fixed, good[1], json.dumps({"id": "b2", "body": ARTS[6].body}),
                              good[2]]) + "\n")
    assert batch(src, out, tiny_models, "--retry-failed") == 0
    assert "2 earlier failures retried" in capsys.readouterr().err
    recs = records(out)
    assert sorted(r["line"] for r in recs) == [1, 2, 3, 4, 5] and not any(r["error"] for r in recs)
    assert sorted(r["id"] for r in recs) == ["b2", "bad", "g0", "g1", "g2"]


def test_retry_failed_keeps_a_csv_output_valid(tiny_models, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.csv"
    src.write_text(json.dumps({"id": "g", "body": ENGLISH}) + "\n{broken\n")
    assert batch(src, out, tiny_models) == 1
    src.write_text(json.dumps({"id": "g", "body": ENGLISH}) + "\n" + json.dumps({"id": "h", "body": FRENCH}) + "\n")
    assert batch(src, out, tiny_models, "--retry-failed") == 0
    with open(out, newline="", encoding="utf-8") as fh:
        assert [r["id"] for r in csv.DictReader(fh)] == ["g", "h"]


# --- 7. a byte order mark ----------------------------------------------------------------------------------------
def test_a_jsonl_byte_order_mark_is_skipped(tmp_path):
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + b'{"id": "first", "body": "Kyiv."}\n{"id": "second", "body": "Lviv."}\n')
    assert [a.id for a in read_articles(p)] == ["first", "second"]
    gz = tmp_path / "bom.jsonl.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    assert [a.id for a in read_articles(gz)] == ["first", "second"]


# --- 8. lone surrogates in a body -------------------------------------------------------------------------------
def test_a_lone_surrogate_in_a_body(tiny_models, tmp_path, capsys):
    p = tmp_path / "s.jsonl"
    p.write_text('{"id": "s", "body": "Kyiv \\ud800 talks resume next week."}\n{"id": "t", "body": "Fine."}\n')
    with pytest.raises(DataError, match=r"s.jsonl:1: field 'body' is not valid UTF-8"):
        read_articles(p)
    assert cli(["classify", str(p), "--models", str(tiny_models), "--skip-bad"]) == 0
    assert "skipped" in capsys.readouterr().err
    pred = predict("Kyiv \ud800 talks resume next week, the foreign ministry said on Monday.", models=tiny_models)
    assert pred.headline and any("not valid Unicode" in w for w in pred.warnings)
    pred.headline.encode("utf-8")


# --- 9. what is shown: capped, no markup, no control characters --------------------------------------------------
def test_clean_for_display():
    from models.display import clean_for_display

    assert clean_for_display("<script>alert(1)</script><b>Kyiv</b> talks\x00 resume\n", 120) == "Kyiv talks resume"
    assert clean_for_display("x" * 100_000, 120) == "x" * 119 + "…"
    cut = clean_for_display("乌克兰和波兰周一在华沙签署了边境协议。" * 20, 40)
    assert len(cut) == 40 and cut.endswith("…")
    words = clean_for_display("Ukraine and Poland signed " * 20, 60)
    assert len(words) <= 60 and words.endswith("…") and words[:-1].split()[-1] in ("Ukraine", "and", "Poland", "signed")
    assert clean_for_display("  Kyiv talks  ", 120) == "Kyiv talks"  # no trailing space


def test_headlines_and_teasers_are_capped_and_clean(tiny_models):
    from models.display import HEADLINE_MAX_CHARS, TEASER_MAX_CHARS

    for body in ["x" * 100_000, "<script>alert(1)</script> Kyiv\x00 talks <b>resume</b> next week. " * 3,
                 "乌克兰和波兰周一在华沙签署了边境协议。" * 200]:
        p = predict(body, models=tiny_models)
        assert 0 < len(p.headline) <= HEADLINE_MAX_CHARS and 0 < len(p.teaser) <= TEASER_MAX_CHARS
        for shown in (p.headline, p.teaser):
            assert "<" not in shown and "\x00" not in shown and shown == shown.strip()


# --- 10. size limits --------------------------------------------------------------------------------------------
def test_a_huge_input_is_cut_early_with_a_warning(tiny_models):
    import time

    from data.articles import MAX_TEXT_CHARS, fit_for_models
    from data import Article

    fitted, notes = fit_for_models(Article(id="h", body="word " * 2_000_000))
    assert len(fitted.body) <= MAX_TEXT_CHARS and notes[0].startswith("input cut")
    start = time.perf_counter()
    p = predict("The talks resumed in Kyiv on Monday. " * 300_000, models=tiny_models)  # 11 MB
    assert time.perf_counter() - start < 30
    assert any(w.startswith("input cut: the body has 11,100,000 characters") for w in p.warnings)


# --- API and CLI friction ----------------------------------------------------------------------------------------
def test_one_id_rule_for_predict_and_the_readers(tiny_models, tmp_path):
    """data.articles.article_id: a string as given, a number as its digits (3.0 is "3"), empty means the default
    (predict(): the item's index; a file: FILE:LINE), true/false is an error; the topic is ignored by both."""
    rows = [{"id": 3.0, "body": "a"}, {"id": 7, "body": "b"}, {"id": "", "body": "c"},
            {"id": "x", "body": "d", "topic": "sports"}, {"id": True, "body": "e"}]
    src = write_jsonl(tmp_path / "ids.jsonl", rows)
    preds = []
    for row in rows:
        try:
            preds.append(predict(row, models=tiny_models).id)
        except TypeError as e:
            assert "field 'id': an id must be a string or a number, got True" in str(e)
            preds.append(None)
    run_batch(src, tmp_path / "o.jsonl", models=tiny_models, progress=False)
    recs = records(tmp_path / "o.jsonl")
    assert preds == ["3", "7", "0", "x", None]  # predict(row) alone: index 0
    assert [r["id"] for r in recs[:4]] == ["3", "7", "ids.jsonl:3", "x"] and not any(r["error"] for r in recs[:4])
    assert "an id must be a string or a number, got True" in recs[4]["error"]


def test_a_malformed_json_line_gives_the_right_column(tmp_path):
    p = tmp_path / "col.jsonl"
    p.write_text('{"id": "b", "body": "ok"\n')
    with pytest.raises(DataError, match=r"col.jsonl:1: malformed JSON: Expecting ',' delimiter \(column 25\)"):
        read_articles(p)


@pytest.mark.parametrize("name, data, reason", [
    ("in.txt", b"hello\n", "unknown file type"),
    ("in.jsonl.gz", b'{"id": "a", "body": "not gzip"}\n', "cannot read file"),
])
def test_a_failed_run_creates_no_output(tiny_models, tmp_path, capsys, name, data, reason):
    src, out = tmp_path / name, tmp_path / "out.jsonl"
    src.write_bytes(data)
    assert batch(src, out, tiny_models) == 2
    assert reason in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "out.jsonl.lock").exists()


def test_an_unreadable_model_folder_is_a_model_load_error(tiny_models, tmp_path, monkeypatch):
    from serve.api import Newsdesk

    d = tmp_path / "models"
    shutil.copytree(tiny_models, d)
    real_stat = type(d).stat

    def denied(self, *a, **k):
        if str(self).startswith(str(d / "classifier")):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *a, **k)

    monkeypatch.setattr(type(d), "stat", denied)
    with pytest.raises(ModelLoadError, match=r"cannot read the model directory .*classifier: Permission denied"):
        Newsdesk(d).load_models()


def test_an_unreadable_weights_file_is_a_model_load_error(tiny_models, tmp_path, monkeypatch):
    from models.classifier import TopicClassifier

    d = tmp_path / "classifier"
    shutil.copytree(tiny_models / "classifier", d)
    monkeypatch.setattr(os, "access", lambda path, mode: not str(path).endswith("model.safetensors"))
    with pytest.raises(ModelLoadError, match=r"cannot read .*model.safetensors: permission denied"):
        TopicClassifier.from_pretrained(d)


def test_a_base_model_with_only_pickled_weights_is_refused(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    assert cli(["train-classifier", "--data", str(SAMPLES), "--models", str(tmp_path / "m"), "--base-model",
                str(tmp_path), "--no-progress"]) == 2
    assert "only safetensors checkpoints are accepted" in capsys.readouterr().err


def test_the_models_folder_is_found_from_another_folder(tmp_path, monkeypatch):
    import models.base as base

    project = tmp_path / "project" / "artifacts"
    project.mkdir(parents=True)
    monkeypatch.setattr(base, "PROJECT_MODELS", project)
    monkeypatch.delenv("NEWSDESK_MODELS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert base.models_dir() == project
    (tmp_path / "artifacts").mkdir()
    assert str(base.models_dir()) == "artifacts"  # the current folder's comes first
    with pytest.raises(ModelLoadError, match=str(tmp_path / "artifacts")):  # the message says where it looked
        load().load_models()


# --- warnings the user can act on; non-English text --------------------------------------------------------------
def test_only_notes_about_the_article_are_warnings(tiny_models):
    from serve.api import USER_WARNING_PREFIXES

    p = predict(ENGLISH, models=tiny_models)
    assert all(w.startswith(USER_WARNING_PREFIXES) for w in p.warnings)
    assert set(p.warnings) <= set(p.notes)
    assert not any("fallback" in w or "rejected" in w for w in p.warnings)
    assert p.headline == p.headline.strip() and p.teaser == p.teaser.strip()


def test_non_english_text_is_flagged(tiny_models):
    from models.display import looks_english
    from serve.api import NOT_ENGLISH

    assert all(looks_english(a.text) for a in ARTS)
    assert not looks_english(FRENCH) and not looks_english("Мирные переговоры возобновятся на следующей неделе")
    assert NOT_ENGLISH in predict(FRENCH, models=tiny_models).warnings
    assert NOT_ENGLISH not in predict(ENGLISH, models=tiny_models).warnings


def test_a_batch_row_that_makes_a_model_fail_is_an_error_record(tiny_models, tmp_path, monkeypatch):
    desk = load(tiny_models)
    real = desk._predict_batch

    def flaky(batch):
        if any(a.id == "boom" for a in batch):
            raise RuntimeError("index out of range in self")
        return real(batch)

    monkeypatch.setattr(desk, "_predict_batch", flaky)
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [{"id": "a", "body": ENGLISH}, {"id": "boom", "body": ENGLISH}, {"id": "c", "body": FRENCH}])
    report = run_batch(src, out, desk=desk, progress=False)
    recs = records(out)
    assert (report.written, report.failed) == (3, 1)
    assert recs[1]["id"] == "boom" and "RuntimeError: index out of range" in recs[1]["error"]
