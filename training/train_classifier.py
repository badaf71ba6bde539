"""Fine-tune the topic classifier (`newsdesk train-classifier`).

    newsdesk train-classifier --data ../shared/data/topics/labeled.jsonl.gz --models artifacts

Reads labelled articles, splits them by duplicate-aware hash (data.splits), trains the TF-IDF baseline,
fine-tunes a transformer encoder (bundled all-MiniLM-L6-v2 by default) with class-weighted cross-entropy and
early stopping on validation macro-F1, blends the two models' log-probabilities with a weight and temperature
fitted on the validation split, and writes MODELS/classifier/ atomically with metrics.json (the blend, the encoder
alone and the baseline), a confusion-matrix PNG and MODEL_CARD.md.
"""
from __future__ import annotations

import functools
import json
import math
import platform
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from scipy.special import log_softmax
from transformers import set_seed  # Python, NumPy and torch in one call

from data import LABELS, FieldMap, read_articles, split_articles
from models import onnx_runtime
from models.base import resolve_precision
from models.baseline import TfidfBaseline
from models.classifier import TopicClassifier, article_text
from .args import ClassifierArgs
from .checkpoint import load_extra, remove_checkpoint, start_or_resume
from .loop import train_loop
from .metrics import classification_metrics, fit_blend, fit_temperature, format_table, reliability, softmax
from .model_card import model_card, plot_confusion, plot_reliability


@functools.lru_cache(maxsize=1)
def _batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(seed * 1000 + epoch).shuffle(order)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _evaluate(clf: TopicClassifier, texts, y, batch_size=64, max_length=None) -> tuple[dict, np.ndarray]:
    keep, clf.max_length = clf.max_length, max_length or clf.max_length
    try:
        logits = clf.logits(texts, batch_size=batch_size)
    finally:
        clf.max_length = keep
    return classification_metrics(y, softmax(logits), clf.labels), logits


def supervised_contrastive(embeddings: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020) within a batch: each article's cosine similarities to the
    others, softmaxed, should put their mass on articles of its own topic. 0 when no two articles share a topic."""
    z = torch.nn.functional.normalize(embeddings.float(), dim=1)
    self_mask = torch.eye(len(y), dtype=torch.bool)
    log_prob = (z @ z.T / temperature).masked_fill(self_mask, float("-inf")).log_softmax(dim=1)
    positive = (y[:, None] == y[None, :]) & ~self_mask
    anchors = positive.any(dim=1)
    if not anchors.any():
        return embeddings.sum() * 0.0
    per_anchor = log_prob.masked_fill(~positive, 0.0).sum(dim=1)[anchors] / positive.sum(dim=1)[anchors]
    return -per_anchor.mean()


def _optimizer(model, args: ClassifierArgs) -> torch.optim.AdamW:
    """AdamW: weight decay on the encoder's matrices only, the new head at head_lr_scale x the learning rate."""
    params = [p for p in model.parameters() if p.requires_grad]
    head = set(map(id, model.head.parameters()))
    groups = [{"params": [p for p in params if p.ndim >= 2 and id(p) not in head], "weight_decay": args.weight_decay},
              {"params": [p for p in params if p.ndim < 2 and id(p) not in head], "weight_decay": 0.0},
              {"params": list(model.head.parameters()), "weight_decay": 0.0, "lr": args.lr * args.head_lr_scale}]
    return torch.optim.AdamW(groups, lr=args.lr)


def _weight_average(model, total: dict, state: dict, valid_f1) -> dict | None:
    """Serve the average of the weights summed at the evaluations (soup_from) if validation prefers it to the best
    single evaluation; what was measured."""
    n = state.get("soup_n", 0)
    if n < 2:
        return None
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict({k: v / n for k, v in total.items()})
    f1 = valid_f1()
    result = {"n": n, "valid_macro_f1": round(f1, 4), "best_valid_macro_f1": round(state["best"], 4),
              "used": f1 >= state["best"]}
    if not result["used"]:
        model.load_state_dict(kept)
    print(f"weight average of {n} evaluations: valid macro-F1 {f1:.3f} (best single {state['best']:.3f}); "
          f"serving the {'average' if result['used'] else 'best single'}")
    return result


