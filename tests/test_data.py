import csv
import gzip
import json
import random
from collections import Counter

import pytest

from data import (LABELS, SAMPLES, Article, DataError, FieldMap, assign_splits, duplicate_groups, iter_rows,
                  read_articles, split_articles)


def write_jsonl(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "a1", "headline": "Kyiv hosts envoys", "body": "Envoys met in Kyiv on Monday.", "topic": "diplomacy"}


def test_reads_jsonl_gz_and_csv_with_mapping(tmp_path):
    p = write_jsonl(tmp_path / "a.jsonl", [GOOD, {"id": 7, "teaser": "Only a teaser here."}])
    arts = read_articles(p)
    assert [a.id for a in arts] == ["a1", "7"]
    assert arts[0].topic == "diplomacy" and arts[1].topic is None
    assert arts[0].text == "Kyiv hosts envoys\nEnvoys met in Kyiv on Monday."

    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(GOOD) + "\n")
    assert read_articles(gz)[0] == arts[0]

    c = tmp_path / "a.csv"
    with open(c, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "title", "text", "label"])
        w.writerow(["x1", "Grid repair loan signed", "The bank lends money,\nover two lines.", "reconstruction_finance"])
        w.writerow(["x2", "Brigade trains recruits", "Recruits trained.", "military"])
    fm = FieldMap.parse(["id=key", "headline=title", "body=text", "topic=label"])
    arts = read_articles(c, fm, require_topic=True)
    assert [(a.id, a.topic) for a in arts] == [("x1", "reconstruction_finance"), ("x2", "military")]
    assert arts[0].body == "The bank lends money,\nover two lines."


def test_missing_id_gets_file_and_line(tmp_path):
    p = write_jsonl(tmp_path / "n.jsonl", [{"body": "Some text."}, {"body": "More text."}])
    assert [a.id for a in read_articles(p)] == ["n.jsonl:1", "n.jsonl:2"]


@pytest.mark.parametrize("line, reason", [
    ('{"id": "b", "body": "ok", ', "malformed JSON"),
    ('{"id": "b", "body": "ok", "topic": "sports"}', "unknown topic label 'sports'"),
    ('{"id": "b", "headline": "  ", "body": ""}', "no text"),
    ('{"id": "b", "body": 42}', "must be a string"),
    ('["not", "an", "object"]', "expected a JSON object"),
])
def test_bad_jsonl_line_names_file_line_and_problem(tmp_path, line, reason):
    p = write_jsonl(tmp_path / "bad.jsonl", [GOOD, line, {**GOOD, "id": "a3"}])
    with pytest.raises(DataError) as err:
        read_articles(p)
    assert err.value.line == 2 and err.value.path == str(p)
    assert reason in str(err.value) and str(err.value).startswith(f"{p}:2: ")


def test_bad_utf8_is_reported_with_line(tmp_path):
    p = tmp_path / "bytes.jsonl"
    p.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"id": "z", "body": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"bytes.jsonl:2: not valid UTF-8"):
        read_articles(p)
    c = tmp_path / "bytes.csv"
    c.write_bytes(b"id,body\nq1,fine\nq2,caf\xe9 au lait\n")
    with pytest.raises(DataError, match=r"bytes.csv:3: field 'body' is not valid UTF-8"):
        read_articles(c)


def test_skip_bad_skips_and_counts(tmp_path):
    p = write_jsonl(tmp_path / "mixed.jsonl", [GOOD, "{oops", {"id": "c", "body": "x", "topic": "war"},
                                               {"id": "a1", "body": "dup"}, {"id": "d", "body": "fine"}])
    bad = []
    arts = read_articles(p, skip_bad=True, bad_rows=bad)
    assert [a.id for a in arts] == ["a1", "d"]
    assert [(b.line, b.reason.split(":")[0].split(" '")[0]) for b in bad] == [
        (2, "malformed JSON"), (3, "unknown topic label"), (4, "duplicate id")]
    rows = list(iter_rows(p))
    assert len(rows) == 5 and sum(r.error is not None for r in rows) == 2  # duplicates are a read_articles check


