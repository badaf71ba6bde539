"""predict(): an article in; its topic, a headline and a teaser out. The demo and the batch script call this.

    from serve import predict
    p = predict("The World Bank approved a $200 million grant to repair Kharkiv's power grid ...")
    p.topic, p.probabilities, p.headline, p.teaser, p.headline_source, p.warnings, p.models

An article is a string (its body), a dict or an `Article` (headline, teaser and body each optional, but some text
is required); a list of them gives a list of results, processed in batches. The models load once, lazily, from
the models folder: the `models` argument, else $NEWSDESK_MODELS, else artifacts/.
"""
from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from data import Article
from data.articles import RecordError, article_from_dict, fit_for_models
from models.base import ModelLoadError, has_file, models_dir
from models.classifier import TopicClassifier
from models.display import HEADLINE_MAX_CHARS, TEASER_MAX_CHARS, clean_for_display, looks_english
from models.summarizer import Summarizer

# Notes that tell the user something about their article start with one of these; they are the `warnings` of a
# Prediction. Every note, these and the models' own (which fallback wrote an output), is in `notes` (the demo's
# provenance view, /explain).
USER_WARNING_PREFIXES = ("input cut", "text ", "no body", "topic read")
NOT_ENGLISH = "text does not look like English: topic and summary are unreliable"
EVIDENCE_MAX_CHARS = 600


@dataclass
class Prediction:
    """Everything newsdesk says about one article."""

    id: str | None
    topic: str
    probabilities: dict[str, float]        # every label, calibrated, summing to 1
    headline: str                          # plain text, at most HEADLINE_MAX_CHARS (models/display.py)
    teaser: str                            # plain text, at most TEASER_MAX_CHARS
    headline_source: str                   # "compressive", "generator", "generator (beam candidate k)" or "extractive"
    teaser_source: str
    evidence: list[str] = field(default_factory=list)  # the body sentences the headline and teaser rest on
    warnings: list[str] = field(default_factory=list)  # about the article: input cut, not English, no body
    models: dict[str, str] = field(default_factory=dict)  # {"classifier": version, "summarizer": version}
    notes: list[str] = field(default_factory=list)     # the warnings and the models' own notes (fallbacks used)

    def to_dict(self) -> dict:
        return asdict(self)


def model_version(directory: Path) -> str:
    """`name@sha256-prefix` of the weights (and the training date when metrics.json records one)."""
    digest = hashlib.sha256()
    with open(directory / "model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    version = f"{directory.name}@{digest.hexdigest()[:12]}"
    try:
        trained = json.loads((directory / "metrics.json").read_text()).get("trained_at")
    except (OSError, ValueError):
        trained = None
    return f"{version} (trained {trained})" if trained else version


def to_article(item, index: int = 0) -> Article:
    """A str, dict or Article as an Article; a clear TypeError/ValueError naming the item otherwise."""
    where = f"article {index}"
    if isinstance(item, Article):
        return item
    if isinstance(item, str):
        if not item.strip():
            raise ValueError(f"{where}: the text is empty or whitespace only")
        return Article(id=str(index), body=item)
    if isinstance(item, dict):  # the topic and annotator fields are not needed to predict: ignored
        try:
            return article_from_dict(item, default_id=str(index), labels=False, strict_unicode=False)
        except RecordError as e:
            raise (TypeError if e.type_error else ValueError)(f"{where}: {e}") from None
    if isinstance(item, (bytes, bytearray)):
        raise TypeError(f"{where}: got bytes; decode them to str first (e.g. data.decode('utf-8'))")
    raise TypeError(f"{where}: expected a str (the body), a dict or an Article, got {type(item).__name__}")


# Every model call of the process runs on this one thread. PyTorch's OpenMP helper threads hand work over quickly
# only while a single thread in the process runs parallel torch ops; once a second one does (a Gradio worker
# thread beside the main thread that loaded the models), the helpers sleep between ops and a prediction takes
# far longer on 2 cores (in a one-off check, summarize() went from ~150 ms to ~280 ms).
_INFERENCE = "newsdesk-inference"
_inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_INFERENCE)


