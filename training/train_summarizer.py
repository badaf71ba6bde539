"""Train the headline/teaser summarizer (`newsdesk train-summarizer`).

    newsdesk train-summarizer --data ../shared/data/news/ukraine_war.jsonl.gz --models artifacts

Default (offline): BERT2BERT warm-started from the bundled all-MiniLM-L6-v2 (Rothe et al. 2020), decoder of
`decoder_layers` MiniLM layers with new cross-attention. On 2 CPU cores the encoder is kept frozen: each
article is encoded once (int8, as at inference) and cached, and only the decoder trains, which makes about 10x
more decoder updates fit in the budget than fine-tuning both halves. With `--base-model` pointing at a
T5/BART checkpoint the whole model is fine-tuned instead (task prefix "headline: " / "teaser: ").
"""
from __future__ import annotations

import functools
import gc
import json
import math
import platform
import random
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from data import FieldMap, duplicate_groups, read_articles, split_articles
from models.base import atomic_dir, update_dir
from models.summarizer import GenerationSettings, Summarizer, pad_states
from .checkpoint import linear_schedule, record_evaluation, remove_checkpoint, start_or_resume
from .evaluate import evaluate_summaries
from .rouge import rouge_scores


@dataclass
class SummarizerArgs:
    data: list = field(default_factory=list)     # JSONL(.gz)/CSV with body and headline and/or teaser
    extra_data: list = field(default_factory=list)  # more training pairs only: their train split joins training;
                                                 # validation, path choice and test stay on `data`
    models: str = "artifacts"                    # writes MODELS/summarizer/
    base_model: str = "minilm"
    decoder_layers: int = 2                      # MiniLM layers copied into the decoder
    max_input_tokens: int = 256
    num_beams: int = 4                           # beam width at generation (validation and the saved default)
    epochs: int = 3
    batch_size: int = 32
    lr: float = 3e-4
    warmup: float = 0.03
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    teaser_weight: int = 2                       # teaser pairs are repeated this often per epoch (they are rarer)
    max_pairs: int | None = None                 # cap training pairs (tests, smoke runs)
    max_minutes: float | None = None
    max_steps: int | None = None
    evals_per_epoch: int = 2
    choose_paths: bool = True                    # per output, serve the generator only where it wins on validation
    eval_articles: int = 150                     # validation articles scored with ROUGE at each evaluation
    patience: int = 3
    valid_fraction: float = 0.05
    test_fraction: float = 0.15                  # same test bucket as every other split of this corpus
    min_body_words: int = 40
    seed: int = 0
    resume: bool = False
    num_threads: int | None = None
    skip_bad: bool = False
    fields: list = field(default_factory=list)
    progress: bool = True


def pairs_for(article, min_body_words: int) -> list[tuple[str, str]]:
    """(task, target) pairs an article offers: its headline, and its teaser where the outlet had one."""
    if not article.body or len(article.body.split()) < min_body_words:
        return []
    out = []
    if article.headline and 3 <= len(article.headline.split()) <= 20:
        out.append(("headline", " ".join(article.headline.split())))
    if article.teaser and 6 <= len(article.teaser.split()) <= 60 and article.teaser != article.headline:
        out.append(("teaser", " ".join(article.teaser.split())))
    return out


def casing_lexicon(bodies, limit: int = 6000, min_count: int = 3) -> dict:
    """{lower: Cased} for words written with a capital in most of their mid-sentence uses (names)."""
    seen: dict[str, Counter] = {}
    for body in bodies[:limit]:
        for sent in re.split(r"(?<=[.!?])\s+", body):
            for w in re.findall(r"[A-Za-z][\w'’-]*", sent)[1:]:
                seen.setdefault(w.lower(), Counter())[w] += 1
    lex = {}
    for low, forms in seen.items():
        total = sum(forms.values())
        best, n = forms.most_common(1)[0]
        if total >= min_count and best != low and n / total >= 0.7:
            lex[low] = best
    return lex