def test_require_topic_and_file_errors(tmp_path):
    p = write_jsonl(tmp_path / "u.jsonl", [{"id": "u", "body": "no label"}])
    with pytest.raises(DataError, match="u.jsonl:1: missing topic label"):
        read_articles(p, require_topic=True)
    with pytest.raises(DataError, match="file not found"):
        read_articles(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="unknown file type"):
        read_articles(write_jsonl(tmp_path / "x.txt", [GOOD]))
    with pytest.raises(ValueError, match="bad field mapping"):
        FieldMap.parse(["colour=x"])


def test_a_long_csv_field_is_an_ordinary_row(tmp_path):
    body = "Word " * 40_000  # 200,000 characters: past the csv module's default field limit
    p = tmp_path / "long.csv"
    p.write_text(f"id,body\nlong,{body}\nshort,A short body.\n")
    assert [(a.id, len(a.body)) for a in read_articles(p)] == [("long", len(body)), ("short", 13)]


def test_an_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    import data.articles

    p = write_jsonl(tmp_path / "locked.jsonl", [GOOD])

    def denied(path, *args, **kwargs):  # what open() raises for a file without read permission
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data.articles, "open", denied, raising=False)
    with pytest.raises(DataError, match="locked.jsonl: cannot open: Permission denied"):
        read_articles(p)
    monkeypatch.undo()
    assert len(read_articles(p)) == 1


def test_article_validation():
    with pytest.raises(ValueError, match="no text"):
        Article(id="e", headline=" ", body="")
    with pytest.raises(ValueError, match="unknown topic"):
        Article(id="e", body="x", topic="Military")
    with pytest.raises(TypeError):
        Article(id="e", body=3)


def _art(i, headline, topic="other"):
    return Article(id=str(i), headline=headline, body=f"Body {i}.", topic=topic)


def test_duplicate_grouping_keeps_rewrites_together():
    arts = [_art(0, "Russia expels ten Polish diplomats from Moscow"),
            _art(1, "Russia expels ten Polish diplomats from Moscow - Reuters"),
            _art(2, "Moscow expels ten Polish diplomats"),
            _art(3, "Russia Expels Ten Polish Diplomats From Moscow!"),
            _art(4, "World Bank approves grid repair loan for Kharkiv"),
            _art(5, "Drone strike hits fuel depot in Belgorod region")]
    g = duplicate_groups(arts)
    assert g[0] == g[1] == g[2] == g[3]
    assert len({g[0], g[4], g[5]}) == 3


def test_splits_are_deterministic_order_independent_and_group_safe():
    rng = random.Random(3)
    words = [f"w{n}" for n in range(3000)]
    heads = [" ".join(rng.sample(words, 7)) for _ in range(400)]
    arts = [_art(i, h) for i, h in enumerate(heads)]
    arts += [_art(1000 + i, heads[i].replace(" ", " the ", 1) + " - Wire") for i in range(0, 400, 5)]
    s1 = dict(zip((a.id for a in arts), assign_splits(arts)))
    rev = list(reversed(arts))
    s2 = dict(zip((a.id for a in rev), assign_splits(rev)))
    assert s1 == s2
    for i in range(0, 400, 5):  # each wire rewrite sits in its original's split
        assert s1[str(i)] == s1[str(1000 + i)]
    counts = Counter(s1.values())
    assert 0.6 < counts["train"] / len(arts) < 0.8 and counts["test"] > 30 and counts["valid"] > 30
    parts = split_articles(arts, valid=0.1, test=0.2)
    assert sum(map(len, parts.values())) == len(arts)
    with pytest.raises(ValueError):
        assign_splits(arts, valid=0.6, test=0.5)


def test_sample_corpus_is_complete():
    arts = read_articles(SAMPLES, require_topic=True)
    counts = Counter(a.topic for a in arts)
    assert len(arts) >= 120 and all(counts[label] >= 25 for label in LABELS)
    for a in arts:
        assert a.headline and a.teaser and 80 <= len(a.body.split()) <= 200, a.id
    assert len({a.headline for a in arts}) == len(arts)