def on_inference_thread(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` run on the process's one inference thread (directly when already on it)."""
    if threading.current_thread().name.startswith(_INFERENCE):
        return fn(*args, **kwargs)
    return _inference.submit(fn, *args, **kwargs).result()


class Newsdesk:
    """The two trained models of one models folder, loaded on first use (thread-safe)."""

    def __init__(self, models=None, precision: str = "auto"):
        self.dir = models_dir(models)
        self.precision = precision  # both models' (see TopicClassifier/Summarizer.from_pretrained)
        self._classifier = self._summarizer = None
        self.versions: dict[str, str] = {}
        self._lock = threading.Lock()

    def load_models(self) -> None:
        """Load both models now (predict() does it on first use); a clear ModelLoadError if they are missing."""
        on_inference_thread(self._load_models)

    def _load_models(self) -> None:
        with self._lock:
            if self._summarizer is not None:
                return
            missing = [n for n in ("classifier", "summarizer") if not has_file(self.dir / n / "config.json")]
            if missing:
                raise ModelLoadError(
                    f"no trained {' or '.join(missing)} in {self.dir.resolve()}/: run `make train` (both models), or "
                    f"`newsdesk train-classifier` / `newsdesk train-summarizer --data FILE --models {self.dir}`; "
                    f"or point NEWSDESK_MODELS at a folder that has them")
            classifier = TopicClassifier.from_pretrained(self.dir / "classifier", precision=self.precision)
            summarizer = Summarizer.from_pretrained(self.dir / "summarizer", precision=self.precision)
            try:
                self.versions = {n: model_version(self.dir / n) for n in ("classifier", "summarizer")}
            except OSError as e:
                raise ModelLoadError(f"cannot read {e.filename}: {e.strerror or e}") from None
            self._classifier, self._summarizer = classifier, summarizer

    @property
    def classifier(self) -> TopicClassifier:
        self.load_models()
        return self._classifier

    @property
    def summarizer(self) -> Summarizer:
        self.load_models()
        return self._summarizer

    def predict(self, articles, batch_size: int = 16):
        """One Prediction per article (a single article gives a single Prediction)."""
        single = isinstance(articles, (str, dict, Article, bytes, bytearray))
        if single:
            items = [articles]
        elif isinstance(articles, (list, tuple)):
            items = list(articles)
        else:
            raise TypeError(f"expected an article (str, dict or Article) or a list of them, "
                            f"got {type(articles).__name__}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        batch = [to_article(x, i) for i, x in enumerate(items)]  # validate everything before any work
        results = on_inference_thread(self._predict_all, batch, batch_size)
        return results[0] if single else results

    def _predict_all(self, batch: list[Article], batch_size: int) -> list[Prediction]:
        self._load_models()
        results = []
        for start in range(0, len(batch), batch_size):
            results += self._predict_batch(batch[start:start + batch_size])
        return results

    def _predict_batch(self, batch: list[Article]) -> list[Prediction]:
        clf, summ = self._classifier, self._summarizer
        batch, fixes = zip(*(fit_for_models(a) for a in batch)) if batch else ((), ())
        probs = clf.predict_proba(batch, batch_size=len(batch))
        bodies = [a.body or "\n".join(t for t in (a.teaser, a.headline) if t) for a in batch]
        summaries = summ.summarize(bodies, batch_size=len(batch))
        token_counts = [len(ids) for ids in clf.tokenizer([a.text for a in batch], add_special_tokens=True)["input_ids"]]
        out = []
        for article, p, s, n_tokens, fixed in zip(batch, probs, summaries, token_counts, fixes):
            warnings = list(fixed) + list(s.warnings)
            if not looks_english(article.text):
                warnings.insert(0, NOT_ENGLISH)
            if not article.body:
                warnings.insert(0, "no body: headline and teaser were written from the given headline/teaser")
            if n_tokens > clf.max_length:
                tfidf = f" (its TF-IDF part the first {clf.baseline.max_chars} characters)" if clf.blend_weight < 1 else ""
                warnings.insert(0, f"topic read the first {clf.max_length} of {n_tokens} tokens{tfidf}")
            out.append(Prediction(
                id=article.id, topic=max(p, key=p.get), probabilities=p,
                headline=clean_for_display(s.headline, HEADLINE_MAX_CHARS),
                teaser=clean_for_display(s.teaser, TEASER_MAX_CHARS),
                headline_source=s.headline_source, teaser_source=s.teaser_source,
                evidence=[clean_for_display(s.sentences[i], EVIDENCE_MAX_CHARS) for i in s.evidence],
                warnings=[w for w in warnings if w.startswith(USER_WARNING_PREFIXES)], models=dict(self.versions),
                notes=warnings))
        return out


_loaded: dict[Path, Newsdesk] = {}
_loaded_lock = threading.Lock()


def load(models=None) -> Newsdesk:
    """The shared Newsdesk for a models folder (created once per process; models load on first predict)."""
    key = models_dir(models).resolve()
    with _loaded_lock:
        if key not in _loaded:
            _loaded[key] = Newsdesk(key)
        return _loaded[key]


def predict(articles, models=None, batch_size: int = 16):
    """Topic, probabilities, headline, teaser and provenance for one article or a list of them."""
    return load(models).predict(articles, batch_size=batch_size)
