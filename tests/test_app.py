"""The Gradio demo, served for real on 127.0.0.1: every named endpoint through gradio_client, then a real browser
(Debian's chromium, headless, driven by selenium through chromedriver; .ci/run installs both)."""
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
from gradio_client import Client, handle_file

from data import LABELS, SAMPLES, read_articles
from serve import load
from serve.app import MAX_CHARS, QUEUE_SIZE, examples, serve
from training.bench_serve import free_port

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
    # two lanes of one: articles (/predict, /explain) and batch files (/batch, run in chunks between articles)
    lanes = {f.api_name: (f.concurrency_id, f.concurrency_limit) for f in app.fns.values()}
    assert lanes["predict"] == lanes["explain"] == ("models", 1) and lanes["batch"] == ("batch", 1)
    assert app.local_url.startswith("http://127.0.0.1:")


def test_named_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert {"/predict", "/explain", "/batch"} <= set(api["named_endpoints"])
    predict = api["named_endpoints"]["/predict"]
    assert [(p["parameter_name"], p["parameter_has_default"]) for p in predict["parameters"]] == [
        ("text", False), ("headline", True)]
    assert [r["label"] for r in predict["returns"]] == ["Topic", "Generated headline", "Generated teaser"]
    assert [r["label"] for r in api["named_endpoints"]["/explain"]["returns"]] == ["Provenance"]
    assert [r["label"] for r in api["named_endpoints"]["/batch"]["returns"]] == ["Results", "Summary"]
    assert all(e["description"] for e in api["named_endpoints"].values())


def test_the_readme_one_argument_call(client, tiny_models):
    body = examples()[0][0]
    topic, headline, teaser = client.predict(body, api_name="/predict")
    assert topic["label"] == load(tiny_models).predict(body).topic and headline == headline.strip()


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
    for note in expected.notes:  # the notes that are not warnings (which fallback wrote what) are shown here
        assert note.replace("'", "&#x27;") in explained