def fine_tune(clf: TopicClassifier, parts: dict, texts: dict, ys: dict, args: ClassifierArgs) -> dict:
    """Fine-tune `clf`'s encoder and head on the train split in the one loop (training/loop.py): class- and
    unsure-weighted cross-entropy (plus the optional contrastive term), AdamW with a faster head, evaluations on
    validation macro-F1 with early stopping, a resumable checkpoint, the optional weight average. Leaves the best
    weights in `clf`; returns what the run did (metrics.json's "training")."""
    model, labels = clf.model, clf.labels
    train_precision = resolve_precision(args.train_precision)
    if args.freeze_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
    optimizer = _optimizer(model, args)
    train_max_length = args.train_max_length or args.max_length
    enc = clf.tokenizer(texts["train"], truncation=True, max_length=train_max_length)
    counts = np.bincount(ys["train"], minlength=len(labels)).astype(float)
    class_weights = torch.tensor((len(ys["train"]) / (len(labels) * np.maximum(counts, 1))) ** args.class_weight_power,
                                 dtype=torch.float32)
    row_weights = np.array([args.unsure_weight if a.sure is False else 1.0 for a in parts["train"]], dtype=np.float32)
    steps_per_epoch = math.ceil(len(texts["train"]) / args.batch_size)
    total_steps = min(steps_per_epoch * args.epochs, args.max_steps or math.inf)
    eval_points = {min(steps_per_epoch, round(steps_per_epoch * (i + 1) / args.evals_per_epoch))
                   for i in range(args.evals_per_epoch)}
    autocast = functools.partial(torch.autocast, "cpu", dtype=torch.bfloat16, enabled=train_precision == "bfloat16")

    def step_loss(step: int) -> torch.Tensor:
        epoch, pos = divmod(step, steps_per_epoch)
        batch = _batches(len(texts["train"]), args.batch_size, args.seed, epoch)[pos]
        inputs = clf.tokenizer.pad({k: [enc[k][i] for i in batch] for k in ("input_ids", "attention_mask")},
                                   return_tensors="pt")
        with autocast():  # weights and optimiser stay float32; matmuls run in bfloat16 when enabled
            embeddings = model.embed(**inputs)
            logits = model.head(model.dropout(embeddings))
        y, w = torch.as_tensor(ys["train"][batch]), torch.as_tensor(row_weights[batch])
        per_row = torch.nn.functional.cross_entropy(logits.float(), y, weight=class_weights, reduction="none")
        loss = (per_row * w).sum() / (w * class_weights[y]).sum()
        if args.contrastive_weight:
            loss = loss + args.contrastive_weight * supervised_contrastive(embeddings, y, args.contrastive_temperature)
        return loss

    def valid_f1() -> float:
        return _evaluate(clf, texts["valid"], ys["valid"], max_length=train_max_length)[0]["macro_f1"]

    ckpt_dir = Path(args.models) / ".classifier-checkpoint"
    state, best_state = start_or_resume(ckpt_dir, args, model, optimizer)
    soup = {"sum": load_extra(ckpt_dir) if state["step"] else None}  # running sum of the averaged weights

    def on_evaluation(entry: dict) -> dict | None:
        entry["epoch"] = round(entry["step"] / steps_per_epoch, 2)
        entry["valid_macro_f1"] = entry.pop("score")
        if args.soup_from is not None and entry["epoch"] >= args.soup_from:
            now = {k: v.detach().float() for k, v in model.state_dict().items()}
            soup["sum"] = now if soup["sum"] is None else {k: soup["sum"][k] + now[k] for k in now}
            state["soup_n"] = state.get("soup_n", 0) + 1
        return soup["sum"]

    deadline = time.time() - state["elapsed"] + args.max_minutes * 60 if args.max_minutes else None
    run = train_loop(model, optimizer, step_loss, total_steps, warmup=args.warmup, state=state, best_state=best_state,
                     evaluate=valid_f1, eval_at=lambda step: (step - 1) % steps_per_epoch + 1 in eval_points,
                     patience=args.patience, deadline=deadline, checkpoint=ckpt_dir, on_evaluation=on_evaluation,
                     progress=args.progress, desc="train classifier")
    if run.best_state is not None:
        model.load_state_dict(run.best_state)
    soup_result = _weight_average(model, soup["sum"], state, valid_f1) if soup["sum"] is not None else None
    stop = run.stop_reason.replace("all steps", "all epochs").replace("validation gain", "valid macro-F1 gain")
    if stop.startswith("wall-clock"):
        stop = f"wall-clock budget of {args.max_minutes} min reached"
    return {"stop_reason": stop, "steps": run.steps, "best_step": state["best_step"],
            "train_seconds": round(run.seconds, 1), "history": run.history, "soup": soup_result,
            "precision": train_precision, "train_max_length": train_max_length,
            "machine": f"{platform.machine()}, {torch.get_num_threads()} threads"}


