"""The Gradio demo, served for real on 127.0.0.1: every named endpoint through gradio_client, then a real browser
(Debian's chromium, headless, driven by selenium through chromedriver; .ci/run installs both)."""
import json
import os
import tempfile

import pytest
from gradio_client import Client, handle_file

from data import LABELS, SAMPLES, read_articles
from serve import load
from serve.app import MAX_CHARS, QUEUE_SIZE, examples, serve
from serve.bench import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tiny_models):
    demo = serve(tiny_models, port=free_port(), block=False)
    yield demo
    demo.close()


@pytest.fixture(scope="module")
def client(app):
    return Client(app.local_url, verbose=False)


def test_served_on_loopback_with_a_bounded_queue(app):
    assert app.server_name == "127.0.0.1"
    assert app._queue.max_size == QUEUE_SIZE
    # one queue: /predict, /explain and /batch share one concurrency group of one (the models and both cores)
    fns = [f for f in app.fns.values() if f.api_name in ("predict", "explain", "batch")]
    assert len(fns) == 3 and {(f.concurrency_id, f.concurrency_limit) for f in fns} == {("models", 1)}
    assert app.local_url.startswith("http://127.0.0.1:")


def test_named_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert {"/predict", "/explain", "/batch"} <= set(api["named_endpoints"])
    assert len(api["named_endpoints"]["/predict"]["parameters"]) == 2
    assert len(api["named_endpoints"]["/predict"]["returns"]) == 3


def test_predict_endpoint_matches_the_python_api(client, tiny_models):
    body = examples()[0][0]
    topic, headline, teaser = client.predict(body, "", api_name="/predict")
    expected = load(tiny_models).predict(body)
    assert topic["label"] == expected.topic
    scores = {c["label"]: c["confidence"] for c in topic["confidences"]}
    assert set(scores) == set(LABELS)
    assert scores[expected.topic] == pytest.approx(expected.probabilities[expected.topic], abs=1e-4)
    assert (headline, teaser) == (expected.headline, expected.teaser)
    explained = client.predict(body, "", api_name="/explain")
    assert expected.headline_source in explained and "Models:" in explained
    assert "summarizer@" in explained


def test_predict_endpoint_rejects_bad_input_clearly(client):
    with pytest.raises(Exception, match="text box is empty"):
        client.predict("   ", "", api_name="/predict")
    with pytest.raises(Exception, match=f"at most {MAX_CHARS:,}"):
        client.predict("word " * (MAX_CHARS // 4), "", api_name="/predict")


def test_batch_endpoint_returns_a_results_file(client, tmp_path):
    src = tmp_path / "upload.jsonl"
    arts = read_articles(SAMPLES)[:3]
    src.write_text("".join(json.dumps({"id": a.id, "body": a.body}) + "\n" for a in arts) + "{broken\n")
    path, summary = client.predict(handle_file(str(src)), "jsonl", api_name="/batch")
    recs = [json.loads(line) for line in open(path, encoding="utf-8")]
    assert [r["id"] for r in recs[:3]] == [a.id for a in arts]
    assert recs[3]["line"] == 4 and "malformed JSON" in recs[3]["error"]
    assert "4 rows read: 4 written" in summary and "(1 failed)" in summary


def test_a_real_browser_submits_an_example_and_sees_the_headline(app, tiny_models):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    for tool in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        assert os.path.exists(tool), f"{tool} missing: `apt-get install chromium chromium-driver` (.ci/run does)"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='newsdesk-chromium-')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(app.local_url)
        wait = WebDriverWait(driver, 90)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "tr.tr-body"))[0].click()  # the first example
        article = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#article textarea").get_attribute("value"))
        assert article == examples()[0][0]
        driver.find_element(By.CSS_SELECTOR, "#analyse").click()
        shown = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#headline textarea").get_attribute("value"))
        expected = load(tiny_models).predict(article)
        assert shown == expected.headline
        wait.until(lambda d: "written by" in d.find_element(By.CSS_SELECTOR, "#provenance").text)
        assert expected.topic in driver.find_element(By.CSS_SELECTOR, "#topic").text
    finally:
        driver.quit()


def test_the_serving_benchmark_runs(tiny_models, tmp_path):
    """`make bench-serve` end to end at toy size (the numbers themselves live in docs/BENCHMARKS.md)."""
    from serve import bench

    src = tmp_path / "articles.jsonl"
    src.write_text("".join(json.dumps({"id": a.id, "body": a.body}) + "\n" for a in read_articles(SAMPLES)))
    doc = tmp_path / "BENCH.md"
    doc.write_text(f"before\n{bench.START}\nold\n{bench.END}\nafter\n")
    bench.main(["--data", str(src), "--models", str(tiny_models), "--runs", "3", "--batch-articles", "6", "--clients", "2",
                "--seconds", "3", "--out", str(tmp_path / "serve.json"), "--doc", str(doc)])
    r = json.loads((tmp_path / "serve.json").read_text())
    assert r["predict"]["articles"] == 3 and r["predict"]["p50_ms"] > 0
    assert r["batch"]["articles"] == 6 and r["batch"]["failed"] == 0
    assert r["demo"]["requests"] > 0 and r["demo"]["errors"] == 0
    if tuple(r["paths"]) != ("generator", "generator"):  # the generator is timed writing both outputs too
        assert r["generator"]["predict"]["articles"] == 3 and r["generator"]["batch"]["articles"] == 6
    text = doc.read_text()
    assert f"headline {r['paths'][0]}, teaser {r['paths'][1]}" in text
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert "python -m serve.bench" in text and "8 concurrent" not in text