def test_predict_endpoint_rejects_bad_input_clearly(client, capfd):
    capfd.readouterr()
    with pytest.raises(Exception, match="text box is empty"):
        client.predict("   ", "", api_name="/predict")
    with pytest.raises(Exception, match=f"at most {MAX_CHARS:,}"):
        client.predict("word " * (MAX_CHARS // 4), "", api_name="/predict")
    log = capfd.readouterr().err
    assert log.count("request refused") == 2 and "Traceback" not in log  # one line each in the server log


def test_batch_endpoint_returns_a_results_file(client, tmp_path):
    src = tmp_path / "upload.jsonl"
    arts = read_articles(SAMPLES)[:3]
    src.write_text("".join(json.dumps({"id": a.id, "body": a.body}) + "\n" for a in arts) + "{broken\n")
    path, summary = client.predict(handle_file(str(src)), "jsonl", api_name="/batch")
    recs = [json.loads(line) for line in open(path, encoding="utf-8")]
    assert [r["id"] for r in recs[:3]] == [a.id for a in arts]
    assert recs[3]["line"] == 4 and "malformed JSON" in recs[3]["error"]
    assert "4 rows read: 4 written to upload.newsdesk.jsonl (1 failed)" in summary
    assert tempfile.gettempdir() not in summary  # no server paths


def test_batch_endpoint_runs_in_chunks_so_articles_interleave(client, tiny_models, tmp_path, monkeypatch):
    """/batch hands the models BATCH_CHUNK articles at a time (an /predict waits for one chunk, not a whole file)."""
    from serve.app import BATCH_CHUNK

    desk, sizes = load(tiny_models), []
    real = desk.predict

    def recording(articles, batch_size=16):
        sizes.append(len(articles) if isinstance(articles, list) else 1)
        return real(articles, batch_size=batch_size)

    monkeypatch.setattr(desk, "predict", recording)
    src = tmp_path / "chunks.jsonl"
    src.write_text("".join(json.dumps({"id": a.id, "body": a.body}) + "\n" for a in read_articles(SAMPLES)[:10]))
    path, summary = client.predict(handle_file(str(src)), "jsonl", api_name="/batch")
    assert "10 rows read: 10 written" in summary
    assert sum(sizes) == 10 and max(sizes) <= BATCH_CHUNK


def test_batch_endpoint_returns_the_rows_read_before_a_file_breaks_off(client, tmp_path):
    src = tmp_path / "cut.jsonl.gz"
    lines = "".join(json.dumps({"id": a.id, "body": a.body}) + "\n" for a in read_articles(SAMPLES)[:10])
    src.write_bytes(gzip.compress(lines.encode())[:-12])
    path, summary = client.predict(handle_file(str(src)), "jsonl", api_name="/batch")
    recs = [json.loads(line) for line in open(path, encoding="utf-8")]
    assert len(recs) >= 5 and all(r["topic"] for r in recs)
    assert summary.startswith("Stopped: cut.jsonl.gz: cannot read file") and "rows read before" in summary


def test_sigterm_removes_the_servers_temporary_folder(tiny_models, tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "serve.cli", "serve", "--models", str(tiny_models), "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and server.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        assert list(tmp_path.glob("newsdesk-batch-*")) and server.poll() is None, "the server did not start"
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        server.kill()
    assert not list(tmp_path.glob("newsdesk-batch-*"))


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
    from training import bench_serve as bench

    src = tmp_path / "articles.jsonl"
    src.write_text("".join(json.dumps({"id": a.id, "body": a.body}) + "\n" for a in read_articles(SAMPLES)))
    doc = tmp_path / "BENCH.md"
    doc.write_text(f"before\n{bench.START}\nold\n{bench.END}\nafter\n")
    bench.main(["--data", str(src), "--models", str(tiny_models), "--runs", "3", "--batch-articles", "6", "--clients", "2,3",
                "--seconds", "3", "--out", str(tmp_path / "serve.json"), "--doc", str(doc)])
    r = json.loads((tmp_path / "serve.json").read_text())
    assert r["predict"]["articles"] == 3 and r["predict"]["p50_ms"] > 0
    assert r["batch"]["articles"] == 6 and r["batch"]["failed"] == 0
    assert r["demo"]["requests"] > 0 and r["demo"]["errors"] == 0
    assert [d["clients"] for d in r["demos"]] == [2, 3] and all("queue_full" in d for d in r["demos"])
    if "generator" in r:  # timed writing both outputs only when the summarizer has a generator
        assert r["generator"]["predict"]["articles"] == 3 and r["generator"]["batch"]["articles"] == 6
    text = doc.read_text()
    assert f"headline {r['methods'][0]}, teaser {r['methods'][1]}" in text
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert "python -m training.bench_serve" in text and "8 concurrent" not in text
    assert "| demo `/predict`, 2 concurrent" in text and "| demo `/predict`, 3 concurrent" in text


def test_an_oversized_request_body_is_refused_before_gradio_reads_it(app):
    """Eight 100 MB pastes grew the server by 1.2 GB for good: now any body over MAX_REQUEST_BYTES gets 413."""
    import http.client
    from urllib.parse import urlparse

    from serve.app import MAX_REQUEST_BYTES

    url = urlparse(app.local_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("POST", "/gradio_api/queue/join")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(100 * 2**20))
    conn.endheaders()
    response = conn.getresponse()  # answered at once, from the headers: the 100 MB are never sent or read
    assert response.status == 413 and f"at most {MAX_REQUEST_BYTES:,} bytes" in response.read().decode()
    conn.close()


def test_the_server_keeps_the_inputs_of_a_bounded_number_of_sessions(monkeypatch):
    """Gradio keeps every session's last input values (for 10,000 sessions by default; each API call is a session
    of its own), which is why eight 100 MB pastes stayed in the server as strings: the demo keeps SESSION_CAPACITY."""
    import types
    import urllib.request

    import serve.app as app_module

    monkeypatch.setattr(app_module, "load", lambda models=None: types.SimpleNamespace(load_models=lambda: None))
    monkeypatch.setattr(app_module, "SESSION_CAPACITY", 3, raising=False)
    demo = app_module.serve(port=free_port(), block=False)  # no models needed: every request below is refused
    try:
        for i in range(6):
            call = urllib.request.Request(demo.local_url + "gradio_api/call/predict", method="POST",
                                          data=json.dumps({"data": ["x" * (MAX_CHARS + 1 + i), ""]}).encode(),
                                          headers={"Content-Type": "application/json"})
            event_id = json.load(urllib.request.urlopen(call, timeout=30))["event_id"]
            with urllib.request.urlopen(f"{demo.local_url}gradio_api/call/predict/{event_id}", timeout=30) as r:
                assert "at most 20,000" in r.read().decode()
        assert len(demo.state_holder.session_data) == 3
    finally:
        demo.close()
