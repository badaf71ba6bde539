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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.special import log_softmax
from tqdm.auto import tqdm
from transformers import set_seed  # Python, NumPy and torch in one call

from data import LABELS, FieldMap, read_articles, split_articles
from models.base import atomic_dir, resolve_precision
from models.baseline import TfidfBaseline
from models.classifier import DEFAULT_MAX_LENGTH, TopicClassifier, article_text
from .checkpoint import linear_schedule, load_extra, record_evaluation, remove_checkpoint, start_or_resume
from .metrics import classification_metrics, fit_blend, fit_temperature, format_table, reliability, softmax
from .model_card import model_card, plot_confusion, plot_reliability


@dataclass
class ClassifierArgs:
    data: list = field(default_factory=list)    # JSONL(.gz)/CSV files with a topic field
    models: str = "artifacts"                   # models folder; writes MODELS/classifier/
    base_model: str = "minilm"                  # bundled MiniLM, a local checkpoint dir or a Hub id
    max_length: int = DEFAULT_MAX_LENGTH        # token budget for headline + teaser + body (128: see the card)
    train_max_length: int | None = None         # token budget while training; None: max_length
    epochs: int = 3
    batch_size: int = 16
    lr: float = 1e-4
    head_lr_scale: float = 20.0                 # the new, zero-initialised head learns faster
    weight_decay: float = 0.01
    warmup: float = 0.06                        # share of steps with linear warm-up
    class_weight_power: float = 0.5             # loss weight per class = (n / (k * count)) ** power
    unsure_weight: float = 0.3                  # loss weight of rows whose label the annotator marked unsure
    contrastive_weight: float = 0.0             # weight of a supervised contrastive term on the pooled embeddings
    contrastive_temperature: float = 0.1
    soup_from: float | None = None              # average the weights of the evaluations from this epoch on
    headline_repeats: int = 1                   # extra copies of the headline in front of the input (both members)
    tfidf_chars: int = 1500                     # characters of that input the TF-IDF member reads
    freeze_embeddings: bool = True              # word embeddings stay fixed: faster on CPU, no worse here
    train_precision: str = "auto"               # bfloat16 autocast where the CPU has it natively (1.5x faster), else float32
    patience: int = 2                           # evaluations without macro-F1 gain before stopping
    evals_per_epoch: int = 1
    max_minutes: float | None = 8.0             # wall-clock budget for the training loop (whole run fits 10 min)
    max_steps: int | None = None                # hard cap on optimisation steps (tests, smoke runs)
    valid_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0
    resume: bool = False                        # continue from MODELS/.classifier-checkpoint if present
    num_threads: int | None = None
    skip_bad: bool = False
    fields: list = field(default_factory=list)  # FIELD=COLUMN mappings for the readers
    progress: bool = True


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


