"""The Gradio demo: `newsdesk serve` (and `make demo`).

Tab "Article": paste an article (and, optionally, its own headline); see the topic with its probabilities, the
generated headline and teaser, which path wrote each, and the body sentences they rest on. Tab "Batch": upload a
JSONL/CSV file, get a results file back (serve/batch.py).

Named API endpoints (gradio_client: `Client(url).predict(text, headline, api_name="/predict")`):
  /predict  (article text, optional headline) -> (topic scores, headline, teaser)
  /explain  (article text, optional headline) -> provenance as Markdown (cached from /predict, no second run)
  /batch    (uploaded file, "jsonl" or "csv")  -> (results file, summary)
One queue, one article at a time (both CPU cores go to it), a bounded waiting line; bound to 127.0.0.1 unless
asked otherwise. Blocks apps have no flagging.
"""
from __future__ import annotations

import functools
import html
import tempfile
from pathlib import Path

import gradio as gr

from data import SAMPLES, LABELS, read_articles
from .api import Newsdesk, load
from .batch import run_batch

MAX_CHARS = 20_000        # about 3,000 words; longer articles belong in `newsdesk batch`
MAX_HEADLINE_CHARS = 300
QUEUE_SIZE = 32


def examples(n_per_label: int = 1) -> list[list[str]]:
    """A few articles from the project's own sample corpus, one per topic."""
    picked, counts = [], {}
    for a in read_articles(SAMPLES):
        if a.body and counts.get(a.topic, 0) < n_per_label:
            counts[a.topic] = counts.get(a.topic, 0) + 1
            picked.append([a.body, ""])
    return picked


def build_app(desk: Newsdesk | None = None) -> gr.Blocks:
    desk = desk or load()

    @functools.lru_cache(maxsize=128)  # the last predictions by input, so /explain reuses what /predict computed
    def cached(text: str, headline: str):
        return desk.predict({"body": text, "headline": headline or None})

    def run(text: str, headline: str):
        text, headline = (text or "").strip(), (headline or "").strip()
        if not text:
            raise gr.Error("Paste an article first: the text box is empty.")
        if len(text) > MAX_CHARS:
            raise gr.Error(f"The article is {len(text):,} characters long; the demo takes at most {MAX_CHARS:,}. "
                           f"Shorten it, or run long files through `newsdesk batch`.")
        if len(headline) > MAX_HEADLINE_CHARS:
            raise gr.Error(f"The headline is {len(headline):,} characters long; at most {MAX_HEADLINE_CHARS} please.")
        return cached(text, headline)

    def predict(text: str, headline: str = ""):
        p = run(text, headline)
        return p.probabilities, p.headline, p.teaser

    def explain(text: str, headline: str = ""):
        p = run(text, headline)
        lines = [f"**Headline** written by *{p.headline_source}*; **teaser** written by *{p.teaser_source}*.", ""]
        if p.evidence:
            lines += ["**Rests on these sentences of the article:**", ""]
            lines += [f"> {html.escape(s)}" + "\n" for s in p.evidence]
        if p.warnings:
            lines += ["**Notes:**", ""] + [f"- {html.escape(w)}" for w in p.warnings] + [""]
        lines.append("Models: " + ", ".join(f"`{k}` {v}" for k, v in p.models.items()))
        return "\n".join(lines)

    outputs = tempfile.TemporaryDirectory(prefix="newsdesk-batch-")  # results files; removed when the app is

    def batch(path, fmt: str, progress=gr.Progress(track_tqdm=True)):
        if not path:
            raise gr.Error("Upload a JSONL, JSONL.gz or CSV file first.")
        out = Path(tempfile.mkdtemp(dir=outputs.name)) / f"{Path(path).name.split('.')[0]}.newsdesk.{fmt}"
        try:
            report = run_batch(path, out, desk=desk, progress=True)
        except ValueError as e:  # DataError included: names the file and line
            raise gr.Error(str(e).replace(str(Path(path).parent) + "/", "")) from None
        return str(out), f"{report}. Rows that failed are error records (with their line) in the file."

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
                    provenance = gr.Markdown(elem_id="provenance")
            gr.Examples(examples(), inputs=[article, own], label="Examples (from the project's own sample corpus)")
        with gr.Tab("Batch"):
            gr.Markdown("Upload a JSONL, JSONL.gz or CSV file of articles (fields `id`, `headline`, `teaser`, "
                        "`body`; some text per row). Every row comes back: a prediction, or an error record "
                        "with its line number.")
            upload = gr.File(label="Articles", file_types=[".jsonl", ".gz", ".csv"], type="filepath")
            fmt = gr.Radio(["jsonl", "csv"], value="jsonl", label="Results format")
            run_btn = gr.Button("Run batch", variant="primary")
            result = gr.File(label="Results")
            summary = gr.Markdown()

        # One queue for all three endpoints (one concurrency group): a request has both cores and the models
        # to itself (gradio otherwise gives each event a group of its own).
        one = {"concurrency_id": "models", "concurrency_limit": 1}
        event = go.click(predict, [article, own], [topic, headline, teaser], api_name="predict", **one)
        event.then(explain, [article, own], provenance, api_name="explain", **one)
        run_btn.click(batch, [upload, fmt], [result, summary], api_name="batch", **one)
    app.queue(max_size=QUEUE_SIZE)
    return app


def serve(models=None, host: str = "127.0.0.1", port: int | None = None, block: bool = True):
    """Load the models (failing early with how to train them), then serve the demo."""
    desk = load(models)
    desk.load_models()
    app = build_app(desk)
    app.launch(server_name=host, server_port=port, share=False, ssr_mode=False, show_error=True,
               max_file_size="20mb", prevent_thread_lock=not block, quiet=not block)
    return app
