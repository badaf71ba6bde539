"""Every training setting, in one place: the two argument dataclasses.

The `newsdesk train-classifier` and `train-summarizer` commands are built from these fields
(transformers.HfArgumentParser: `--max_length`, also spelled `--max-length`; the help is each field's `help`), the
benchmarks start from their defaults, and each trained model records the values it was trained with in its
metrics.json. A new setting is one new field here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from models.base import models_dir
from models.classifier import DEFAULT_MAX_LENGTH
from models.summarizer import SummarizerSettings

_SUMMARY = SummarizerSettings()  # the summarizer's serving defaults: its args start from them


def arg(default=dataclasses.MISSING, help: str = "", *, factory=None, **metadata):
    """A dataclass field with its command-line help (and any other HfArgumentParser metadata: aliases ...)."""
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"help": help, **metadata})
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


def _models() -> str:
    return str(models_dir())


@dataclass
class ClassifierArgs:
    data: list[str] = arg(factory=list, help="labelled JSONL(.gz)/CSV files with a topic field")
    models: str = arg(factory=_models, help="models folder ($NEWSDESK_MODELS or artifacts/); writes MODELS/classifier/")
    base_model: str = arg("minilm", "'minilm' (bundled, offline), a local checkpoint directory or a Hub id")
    max_length: int = arg(DEFAULT_MAX_LENGTH, "token budget for headline + teaser + body, training and serving "
                                              "(128: the model card says why)")
    train_max_length: int | None = arg(None, "token budget while training; default: max_length")
    epochs: int = arg(3)
    batch_size: int = arg(16)
    lr: float = arg(1e-4, "peak learning rate (linear warm-up, then linear decay)")
    head_lr_scale: float = arg(20.0, "the new, zero-initialised head learns this many times faster")
    weight_decay: float = arg(0.01)
    warmup: float = arg(0.06, "share of steps with linear warm-up")
    class_weight_power: float = arg(0.5, "loss weight per class = (n / (k * count)) ** power")
    unsure_weight: float = arg(0.3, "loss weight of rows whose label the annotator marked unsure")
    contrastive_weight: float = arg(0.0, "weight of a supervised contrastive term on the pooled embeddings")
    contrastive_temperature: float = arg(0.1)
    soup_from: float | None = arg(None, "average the weights of the evaluations from this epoch on")
    headline_repeats: int = arg(1, "extra copies of the headline in front of the input (both members)")
    tfidf_chars: int = arg(1500, "characters of that input the TF-IDF member reads")
    freeze_embeddings: bool = arg(True, "word embeddings stay fixed: faster on CPU, no worse here")
    train_precision: Literal["auto", "float32", "bfloat16"] = arg(
        "auto", "auto: bfloat16 autocast where the CPU has it natively (1.5x faster), else float32")
    patience: int = arg(2, "evaluations without macro-F1 gain before stopping")
    evals_per_epoch: int = arg(1)
    max_minutes: float | None = arg(8.0, "wall-clock budget for the training loop (the whole run fits 10 min)")
    max_steps: int | None = arg(None, "hard cap on optimisation steps (tests, smoke runs)")
    valid_fraction: float = arg(0.15, "share of the hash split validated on (recorded in the model's config)")
    test_fraction: float = arg(0.15, "share of the hash split held out for testing (recorded in the config)")
    export_onnx: bool = arg(True, "also write onnx/ (precision onnx, onnx-int8) where onnxruntime is installed")
    seed: int = arg(0)
    resume: bool = arg(False, "continue an interrupted run from MODELS/.classifier-checkpoint")
    num_threads: int | None = arg(None, "torch CPU threads", aliases=["--threads"])
    skip_bad: bool = arg(False, "skip and count bad rows instead of stopping")
    fields: list[str] = arg(factory=list, help="FIELD=COLUMN mappings for the readers; repeatable",
                            aliases=["--field"], action="append")
    progress: bool = arg(True, "progress bars (--no-progress: off)")


@dataclass
class SummarizerArgs:
    data: list[str] = arg(factory=list, help="JSONL(.gz)/CSV with a body and a headline and/or teaser")
    extra_data: list[str] = arg(factory=list, help="more training pairs only: their train split joins training; "
                                                   "validation and test stay on --data")
    models: str = arg(factory=_models, help="models folder ($NEWSDESK_MODELS or artifacts/); writes MODELS/summarizer/")
    base_model: str = arg("minilm", "'minilm': compressive only; a local seq2seq checkpoint or Hub id (T5, BART) "
                                    "adds a generator whose outputs the guard checks")
    train_articles: int = arg(5000, "train-split articles the selector and scorer learn from")
    eval_articles: int = arg(300, "validation articles scored at the end")
    rerank_sentences: int = arg(3, "best-ranked sentences per article whose candidates the headline reranker "
                                   "learns from (it serves on the first; see docs/BENCHMARKS.md)")
    headline_max_words: int = arg(_SUMMARY.headline_max_words)
    teaser_max_words: int = arg(_SUMMARY.teaser_max_words)
    max_input_tokens: int = arg(_SUMMARY.max_input_tokens, "what the generator (and MiniLM salience) reads")
    salience_encoder: str | None = arg(_SUMMARY.salience_encoder, "'minilm': MiniLM salience features "
                                                                  "(measured to add nothing)")
    num_beams: int = arg(_SUMMARY.num_beams, "the generator's beam width and candidates the guard checks")
    max_minutes: float | None = arg(20.0, "the whole run: reading, parsing, fitting, validating, writing")
    epochs: int = arg(1, "generator fine-tuning epochs (only with a seq2seq --base-model)")
    batch_size: int = arg(8, "generator batch size")
    lr: float = arg(3e-4, "generator peak learning rate")
    warmup: float = arg(0.05, "share of generator steps with linear warm-up")
    max_steps: int | None = arg(None, "generator fine-tuning steps at most")
    valid_fraction: float = arg(0.05, "share of the hash split validated on (recorded in the model's config)")
    test_fraction: float = arg(0.15, "same test bucket as every other split of this corpus")
    min_body_words: int = arg(40, "shorter bodies give no training pairs")
    seed: int = arg(0)
    num_threads: int | None = arg(None, "torch CPU threads", aliases=["--threads"])
    skip_bad: bool = arg(False, "skip and count bad rows instead of stopping")
    fields: list[str] = arg(factory=list, help="FIELD=COLUMN mappings for the readers; repeatable",
                            aliases=["--field"], action="append")
    progress: bool = arg(True, "progress bars (--no-progress: off)")
