"""The Gradio demo: `newsdesk serve` (and `make demo`).

Tab "Article": paste an article (and, optionally, its own headline); see the topic with its probabilities, the
generated headline and teaser, which path wrote each, and the body sentences they rest on. Tab "Batch": upload a
JSONL/CSV file, get a results file back (serve/batch.py).

Named API endpoints (gradio_client: `Client(url).predict(text, api_name="/predict")`, the headline optional):
  /predict  (article text, optional headline) -> (topic scores, headline, teaser)
  /explain  (article text, optional headline) -> provenance as Markdown (cached from /predict, no second run)
  /batch    (uploaded file, "jsonl" or "csv")  -> (results file, summary)
Two lanes, one request at a time in each, and a bounded waiting line: articles (/predict, /explain) and batch
files (/batch), which run in chunks of BATCH_CHUNK articles, so that an article waits for at most one chunk, not
for a whole file (all model work shares the one inference thread: serve/api.py). Bound to 127.0.0.1 unless asked
otherwise. A user's mistake (an empty or too long article) is one line in the server log, not a traceback.
Blocks apps have no flagging.
"""
from __future__ import annotations

import functools
import html
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from data import SAMPLES, LABELS, DataError, read_articles
from .api import USER_WARNING_PREFIXES, Newsdesk, load
from .batch import run_batch

MAX_CHARS = 20_000        # about 3,000 words; longer articles belong in `newsdesk batch`
MAX_HEADLINE_CHARS = 300
QUEUE_SIZE = 32
BATCH_CHUNK = 4           # articles per model call of a /batch run; an /predict waits for at most one chunk


MAX_REQUEST_BYTES = 1_000_000  # an article of MAX_CHARS is at most ~120 KB as JSON; file uploads have their own limit
# Why eight 100 MB pastes grew the server for good: gradio keeps, per session, the last value of every input (its
# StateHolder's config_values) until state_session_capacity sessions (10,000 by default) push it out, and each API
# call is a session of its own, so every paste stayed alive as a Python str (not allocator retention: gc plus
# malloc_trim gave back almost nothing). The body limit bounds each value, SESSION_CAPACITY how many are kept: about
# 1.3 MB a session at most (measured), so ~170 MB in all. The demo has no gr.State: an evicted session starts afresh.
SESSION_CAPACITY = 128


class BodyLimit:
    """ASGI middleware in front of gradio: a request body over `max_bytes` (file uploads aside, which gradio limits
    to max_file_size) is refused with 413 before anything reads it, so a 100 MB paste cannot grow the server."""

    def __init__(self, app, max_bytes: int = MAX_REQUEST_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].rstrip("/").endswith("/upload"):
            length = dict(scope.get("headers") or []).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > self.max_bytes:
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body",
                            "body": f"request too large: at most {self.max_bytes:,} bytes".encode()})
                return
        await self.app(scope, receive, send)


def user_error(message: str) -> gr.Error:
    """A gr.Error for the user's own mistake: shown to them, and one line (no traceback) in the server log."""
    print(f"newsdesk serve: request refused: {message}", file=sys.stderr, flush=True)
    return gr.Error(message, print_exception=False)


def examples(n_per_label: int = 1) -> list[list[str]]:
    """A few articles from the project's own sample corpus, one per topic."""
    picked, counts = [], {}
    for a in read_articles(SAMPLES):
        if a.body and counts.get(a.topic, 0) < n_per_label:
            counts[a.topic] = counts.get(a.topic, 0) + 1
            picked.append([a.body, ""])
    return picked