def blend_and_score(clf: TopicClassifier, baseline: TfidfBaseline, parts: dict, texts: dict, ys: dict,
                    args: ClassifierArgs) -> dict:
    """Blend the encoder with the TF-IDF model (weight and temperature fitted on validation), then score the blend,
    the encoder alone and the baseline on the validation and test splits, all rows and the sure, unsure and
    bodiless rows apart."""
    labels = clf.labels
    valid_logits = clf.logits(texts["valid"], batch_size=64)
    tfidf_logits = {split: baseline.decision_function(texts[split]) for split in ("valid", "test") if texts[split]}
    clf.baseline = baseline
    clf.blend_weight, clf.temperature = fit_blend(log_softmax(valid_logits, axis=1),
                                                  log_softmax(tfidf_logits["valid"], axis=1), ys["valid"])
    encoder_temperature = fit_temperature(valid_logits, ys["valid"])
    results = {"split_sizes": {k: len(v) for k, v in parts.items()}, "temperature": clf.temperature,
               "blend_weight": clf.blend_weight, "encoder_temperature": encoder_temperature,
               "scored_with": f"float32, {args.max_length} tokens, as served"}
    for split in tfidf_logits:
        logits = valid_logits if split == "valid" else clf.logits(texts[split], batch_size=64)
        scores = clf.blend(logits, tfidf_logits[split])
        probs = {"topic": softmax(scores, clf.temperature),  # as served: the blend
                 "topic_encoder": softmax(logits, encoder_temperature),  # the fine-tuned encoder alone
                 "topic_baseline": softmax(tfidf_logits[split])}
        results[split] = {name: classification_metrics(ys[split], p, labels) for name, p in probs.items()}
        results[split]["topic"]["ece_uncalibrated"] = classification_metrics(ys[split], softmax(scores), labels)["ece"]
        results[split]["reliability"] = {"calibrated": reliability(probs["topic"], ys[split]),
                                         "before temperature": reliability(softmax(scores), ys[split])}
        sure = np.array([a.sure is not False for a in parts[split]])
        no_body = np.array([not a.body for a in parts[split]])
        for part, rows in (("sure_rows", sure), ("unsure_rows", ~sure), ("no_body_rows", no_body)):
            if rows.any() and not rows.all():  # rows the annotators were sure / unsure about, feed items: on their own
                for name, p in probs.items():
                    results[split][f"{name}_{part}"] = classification_metrics(ys[split][rows], p[rows], labels)
    return results


def train_classifier(args: ClassifierArgs) -> dict:
    t_start = time.time()
    if not args.data:
        raise ValueError("no training data given (--data FILE ...)")
    if args.train_precision not in ("auto", "float32", "bfloat16"):
        raise ValueError(f"train_precision must be auto, float32 or bfloat16, got {args.train_precision!r}")
    set_seed(args.seed)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    bad = []
    articles = read_articles(args.data, FieldMap.parse(args.fields), require_topic=True,
                             skip_bad=args.skip_bad, bad_rows=bad)
    if bad:
        print(f"skipped {len(bad)} bad rows, first: {bad[0]}")
    parts = split_articles(articles, valid=args.valid_fraction, test=args.test_fraction)
    for name in ("train", "valid"):
        if not parts[name]:
            raise ValueError(f"the {name} split is empty: give more labelled articles (have {len(articles)})")
    print("split sizes: " + ", ".join(f"{k} {len(v)}" for k, v in parts.items()))
    labels = list(LABELS)
    texts = {k: [article_text(a, args.headline_repeats) for a in v] for k, v in parts.items()}
    ys = {k: np.array([labels.index(a.topic) for a in v], dtype=int) for k, v in parts.items()}

    # --- baseline: same split, every time ------------------------------------------------------
    t0 = time.time()
    baseline = TfidfBaseline(labels, max_chars=args.tfidf_chars).fit(texts["train"], [a.topic for a in parts["train"]], seed=args.seed)
    baseline_seconds = time.time() - t0

    # --- model: the encoder fine-tuned in the one training loop (training/loop.py) ------------------
    clf = TopicClassifier.from_base(args.base_model, labels, max_length=args.max_length)
    clf.headline_repeats = args.headline_repeats
    fit = fine_tune(clf, parts, texts, ys, args)
    # --- blend with the TF-IDF model, calibrate (validation split), score at the inference token budget ---
    results = blend_and_score(clf, baseline, parts, texts, ys, args)
    report_split = "test" if "test" in results else "valid"
    results["reported_split"] = report_split
    results["training"] = {**fit, "baseline_seconds": round(baseline_seconds, 1),
                           "total_seconds": round(time.time() - t_start, 1)}
    results["trained_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["data"] = [str(p) for p in args.data]
    results["args"] = {k: v for k, v in asdict(args).items() if k != "progress"}

    out_dir = Path(args.models) / "classifier"
    shown = results[report_split]["topic"]
    clf.save_pretrained(out_dir, {
        "metrics.json": json.dumps(results, indent=2),
        "confusion_matrix.png": plot_confusion(shown, f"{report_split} split, macro-F1 {shown['macro_f1']:.3f}"),
        "calibration.png": plot_reliability(results[report_split]["reliability"],
                                            f"{report_split} split, ECE {shown['ece']:.3f} "
                                            f"({shown['ece_uncalibrated']:.3f} before temperature)"),
        "MODEL_CARD.md": model_card(results, args, tfidf_chars=baseline.max_chars)},
        split={"valid": args.valid_fraction, "test": args.test_fraction}, export_onnx=args.export_onnx and onnx_runtime.available())
    remove_checkpoint(Path(args.models) / ".classifier-checkpoint")
    print(f"\n{report_split} split ({fit['stop_reason']}, {fit['train_seconds'] / 60:.1f} min training):")
    print(format_table({"blend (served)": results[report_split]["topic"], "encoder": results[report_split]["topic_encoder"],
                        "tfidf_baseline": results[report_split]["topic_baseline"]}))
    print(f"\nwrote {out_dir}")
    return results
