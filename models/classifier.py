"""TopicClassifier: a fine-tuned transformer encoder with a calibrated softmax over the four topics.

    clf = TopicClassifier.from_pretrained("artifacts/classifier")
    clf.predict_proba(["Kyiv and Warsaw sign ..."])  # [{"diplomacy": 0.91, "military": 0.03, ...}]

The network is an encoder, mean pooling and a linear head (MeanPoolClassifier). Its log-probabilities are
blended with those of the TF-IDF model trained beside it (weight and temperature fitted on the validation split
at training; the two read different evidence, and the blend beats either alone: docs/BENCHMARKS.md).
A model directory holds safetensors weights, the tokenizer, config.json (label map, blend weight, temperature,
token budget), the TF-IDF model (baseline/), and, when written by the training script, metrics.json and
MODEL_CARD.md. Loading never unpickles. Inference runs on the CPU.
"""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from scipy.special import log_softmax, softmax
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer

from data import LABELS, Article
from data.articles import RecordError, article_from_dict
from .base import (ModelLoadError, atomic_dir, write_files, has_file, int8, load_pretrained, quiet_transformers, reading_model,
                   require_files, resolve_base, resolve_precision)
from . import onnx_runtime
from .baseline import TfidfBaseline

# Every file a classifier directory needs (a missing tokenizer.json would silently give a 5-entry tokenizer).
CLASSIFIER_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


DEFAULT_MAX_LENGTH = 128  # tokens of headline + teaser + body the encoder reads (the model card says why)
DEFAULT_SPLIT = {"valid": 0.15, "test": 0.15}  # the hash split of a model saved without one (training/args.py)


def article_text(item, headline_repeats: int = 0) -> str:
    """The classifier's input for a str, a dict or an Article: headline, teaser and body joined, the headline
    written `headline_repeats` more times at the front where there is one (a str is all body); empty text is a
    ValueError."""
    if isinstance(item, dict):  # the one dict-to-Article rule (data/articles.py); an unusable dict raises
        try:
            item = article_from_dict(item, default_id="article", labels=False, strict_unicode=False)
        except RecordError as e:
            raise (TypeError if e.type_error else ValueError)(str(e)) from None
    if isinstance(item, Article):
        fields = [getattr(item, k) for k in ("headline", "teaser", "body") if getattr(item, k)]
        if item.headline:
            fields = fields[:1] * headline_repeats + fields
        text = "\n".join(fields)
    elif isinstance(item, str):
        text = item
    else:
        raise TypeError(f"expected article text (str), a dict or an Article, got {type(item).__name__}")
    if not text.strip():
        raise ValueError("article text is empty or whitespace only; give a headline, teaser or body")
    return text