def train_classifier(args: ClassifierArgs) -> dict:
    t_start = time.time()
    if not args.data:
        raise ValueError("no training data given (--data FILE ...)")
    train_precision = resolve_precision(args.train_precision)
    if train_precision not in ("float32", "bfloat16"):
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

    # --- model ----------------------------------------------------------------------------------
    clf = TopicClassifier.from_base(args.base_model, labels, max_length=args.max_length)
    clf.headline_repeats = args.headline_repeats
    model = clf.model
    if args.freeze_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    head = set(map(id, model.head.parameters()))
    groups = [{"params": [p for p in params if p.ndim >= 2 and id(p) not in head], "weight_decay": args.weight_decay},
              {"params": [p for p in params if p.ndim < 2 and id(p) not in head], "weight_decay": 0.0},
              {"params": list(model.head.parameters()), "weight_decay": 0.0, "lr_scale": args.head_lr_scale}]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    train_max_length = args.train_max_length or args.max_length
    enc = clf.tokenizer(texts["train"], truncation=True, max_length=train_max_length)
    counts = np.bincount(ys["train"], minlength=len(labels)).astype(float)
    weights = (len(ys["train"]) / (len(labels) * np.maximum(counts, 1))) ** args.class_weight_power
    class_weights = torch.tensor(weights, dtype=torch.float32)
    row_weights = np.array([args.unsure_weight if a.sure is False else 1.0 for a in parts["train"]], dtype=np.float32)

    def loss_fn(logits, batch):
        y = torch.as_tensor(ys["train"][batch])
        per_row = torch.nn.functional.cross_entropy(logits, y, weight=class_weights, reduction="none")
        w = torch.as_tensor(row_weights[batch]) * class_weights[y]
        return (per_row * torch.as_tensor(row_weights[batch])).sum() / w.sum()

    steps_per_epoch = math.ceil(len(texts["train"]) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    eval_points = {min(steps_per_epoch, round(steps_per_epoch * (i + 1) / args.evals_per_epoch))
                   for i in range(args.evals_per_epoch)}
    warmup_steps = max(1, int(args.warmup * total_steps))

    lr_at = linear_schedule(args.lr, total_steps, warmup_steps)
    autocast = functools.partial(torch.autocast, "cpu", dtype=torch.bfloat16, enabled=train_precision == "bfloat16")

    ckpt_dir = Path(args.models) / ".classifier-checkpoint"
    state, best_state = start_or_resume(ckpt_dir, args, model, optimizer)
    soup = load_extra(ckpt_dir) if state["step"] else None  # running sum of the weights averaged (soup_from)

    budget = args.max_minutes * 60 if args.max_minutes else None
    loop_start = time.time() - state["elapsed"]
    stop_reason = "completed all epochs"
    model.train()
    bar = tqdm(total=total_steps, initial=state["step"], desc="train classifier", unit="step",
               disable=not args.progress, dynamic_ncols=True)
    step = state["step"]
    while step < total_steps:
        epoch, pos = divmod(step, steps_per_epoch)
        batch = _batches(len(texts["train"]), args.batch_size, args.seed, epoch)[pos]
        inputs = clf.tokenizer.pad({"input_ids": [enc["input_ids"][i] for i in batch],
                                    "attention_mask": [enc["attention_mask"][i] for i in batch]},
                                   return_tensors="pt")
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step) * group.get("lr_scale", 1.0)
        with autocast():  # weights and optimiser stay float32; matmuls run in bfloat16 when enabled
            embeddings = model.embed(**inputs)
            logits = model.head(model.dropout(embeddings))
        loss = loss_fn(logits.float(), batch)
        if args.contrastive_weight:
            loss = loss + args.contrastive_weight * supervised_contrastive(
                embeddings, torch.as_tensor(ys["train"][batch]), args.contrastive_temperature)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", epoch=epoch + 1)
        out_of_time = budget is not None and time.time() - loop_start > budget
        if (step - epoch * steps_per_epoch) in eval_points or step == total_steps or out_of_time:
            model.eval()
            metrics, _ = _evaluate(clf, texts["valid"], ys["valid"], max_length=train_max_length)
            model.train()
            entry = {"step": step, "epoch": round(step / steps_per_epoch, 2), "loss": round(loss.item(), 4),
                     "valid_macro_f1": round(metrics["macro_f1"], 4)}
            if args.soup_from is not None and entry["epoch"] >= args.soup_from:
                weights_now = {k: v.detach().float() for k, v in model.state_dict().items()}
                soup = weights_now if soup is None else {k: soup[k] + weights_now[k] for k in soup}
                state["soup_n"] = state.get("soup_n", 0) + 1
            best_state = record_evaluation(state, entry, metrics["macro_f1"], model, best_state, directory=ckpt_dir,
                                           optimizer=optimizer, elapsed=time.time() - loop_start, extra=soup)
            bar.write(f"step {step}: valid macro-F1 {metrics['macro_f1']:.3f} (best {state['best']:.3f})")
            if state["bad_evals"] >= args.patience:
                stop_reason = f"early stop: no valid macro-F1 gain in {args.patience} evaluations"
                break
        if out_of_time:
            stop_reason = f"wall-clock budget of {args.max_minutes} min reached"
            break
    bar.close()
    train_seconds = time.time() - loop_start
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    soup_result = None
    if soup is not None and state.get("soup_n", 0) > 1:  # the averaged weights, served if validation prefers them
        kept = {k: v.clone() for k, v in model.state_dict().items()}
        model.load_state_dict({k: v / state["soup_n"] for k, v in soup.items()})
        soup_f1 = _evaluate(clf, texts["valid"], ys["valid"], max_length=train_max_length)[0]["macro_f1"]
        soup_result = {"n": state["soup_n"], "valid_macro_f1": round(soup_f1, 4),
                       "best_valid_macro_f1": round(state["best"], 4), "used": soup_f1 >= state["best"]}
        if not soup_result["used"]:
            model.load_state_dict(kept)
        print(f"weight average of {state['soup_n']} evaluations: valid macro-F1 {soup_f1:.3f} "
              f"(best single {state['best']:.3f}); serving the {'average' if soup_result['used'] else 'best single'}")

    # --- blend with the TF-IDF model, calibrate (validation split), score at the inference token budget ---
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
    report_split = "test" if "test" in results else "valid"
    results["reported_split"] = report_split
    results["training"] = {"stop_reason": stop_reason, "steps": step, "best_step": state["best_step"],
                           "train_seconds": round(train_seconds, 1), "baseline_seconds": round(baseline_seconds, 1),
                           "total_seconds": round(time.time() - t_start, 1), "history": state["history"],
                           "soup": soup_result, "precision": train_precision, "train_max_length": train_max_length,
                           "machine": f"{platform.machine()}, {torch.get_num_threads()} threads"}
    results["trained_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["data"] = [str(p) for p in args.data]
    results["args"] = {k: v for k, v in asdict(args).items() if k != "progress"}

    out_dir = Path(args.models) / "classifier"
    with atomic_dir(out_dir) as tmp:
        clf._write(tmp)
        (tmp / "metrics.json").write_text(json.dumps(results, indent=2))
        plot_confusion(results[report_split]["topic"], tmp / "confusion_matrix.png",
                       f"{report_split} split, macro-F1 {results[report_split]['topic']['macro_f1']:.3f}")
        plot_reliability(results[report_split]["reliability"], tmp / "calibration.png",
                         f"{report_split} split, ECE {results[report_split]['topic']['ece']:.3f} "
                         f"({results[report_split]['topic']['ece_uncalibrated']:.3f} before temperature)")
        (tmp / "MODEL_CARD.md").write_text(model_card(results, args, tfidf_chars=baseline.max_chars))
    remove_checkpoint(ckpt_dir)
    print(f"\n{report_split} split ({stop_reason}, {train_seconds / 60:.1f} min training):")
    print(format_table({"blend (served)": results[report_split]["topic"], "encoder": results[report_split]["topic_encoder"],
                        "tfidf_baseline": results[report_split]["topic_baseline"]}))
    print(f"\nwrote {out_dir}")
    return results