class EncoderCache:
    """Frozen-encoder states for each prepared input, computed once by `Summarizer.encode`, exactly as at
    inference (in the precision inference will use), and kept in float16."""

    def __init__(self, summarizer: Summarizer, texts: list[str], progress=True, chunk: int = 32):
        self.states = []
        with tqdm(total=len(texts), desc="encode articles", unit="article", disable=not progress) as bar:
            for start in range(0, len(texts), chunk):
                states, mask = summarizer.encode(texts[start:start + chunk])
                self.states += [s[:int(m.sum())].to(torch.float16).clone() for s, m in zip(states, mask)]
                bar.update(len(mask))

    def batch(self, idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_states([self.states[i] for i in idx])


def evaluate_generation(summarizer: Summarizer, articles, inputs: list[str]) -> dict:
    """Raw generator ROUGE (best beam, before the guard) on validation articles."""
    out = {}
    for task in ("headline", "teaser"):
        idx = [i for i, a in enumerate(articles) if getattr(a, task)]
        if not idx:
            continue
        preds = []
        for s in range(0, len(idx), 16):
            preds += [c[0] or "" for c in summarizer.candidates([inputs[i] for i in idx[s:s + 16]], task, num_return=1)]
        out[task] = rouge_scores(preds, [getattr(articles[i], task) for i in idx])
    return out


def _score(metrics: dict) -> float:
    parts = [metrics["headline"]["rougeL"]] if "headline" in metrics else []
    parts += [metrics["teaser"]["rouge1"]] if "teaser" in metrics else []
    return float(np.mean(parts)) if parts else 0.0


def training_pairs(args: SummarizerArgs) -> tuple[dict, list[tuple[int, str, str]]]:
    """The splits of the articles that offer pairs, and the (train article index, task, target) pairs trained on."""
    bad = []
    fields = FieldMap.parse(args.fields)
    articles = read_articles(args.data, fields, skip_bad=args.skip_bad, bad_rows=bad)
    extra = read_articles(args.extra_data, fields, skip_bad=args.skip_bad, bad_rows=bad) if args.extra_data else []
    if bad:
        print(f"skipped {len(bad)} bad rows, first: {bad[0]}")
    articles = [a for a in articles if pairs_for(a, args.min_body_words)]
    parts = split_articles(articles, valid=args.valid_fraction, test=args.test_fraction)
    extra = [a for a in extra if pairs_for(a, args.min_body_words)]
    if extra:  # the extra files' own train split, less rewrites of a story held out from `data`
        held_out = parts["valid"] + parts["test"]
        keys = duplicate_groups(held_out + extra)
        held_keys = set(keys[:len(held_out)])
        extra = [a for a, key in zip(extra, keys[len(held_out):]) if key not in held_keys]
        parts["train"] += split_articles(extra, valid=args.valid_fraction, test=args.test_fraction)["train"]
    pairs = [(i, task, target) for i, a in enumerate(parts["train"]) for task, target in pairs_for(a, args.min_body_words)]
    if args.max_pairs:
        pairs = random.Random(args.seed).sample(pairs, min(args.max_pairs, len(pairs)))
    return parts, pairs


def target_ids(summ: Summarizer, target: str) -> list[int]:
    return summ.tokenizer(target, add_special_tokens=False, truncation=True,
                          max_length=summ.settings.teaser_max_tokens)["input_ids"]


def write_output_vocab(args: SummarizerArgs) -> int:
    """Add output_vocab.json to a summarizer trained before the file existed: the token ids of the targets that
    `training_pairs(args)` gives (the same ones training would have recorded). Returns how many."""
    directory = Path(args.models) / "summarizer"
    summ = Summarizer.from_pretrained(directory, precision="float32")
    _, pairs = training_pairs(args)
    summ.output_vocab = {t for _, _, target in pairs for t in target_ids(summ, target)}
    update_dir(directory, {"output_vocab.json": json.dumps(summ.output_vocab)})
    return len(summ.output_vocab)


def validation_sample(parts: dict, args: SummarizerArgs) -> list:
    """The validation articles scored with ROUGE during training."""
    return random.Random(args.seed).sample(parts["valid"], min(args.eval_articles, len(parts["valid"])))


def path_articles(parts: dict, args: SummarizerArgs) -> list:
    """The validation articles the paths are chosen on: the validation sample, and more with a teaser."""
    valid = validation_sample(parts, args)
    return valid + [a for a in parts["valid"] if a.teaser and a not in valid][:args.eval_articles]


def write_paths(args: SummarizerArgs) -> dict:
    """Choose the paths of a summarizer trained before training chose them, on the validation articles training
    would have used, and record them in its config.json, metrics.json and MODEL_CARD.md. Returns the comparison."""
    directory = Path(args.models) / "summarizer"
    summ = Summarizer.from_pretrained(directory)
    parts, _ = training_pairs(args)
    paths = choose_paths(summ, path_articles(parts, args))
    config = json.loads((directory / "config.json").read_text())
    config["newsdesk"]["generation"].update({f"{t}_path": p["path"] for t, p in paths.items()})
    metrics = {**json.loads((directory / "metrics.json").read_text()), "paths": paths}
    update_dir(directory, {"config.json": json.dumps(config, indent=2), "metrics.json": json.dumps(metrics, indent=2),
                           "MODEL_CARD.md": model_card(metrics, args, summ)})
    return paths


def choose_paths(summ: Summarizer, articles) -> dict:
    """Set each output's path (`summ.settings.headline_path`, `teaser_path`) to whichever writes closer to the
    references of these validation articles: the generator through the guard (extractive fallback), or the
    extractive path alone. Headlines are compared by ROUGE-L, teasers by ROUGE-1 (what the benchmark targets);
    a tie keeps the generator. Returns the comparison."""
    summ.settings.headline_path = summ.settings.teaser_path = "generator"  # the flow, unless beaten below
    scored = evaluate_summaries(summ, articles, batch_size=16, progress=False)
    result = {}
    for task, measure in (("headline", "rougeL"), ("teaser", "rouge1")):
        if task not in scored:
            continue
        scores = {"generator": scored[task][measure], "extractive": scored[f"{task}_extractive"][measure]}
        path = "generator" if scores["generator"] >= scores["extractive"] else "extractive"
        setattr(summ.settings, f"{task}_path", path)
        result[task] = {"n": scored[task]["n"], "measure": measure, **{k: round(v, 4) for k, v in scores.items()},
                        "path": path}
    print("paths: " + "; ".join(f"{t} {p['path']} ({p['measure']} generator {p['generator']:.3f}, extractive "
                                 f"{p['extractive']:.3f}, n={p['n']})" for t, p in result.items()))
    return result


def train_summarizer(args: SummarizerArgs) -> dict:
    t_start = time.time()
    if not args.data:
        raise ValueError("no training data given (--data FILE ...)")
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    parts, pairs = training_pairs(args)
    train_articles = parts["train"]
    used = sorted({i for i, _, _ in pairs})
    valid = validation_sample(parts, args)
    if not pairs or not valid:
        have = sum(map(len, parts.values()))
        raise ValueError(f"not enough articles with a body and a headline or teaser (have {have})")
    counts = Counter(task for _, task, _ in pairs)
    print(f"articles: train {len(train_articles)}, valid {len(parts['valid'])}, test {len(parts['test'])}; "
          f"training pairs: {dict(counts)}")

    summ = Summarizer.from_base(args.base_model, decoder_layers=args.decoder_layers,
                                settings=GenerationSettings(max_input_tokens=args.max_input_tokens,
                                                            num_beams=args.num_beams),
                                precision="auto")  # the frozen encoder as at inference (decoder trained in float32)
    tok = summ.tokenizer
    prep = {i: summ.prepare(train_articles[i].body)[0] for i in used}
    valid_inputs = [summ.prepare(a.body)[0] for a in valid]
    frozen = summ.control == "decoder_token"
    if frozen:
        keys = list(prep)
        cache = EncoderCache(summ, [prep[i] for i in keys], progress=args.progress)
        slot = {i: k for k, i in enumerate(keys)}
        for p in summ.model.encoder.parameters():
            p.requires_grad_(False)
        trainable = summ.model.decoder
        trainable.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    else:
        trainable = summ.model
    params = [p for p in trainable.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": [p for p in params if p.ndim >= 2], "weight_decay": args.weight_decay},
                                   {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}], lr=args.lr)

    targets = {(i, task): target_ids(summ, target) for i, task, target in pairs}
    schedule = [p for p in pairs for _ in range(args.teaser_weight if p[1] == "teaser" else 1)]
    steps_per_epoch = math.ceil(len(schedule) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    eval_points = {min(steps_per_epoch, round(steps_per_epoch * (k + 1) / args.evals_per_epoch))
                   for k in range(args.evals_per_epoch)}
    warmup_steps = max(1, int(args.warmup * total_steps))

    lr_at = linear_schedule(args.lr, total_steps, warmup_steps)

    @functools.lru_cache(maxsize=1)
    def batches(epoch):
        order = list(range(len(schedule)))
        random.Random(args.seed * 1000 + epoch).shuffle(order)
        return [order[k:k + args.batch_size] for k in range(0, len(order), args.batch_size)]

    def loss_on(batch):
        rows = [schedule[k] for k in batch]
        ctrl = {task: summ.control_ids(task) for task in ("headline", "teaser")}
        seqs = [targets[(i, task)] for i, task, _ in rows]
        n = max(map(len, seqs)) + 1
        dec_in = torch.full((len(rows), n), tok.pad_token_id)
        labels = torch.full((len(rows), n), -100)
        for r, ((i, task, _), seq) in enumerate(zip(rows, seqs)):
            eos = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
            full_in = ctrl[task] + seq if frozen else [summ.model.config.decoder_start_token_id] + seq
            dec_in[r, :len(full_in)] = torch.tensor(full_in[:n])
            labels[r, :len(seq) + 1] = torch.tensor(seq + [eos])
        dec_mask = (labels != -100).long()
        if frozen:
            mem, mask = cache.batch([slot[i] for i, _, _ in rows])
            logits = summ.model.decoder(input_ids=dec_in, attention_mask=dec_mask, encoder_hidden_states=mem,
                                        encoder_attention_mask=mask).logits
        else:
            enc = summ.tokenize_inputs([prep[i] for i, _, _ in rows], [task for _, task, _ in rows])
            logits = summ.model(**enc, decoder_input_ids=dec_in, decoder_attention_mask=dec_mask).logits
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                 ignore_index=-100, label_smoothing=args.label_smoothing)

    ckpt_dir = Path(args.models) / ".summarizer-checkpoint"
    state, best_state = start_or_resume(ckpt_dir, args, trainable, optimizer)

    gc.collect()
    gc.freeze()  # the corpus and the encoder cache live until the end: keep the garbage collector off them
    budget = args.max_minutes * 60 if args.max_minutes else None
    loop_start = time.time() - state["elapsed"]
    stop_reason = "completed all epochs"
    trainable.train()
    bar = tqdm(total=total_steps, initial=state["step"], desc="train summarizer", unit="step",
               disable=not args.progress, dynamic_ncols=True)
    step = state["step"]
    last = None
    while step < total_steps:
        epoch, pos = divmod(step, steps_per_epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss = loss_on(batches(epoch)[pos])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", epoch=epoch + 1)
        out_of_time = budget is not None and time.time() - loop_start > budget
        if (step - epoch * steps_per_epoch) in eval_points or step == total_steps or out_of_time:
            summ.model.eval()
            summ.refresh_decoder()  # the beam search's fast decoder copy, from the weights trained so far
            last = evaluate_generation(summ, valid, valid_inputs)
            summ.model.train() if not frozen else trainable.train()
            score = _score(last)
            entry = {"step": step, "epoch": round(step / steps_per_epoch, 2), "loss": round(loss.item(), 4),
                     "valid": last, "score": round(score, 4)}
            best_state = record_evaluation(state, entry, score, trainable, best_state, directory=ckpt_dir,
                                           optimizer=optimizer, elapsed=time.time() - loop_start)
            bar.write(f"step {step}: valid " + ", ".join(
                f"{t} R1/R2/RL {m['rouge1']:.3f}/{m['rouge2']:.3f}/{m['rougeL']:.3f}" for t, m in last.items()))
            if state["bad_evals"] >= args.patience:
                stop_reason = f"early stop: no validation gain in {args.patience} evaluations"
                break
        if out_of_time:
            stop_reason = f"wall-clock budget of {args.max_minutes} min reached"
            break
    bar.close()
    train_seconds = time.time() - loop_start
    if best_state is not None:
        trainable.load_state_dict(best_state)
    summ.model.eval()
    summ.casing = casing_lexicon([a.body for a in train_articles])
    if frozen:  # generation scores only the tokens the training targets used
        summ.output_vocab = {t for ids in targets.values() for t in ids}
    best_valid = next((h["valid"] for h in state["history"] if h["step"] == state["best_step"]), last)
    paths = choose_paths(summ, path_articles(parts, args)) if args.choose_paths else None
    results = {
        "data": [str(p) for p in args.data], "articles": {k: len(v) for k, v in parts.items()},
        "training_pairs": dict(counts), "valid_generator": best_valid, "paths": paths,
        "training": {"stop_reason": stop_reason, "steps": step, "best_step": state["best_step"],
                     "train_seconds": round(train_seconds, 1), "total_seconds": round(time.time() - t_start, 1),
                     "history": state["history"], "encoder": "frozen, cached" if frozen else "fine-tuned",
                     "machine": f"{platform.machine()}, {torch.get_num_threads()} threads"},
        "args": {k: v for k, v in asdict(args).items() if k != "progress"},
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out_dir = Path(args.models) / "summarizer"
    with atomic_dir(out_dir) as tmp:
        summ._write(tmp)
        (tmp / "metrics.json").write_text(json.dumps(results, indent=2))
        (tmp / "MODEL_CARD.md").write_text(model_card(results, args, summ))
    remove_checkpoint(ckpt_dir)
    gc.unfreeze()  # what training held may be collected again (tests and benchmarks go on in this process)
    print(f"\n{stop_reason}; {train_seconds / 60:.1f} min training. Wrote {out_dir}")
    return results


def model_card(results: dict, args: SummarizerArgs, summ: Summarizer) -> str:
    v = results.get("valid_generator") or {}
    rows = "\n".join(f"| {t} | {m['rouge1']:.3f} | {m['rouge2']:.3f} | {m['rougeL']:.3f} | {m['n']} |" for t, m in v.items())
    tr = results["training"]
    s = summ.settings
    return f"""# newsdesk summarizer

Writes a headline (at most {s.headline_max_words} words) and a teaser (one or two sentences, at most {s.teaser_max_words} words)
for an English news article body. Each output is written by the path chosen for it below: the generator, whose
beam candidates must pass the faithfulness guard (numbers and names supported by the article; else the next
candidate, else the extractive path), or the extractive path alone. Each output says which path wrote it.

## Model
- Base: `{args.base_model}`; {'BERT2BERT warm start (Rothe, Narayan & Severyn 2020): encoder = ' + str(args.base_model) + ', decoder = its embeddings and first ' + str(args.decoder_layers) + ' layers with new cross-attention; the first decoder token ([unused0] / [unused1]) selects headline or teaser, so one encoder pass serves both.' if summ.control == 'decoder_token' else 'a pretrained sequence-to-sequence checkpoint, fine-tuned whole; a task prefix selects headline or teaser.'}
- Why this shape on 2 CPU cores: the encoder stays frozen and every article is encoded once and cached, so the
  training budget goes to decoder updates (about 10x more than fine-tuning both halves); a {args.decoder_layers}-layer decoder
  trains fast and keeps decoding within about 150 ms per article (docs/BENCHMARKS.md); the decoder shares its input and output
  embeddings (weight tying) with each other; the input budget is {args.max_input_tokens} tokens (the lead plus the most
  salient sentences), which holds what headlines and teasers are written from.
- Output casing: the uncased model's words take the casing they have in the article, else the training
  corpus's usual casing.
- Output vocabulary: beam search scores only the {len(summ.output_vocab or []) or 'all'} token ids the training targets used
  (`output_vocab.json`), a smaller vocabulary projection per decoding step.

## Data
- Files: {', '.join(results['data'])}; articles with a body of at least {args.min_body_words} words.
- Extra training files (their train split; never validated or tested on): {', '.join(map(str, args.extra_data)) or 'none'}.
- Duplicate-aware hash split (test bucket shared with every split of this corpus; train includes the extra files'): {json.dumps(results['articles'])}
- Training pairs: {json.dumps(results['training_pairs'])} (teaser pairs repeated x{args.teaser_weight}).

## Training
- epochs {args.epochs}, batch {args.batch_size}, lr {args.lr}, label smoothing {args.label_smoothing}, seed {args.seed};
  stopped: {tr['stop_reason']} after {tr['steps']} steps (best at {tr['best_step']}); {tr['train_seconds'] / 60:.1f} min training,
  {tr['total_seconds'] / 60:.1f} min in all on {tr['machine']}.

## Validation (raw generator, best beam, before the guard)
| output | ROUGE-1 | ROUGE-2 | ROUGE-L | n |
| --- | --- | --- | --- | --- |
{rows}

## Paths served (chosen on validation articles)
{paths_table(results.get("paths"))}

Test-split numbers, with the guard and beside the lead baselines: docs/BENCHMARKS.md (`make bench-summarizer`).

## Limits
- English news like the training files above; other domains will get generic or extractive outputs.
- The guard checks numbers and names, not every claim: a fluent headline can still mislead. Keep an editor in
  the loop.
- Small and CPU-trained: outputs are often close to the lead sentence.
"""


def paths_table(paths: dict | None) -> str:
    if not paths:
        return "Not chosen (--no-choose-paths): the generator writes both outputs, the extractive path is its fallback."
    rows = "\n".join(f"| {t} | {p['measure']} | {p['generator']:.3f} | {p['extractive']:.3f} | {p['n']} | {p['path']} |"
                     for t, p in paths.items())
    return ("The generator (through the guard, with the extractive fallback) serves an output only where it scores\n"
            "at least as high as the extractive path alone:\n\n"
            "| output | measure | generator + guard | extractive | n | served |\n| --- | --- | --- | --- | --- | --- |\n" + rows)