class MeanPoolClassifier(nn.Module):
    """A transformer encoder, mean pooling over tokens (as all-MiniLM-L6-v2 was trained), a linear head."""

    def __init__(self, encoder, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder, self.config = encoder, encoder.config
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def embed(self, input_ids, attention_mask, **_):
        """The mean-pooled article embedding the head reads, shape (n, hidden)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, input_ids, attention_mask, **_):
        return self.head(self.dropout(self.embed(input_ids, attention_mask)))


class TopicClassifier:
    def __init__(self, model, tokenizer, temperature: float = 1.0, max_length: int = DEFAULT_MAX_LENGTH,
                 num_threads: int | None = None, precision: str = "float32",
                 baseline: TfidfBaseline | None = None, blend_weight: float = 1.0, headline_repeats: int = 0,
                 split: dict | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.temperature = float(temperature)
        self.baseline = baseline  # the TF-IDF model; its share of the blend is 1 - blend_weight
        self.blend_weight = float(blend_weight)
        self.max_length = int(max_length)
        self.headline_repeats = int(headline_repeats)  # extra copies of the headline in front (TOPICS.md: it leads)
        self.precision = precision  # what `model` computes in (see from_pretrained)
        self.split = dict(split or DEFAULT_SPLIT)  # the hash split trained on: {"valid": fraction, "test": fraction}
        if num_threads:
            torch.set_num_threads(int(num_threads))

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_base(cls, base_model: str | None = None, labels=LABELS, max_length: int = DEFAULT_MAX_LENGTH) -> "TopicClassifier":
        """A fresh classification head on a pretrained encoder (bundled MiniLM by default)."""
        where = resolve_base(base_model)
        tokenizer = load_pretrained(AutoTokenizer, where)
        encoder = load_pretrained(AutoModel, where, add_pooling_layer=False)
        encoder.config.id2label = dict(enumerate(labels))
        encoder.config.label2id = {lab: i for i, lab in enumerate(labels)}
        return cls(MeanPoolClassifier(encoder, len(labels)), tokenizer, max_length=max_length)

    @classmethod
    def from_pretrained(cls, directory, num_threads: int | None = None, precision: str = "auto",
                        max_length: int | None = None) -> "TopicClassifier":
        """Load a trained model directory. `max_length` overrides the token budget the encoder reads (default: the
        one saved at training, 128 by default). `precision` is what inference computes in:
        - "bfloat16": about 2x faster than float32 on CPUs with native bfloat16 (AVX512-BF16, AMX), same labels
          (docs/BENCHMARKS.md compares them); slower than float32 where the CPU has to emulate it.
        - "float32": the weights as trained.
        - "int8": dynamic quantization, fast, but activation scales are computed per batch, so an article's
          probabilities depend on which articles share its batch (the benchmark counts label flips).
        - "onnx", "onnx-int8": the exported graph (onnx/, `newsdesk export-onnx`) on ONNX Runtime, float32 or with
          int8 weights; needs the `onnx` extra (models/onnx_runtime.py).
        - "auto" (default): the fastest measured choice this machine and directory allow: onnx_runtime.SERVED where
          onnxruntime is installed and the directory has onnx/, else bfloat16 where the CPU supports it natively,
          else float32 (models.base.resolve_precision, which the summarizer's generator follows too).
        """
        directory = Path(directory)
        if precision == "auto" and onnx_runtime.available() and onnx_runtime.has_export(directory):
            precision = onnx_runtime.SERVED  # the fastest ONNX variant within 1% of float32's labels (BENCHMARKS)
        precision = resolve_precision(precision)
        if not has_file(directory / "config.json"):
            raise ModelLoadError(
                f"no trained classifier in {directory}: train one with "
                f"`newsdesk train-classifier --models {directory.parent}` (or `make train`)")
        require_files(directory, CLASSIFIER_FILES)
        quiet_transformers()
        with reading_model(directory):
            config = AutoConfig.from_pretrained(directory)
            if precision in onnx_runtime.FILES:  # the exported graph; the torch weights are not needed
                model = onnx_runtime.OnnxModel(directory / onnx_runtime.SUBDIR / onnx_runtime.FILES[precision],
                                               config, num_threads)
            else:
                model = MeanPoolClassifier(AutoModel.from_config(config, add_pooling_layer=False), len(config.id2label))
                model.load_state_dict(load_file(str(directory / "model.safetensors")))
            tokenizer = AutoTokenizer.from_pretrained(directory)
            extra = getattr(config, "newsdesk", None) or {}
            blend_weight = extra.get("blend_weight", 1.0)
            baseline = None
            if blend_weight < 1 and not (directory / "baseline").is_dir():
                raise ModelLoadError(f"{directory} blends in a TF-IDF model (blend_weight {blend_weight}) but has "
                                     f"no baseline/ folder; copy the whole model directory, or retrain")
            if (directory / "baseline").is_dir():  # the TF-IDF model it blends in (also the baseline)
                require_files(directory / "baseline", ("baseline.json", "baseline.safetensors"))
                baseline = TfidfBaseline.load(directory / "baseline")
        if precision == "int8":
            model = int8(model)
        elif precision == "bfloat16":
            model = model.to(torch.bfloat16)
        return cls(model, tokenizer, temperature=extra.get("temperature", 1.0),
                   max_length=max_length or extra.get("max_length", DEFAULT_MAX_LENGTH), num_threads=num_threads, precision=precision,
                   baseline=baseline, blend_weight=blend_weight, headline_repeats=extra.get("headline_repeats", 0),
                   split=extra.get("split"))

    def save_pretrained(self, directory, extra_files: dict[str, str | bytes] | None = None,
                        split: dict[str, float] | None = None, export_onnx: bool = False) -> None:
        """Write `directory` atomically: config.json, model.safetensors, the tokenizer, baseline/ (the TF-IDF model)
        and any `extra_files` ({name: text or bytes}: metrics, model card, figures). `split` ({"valid": fraction,
        "test": fraction}) records the hash split the model was trained on, which `evaluate --split` reuses.
        `export_onnx` adds onnx/ (models/onnx_runtime.py: precision "onnx" and "onnx-int8"). Float32 models only."""
        if self.precision != "float32":
            raise ValueError(f"this classifier was loaded with precision={self.precision!r}; load it with "
                             f"precision='float32' to save it")
        if split is not None:
            self.split = dict(split)
        with atomic_dir(directory) as tmp:
            self.model.config.newsdesk = {"temperature": self.temperature, "blend_weight": self.blend_weight,
                                          "max_length": self.max_length, "headline_repeats": self.headline_repeats,
                                          "split": self.split, "task": "topic-classification", "pooling": "mean"}
            self.model.config.save_pretrained(tmp)
            save_file({k: v.contiguous() for k, v in self.model.state_dict().items()}, str(tmp / "model.safetensors"))
            self.tokenizer.save_pretrained(tmp)
            if self.baseline is not None:
                self.baseline.save(tmp / "baseline")
            if export_onnx:  # optional: a failing exporter must not cost the trained model
                try:
                    onnx_runtime.export(self.model, tmp / onnx_runtime.SUBDIR)
                except Exception as e:  # noqa: BLE001 - whatever the exporter raises
                    shutil.rmtree(tmp / onnx_runtime.SUBDIR, ignore_errors=True)
                    warnings.warn(f"ONNX export failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                                  f"saved without onnx/ (precision auto serves torch); retry: newsdesk export-onnx")
            write_files(tmp, extra_files)

    @classmethod
    def export_onnx(cls, directory) -> None:
        """Add onnx/ (precision "onnx", "onnx-int8") to the trained model in `directory`, atomically."""
        model = cls.from_pretrained(directory, precision="float32").model
        with atomic_dir(Path(directory) / onnx_runtime.SUBDIR) as tmp:
            onnx_runtime.export(model, tmp)

    # --- inference ----------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        id2label = self.model.config.id2label
        return [id2label[i] for i in range(len(id2label))]

    def input_text(self, item) -> str:
        """What the model reads for a str, a dict or an Article (a str is taken as it is)."""
        return article_text(item, self.headline_repeats)

    def encode(self, texts):
        return self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="pt")

    @torch.inference_mode()
    def logits(self, items, batch_size: int = 32) -> np.ndarray:
        """Uncalibrated logits, shape (n, labels). Batches are formed from texts of similar length."""
        texts = [self.input_text(x) for x in items]
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            out[idx] = self.model(**self.encode([texts[i] for i in idx])).float().numpy()
        return out

    def blend(self, logits: np.ndarray, tfidf_logits: np.ndarray | None) -> np.ndarray:
        """blend_weight x the encoder's log-probabilities + (1 - blend_weight) x the TF-IDF model's (its decision
        function's log-softmax), before temperature; shape (n, labels)."""
        z = log_softmax(np.asarray(logits, dtype=np.float64), axis=1)
        if self.blend_weight < 1:
            tfidf = log_softmax(np.asarray(tfidf_logits, dtype=np.float64), axis=1)
            z = self.blend_weight * z + (1 - self.blend_weight) * tfidf
        return z

    def scores(self, items, batch_size: int = 32, tfidf_logits: np.ndarray | None = None) -> np.ndarray:
        """The blended log-probabilities before temperature, shape (n, labels). `tfidf_logits`: the TF-IDF model's
        decision function on `items`, when the caller already has it."""
        texts = [self.input_text(x) for x in items]
        if tfidf_logits is None and self.blend_weight < 1:
            tfidf_logits = self.baseline.decision_function(texts)
        return self.blend(self.logits(texts, batch_size), tfidf_logits)

    def probabilities(self, items, batch_size: int = 32, tfidf_logits: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities as an array, shape (n, labels), columns in `self.labels` order."""
        return softmax(self.scores(items, batch_size, tfidf_logits) / self.temperature, axis=1)

    def predict_proba(self, items, batch_size: int = 32):
        """One {label: probability} dict per text (a single str/dict/Article gives a single dict)."""
        single = isinstance(items, (str, dict, Article))
        probs = self.probabilities([items] if single else list(items), batch_size)
        dicts = [{lab: float(p[i]) for i, lab in enumerate(self.labels)} for p in probs]
        return dicts[0] if single else dicts

    def predict(self, items, batch_size: int = 32):
        """The most probable label per text (a single str/dict/Article gives a single label)."""
        single = isinstance(items, (str, dict, Article))
        probs = self.probabilities([items] if single else list(items), batch_size)
        labels = [self.labels[i] for i in probs.argmax(axis=1)]
        return labels[0] if single else labels