def build_app(desk: Newsdesk | None = None) -> gr.Blocks:
    """The demo page. Long by design (~100 lines): Gradio declares a page's layout and its endpoints' wiring in one
    `with gr.Blocks()` body, and the handlers read best next to the components they fill."""
    desk = desk or load()

    @functools.lru_cache(maxsize=128)  # the last predictions by input, so /explain reuses what /predict computed
    def cached(text: str, headline: str):
        return desk.predict({"body": text, "headline": headline or None})

    def run(text: str, headline: str | None):
        text, headline = (text or "").strip(), (headline or "").strip()
        if not text:
            raise user_error("Paste an article first: the text box is empty.")
        if len(text) > MAX_CHARS:
            raise user_error(f"The article is {len(text):,} characters long; the demo takes at most {MAX_CHARS:,}. "
                             f"Shorten it, or run long files through `newsdesk batch`.")
        if len(headline) > MAX_HEADLINE_CHARS:
            raise user_error(f"The headline is {len(headline):,} characters long; at most {MAX_HEADLINE_CHARS} please.")
        return cached(text, headline)

    def predict(text: str, headline: str | None = None):
        """Topic scores, a headline and a teaser for one article (its body; its own headline is optional)."""
        p = run(text, headline)
        return p.probabilities, p.headline, p.teaser

    def explain(text: str, headline: str | None = None):
        """Provenance of the last /predict of this article, as Markdown: which path wrote each output, the
        sentences they rest on, notes and model versions."""
        p = run(text, headline)
        lines = [f"**Headline** written by *{p.headline_source}*; **teaser** written by *{p.teaser_source}*.", ""]
        if p.evidence:
            lines += ["**Rests on these sentences of the article:**", ""]
            lines += [f"> {html.escape(s)}" + "\n" for s in p.evidence]
        if p.warnings:
            lines += ["**About this article:**", ""] + [f"- {html.escape(w)}" for w in p.warnings] + [""]
        internal = [n for n in p.notes if not n.startswith(USER_WARNING_PREFIXES)]
        if internal:
            lines += ["**How it was written:**", ""] + [f"- {html.escape(n)}" for n in internal] + [""]
        lines.append("Models: " + ", ".join(f"`{k}` {v}" for k, v in p.models.items()))
        return "\n".join(lines)

    outputs = tempfile.TemporaryDirectory(prefix="newsdesk-batch-")  # results files; removed when the app is

    def batch(path, fmt: str = "jsonl", progress=gr.Progress(track_tqdm=True)):
        """Every article of an uploaded JSONL, JSONL.gz or CSV file: a results file ("jsonl" or "csv") with one
        record per row (a prediction, or an error record with the row's line), and a one-line summary."""
        if not path:
            raise user_error("Upload a JSONL, JSONL.gz or CSV file first.")
        out = Path(tempfile.mkdtemp(dir=outputs.name)) / f"{Path(path).name.split('.')[0]}.newsdesk.{fmt}"
        short = lambda text: str(text).replace(str(out.parent) + "/", "").replace(str(Path(path).parent) + "/", "")
        try:
            report = run_batch(path, out, desk=desk, progress=True, batch_size=BATCH_CHUNK)
        except DataError as e:  # the file breaks off (a truncated .gz): the rows read before it, and the error
            if out.exists() and out.stat().st_size:
                return str(out), f"Stopped: {short(e)}. The results file holds the rows read before that."
            raise user_error(short(e)) from None
        except ValueError as e:
            raise user_error(short(e)) from None
        return str(out), f"{short(report)}. Rows that failed are error records (with their line) in the file."

    with gr.Blocks(title="newsdesk", analytics_enabled=False) as app:
        gr.Markdown("# newsdesk\nTopic, headline and teaser for a war-time news article. Headlines and teasers "
                    "pass a faithfulness guard: a number or name the article does not support is never shown.")
        with gr.Tab("Article"):
            with gr.Row():
                with gr.Column(scale=3):
                    article = gr.Textbox(label="Article text", lines=14, max_length=MAX_CHARS, elem_id="article",
                                         placeholder="Paste the body of a news article here")
                    own = gr.Textbox(label="Its headline (optional, helps the topic)", max_length=MAX_HEADLINE_CHARS,
                                     elem_id="own-headline")
                    go = gr.Button("Analyse", variant="primary", elem_id="analyse")
                with gr.Column(scale=2):
                    topic = gr.Label(label="Topic", num_top_classes=len(LABELS), elem_id="topic")
                    headline = gr.Textbox(label="Generated headline", interactive=False, elem_id="headline")
                    teaser = gr.Textbox(label="Generated teaser", lines=3, interactive=False, elem_id="teaser")
                    provenance = gr.Markdown(label="Provenance", elem_id="provenance")
            gr.Examples(examples(), inputs=[article, own], label="Examples (from the project's own sample corpus)")
        with gr.Tab("Batch"):
            gr.Markdown("Upload a JSONL, JSONL.gz or CSV file of articles (fields `id`, `headline`, `teaser`, "
                        "`body`; some text per row). Every row comes back: a prediction, or an error record "
                        "with its line number.")
            upload = gr.File(label="Articles", file_types=[".jsonl", ".gz", ".csv"], type="filepath")
            fmt = gr.Radio(["jsonl", "csv"], value="jsonl", label="Results format")
            run_btn = gr.Button("Run batch", variant="primary")
            result = gr.File(label="Results")
            summary = gr.Markdown(label="Summary")

        # Two lanes (concurrency groups of one): articles, and batch files. Model work runs on one inference thread
        # either way; a batch hands it over chunk by chunk, so articles get their turn in between.
        one = {"concurrency_id": "models", "concurrency_limit": 1}
        event = go.click(predict, [article, own], [topic, headline, teaser], api_name="predict", **one,
                         api_description="Topic scores, headline and teaser for one article (headline optional).")
        event.then(explain, [article, own], provenance, api_name="explain", **one,
                   api_description="Provenance of /predict's answer for the same article, as Markdown.")
        run_btn.click(batch, [upload, fmt], [result, summary], api_name="batch",
                      concurrency_id="batch", concurrency_limit=1,
                      api_description="A JSONL, JSONL.gz or CSV file of articles in; a results file (one record per "
                                      "row: a prediction or an error with its line) and a summary out.")
    app.queue(max_size=QUEUE_SIZE)
    return app


def serve(models=None, host: str = "127.0.0.1", port: int | None = None, block: bool = True):
    """Load the models (failing early with how to train them), then serve the demo."""
    desk = load(models)
    desk.load_models()
    app = build_app(desk)
    stopped = threading.Event()  # set when launch has returned: the closing thread ends with it
    if block and threading.current_thread() is threading.main_thread():
        # SIGTERM closes the app from a thread until gradio's wait loop ends (a SIGTERM during launch, before gradio
        # marks itself running, was lost as a KeyboardInterrupt), so that serve returns and the temporary results
        # folder is removed at exit
        def close_until_stopped():
            while not stopped.is_set():
                app.close(verbose=False)
                time.sleep(0.2)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=close_until_stopped, daemon=True).start())
    try:
        app.launch(server_name=host, server_port=port, share=False, ssr_mode=False, show_error=True,
                   max_file_size="20mb", prevent_thread_lock=not block, quiet=not block,
                   state_session_capacity=SESSION_CAPACITY, app_kwargs={"middleware": [Middleware(BodyLimit)]})
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before gradio's own wait loop began: stop the server it started
        app.close()
    finally:
        stopped.set()
    return app
