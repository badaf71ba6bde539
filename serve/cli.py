"""The `newsdesk` command line: one entry point, a subcommand per job. Every command takes --models DIR."""
from __future__ import annotations

import argparse
import json
import os
import sys

from data import DataError
from data.articles import FIELDS, fit_for_models
from models.base import DEFAULT_BASE, ModelLoadError, models_dir


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default=str(models_dir()), metavar="DIR",
                   help="models folder (default: $NEWSDESK_MODELS or artifacts/)")


def _data_flags(p: argparse.ArgumentParser, skip_bad: bool = True) -> None:
    p.add_argument("--field", action="append", default=[], metavar="FIELD=COLUMN", dest="fields",
                   help=f"read FIELD ({', '.join(FIELDS)}) from COLUMN; repeatable")
    if skip_bad:
        p.add_argument("--skip-bad", action="store_true", help="skip and count bad rows instead of stopping")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train-classifier", help="fine-tune the topic classifier (and its TF-IDF baseline)")
    _common(p)
    _data_flags(p)
    p.add_argument("--data", nargs="+", required=True, metavar="FILE", help="labelled JSONL(.gz)/CSV files")
    p.add_argument("--base-model", default=DEFAULT_BASE,
                   help="'minilm' (bundled, offline), a local checkpoint directory or a Hub id")
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget for training")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimisation steps")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--max-length", type=int, help="token budget per article, training and inference (default 128)")
    p.add_argument("--train-precision", choices=["auto", "float32", "bfloat16"],
                   help="auto (default): bfloat16 autocast where the CPU has it natively, else float32")
    p.add_argument("--seed", type=int)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its checkpoint")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("train-summarizer", help="train the headline/teaser summarizer")
    _common(p)
    _data_flags(p)
    p.add_argument("--data", nargs="+", required=True, metavar="FILE",
                   help="JSONL(.gz)/CSV with a body and a headline and/or teaser")
    p.add_argument("--extra-data", nargs="+", default=[], metavar="FILE",
                   help="more training pairs only (their train split); validation uses --data")
    p.add_argument("--base-model", default=DEFAULT_BASE,
                   help="'minilm' (bundled; compressive summarizer only) or a local seq2seq checkpoint or Hub id "
                        "(T5, BART), fine-tuned as a generator whose outputs the guard checks")
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget for the whole run (default 20)")
    p.add_argument("--train-articles", type=int, default=None, help="train-split articles to learn from (default 5000)")
    p.add_argument("--headline-max-words", type=int)
    p.add_argument("--teaser-max-words", type=int)
    p.add_argument("--max-steps", type=int, default=None, help="generator fine-tuning steps at most")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("evaluate", help="score trained models and their baselines on a labelled file")
    _common(p)
    _data_flags(p)
    p.add_argument("--data", nargs="+", required=True, metavar="FILE")
    p.add_argument("--out", metavar="FILE.json", help="write the metrics here")
    p.add_argument("--split", choices=["all", "train", "valid", "test"], default="all",
                   help="score only this split of the data (the same hash split as training)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--limit", type=int, default=None, help="score only the first N articles (after --split)")
    p.add_argument("--tasks", default="topic,summary", help="comma-separated: topic, summary")
    p.add_argument("--no-progress", action="store_true")

    for name, what in (("summarize", "a headline and teaser"), ("classify", "the topic and probabilities")):
        p = sub.add_parser(name, help=f"print {what} for each article of a file")
        _common(p)
        _data_flags(p)
        p.add_argument("data", nargs="+", metavar="FILE")
        p.add_argument("--limit", type=int, default=None, help="only the first N articles")
        p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = sub.add_parser("batch", help="topic, headline and teaser for every article of a file (resumable)")
    _common(p)
    p.add_argument("input", metavar="IN", help="JSONL, JSONL.gz or CSV articles")
    p.add_argument("output", metavar="OUT", help=".jsonl or .csv results; rerunning skips rows already there")
    _data_flags(p, skip_bad=False)  # bad rows become error records instead
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--retry-failed", action="store_true",
                   help="rewrite OUT without its error records and run those rows again (after fixing them)")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("serve", help="serve the Gradio demo")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train-classifier":
            from training.train_classifier import ClassifierArgs, train_classifier
            given = dict(data=args.data, models=args.models, base_model=args.base_model, max_minutes=args.max_minutes,
                         max_steps=args.max_steps, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         max_length=args.max_length, train_precision=args.train_precision, seed=args.seed,
                         resume=args.resume, num_threads=args.threads,
                         skip_bad=args.skip_bad, fields=args.fields, progress=not args.no_progress)
            train_classifier(ClassifierArgs(**{k: v for k, v in given.items() if v is not None}))
        elif args.command == "train-summarizer":
            from training.train_summarizer import SummarizerArgs, train_summarizer
            given = dict(data=args.data, extra_data=args.extra_data, models=args.models, base_model=args.base_model,
                         max_minutes=args.max_minutes, train_articles=args.train_articles,
                         headline_max_words=args.headline_max_words, teaser_max_words=args.teaser_max_words,
                         max_steps=args.max_steps, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         seed=args.seed, num_threads=args.threads, skip_bad=args.skip_bad, fields=args.fields,
                         progress=not args.no_progress)
            train_summarizer(SummarizerArgs(**{k: v for k, v in given.items() if v is not None}))
        elif args.command == "evaluate":
            from training.evaluate import evaluate
            tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
            if not set(tasks) <= {"topic", "summary"}:
                raise ValueError(f"--tasks takes topic and/or summary, got {args.tasks!r}")
            evaluate(args.models, args.data, out=args.out, split=args.split, batch_size=args.batch_size,
                     fields=args.fields, skip_bad=args.skip_bad, tasks=tasks, limit=args.limit,
                     progress=not args.no_progress)
        elif args.command == "summarize":
            from data import FieldMap, read_articles
            from models.summarizer import Summarizer
            bad = []
            articles = read_articles(args.data, FieldMap.parse(args.fields), skip_bad=args.skip_bad, bad_rows=bad)
            articles = [fit_for_models(a)[0] for a in (articles[: args.limit] if args.limit else articles)]
            for a in articles:
                if not a.body:
                    print(f"skipped {a.id}: no body to summarize", file=sys.stderr)
            articles = [a for a in articles if a.body]
            summ = Summarizer.from_pretrained(os.path.join(args.models, "summarizer"))
            for article, s in zip(articles, summ.summarize([a.body for a in articles])):
                if args.json:
                    print(json.dumps({"id": article.id, **{k: v for k, v in s.to_dict().items() if k != "sentences"}}))
                else:
                    print(f"{article.id}\n  headline [{s.headline_source}]: {s.headline}\n"
                          f"  teaser   [{s.teaser_source}]: {s.teaser}")
            for b in bad:
                print(f"skipped {b}", file=sys.stderr)
        elif args.command == "classify":
            from data import FieldMap, read_articles
            from models.classifier import TopicClassifier
            bad = []
            articles = read_articles(args.data, FieldMap.parse(args.fields), skip_bad=args.skip_bad, bad_rows=bad)
            articles = [fit_for_models(a)[0] for a in (articles[: args.limit] if args.limit else articles)]
            clf = TopicClassifier.from_pretrained(os.path.join(args.models, "classifier"))
            for article, probs in zip(articles, clf.predict_proba(articles)):
                top = max(probs, key=probs.get)
                if args.json:
                    print(json.dumps({"id": article.id, "topic": top, "probabilities": probs}))
                else:
                    title = article.headline or article.text[:80]
                    print(f"{top:<23} {probs[top]:.2f}  {title}")
            for b in bad:
                print(f"skipped {b}", file=sys.stderr)
        elif args.command == "batch":
            from data import FieldMap
            from serve.batch import run_batch
            report = run_batch(args.input, args.output, models=args.models, batch_size=args.batch_size,
                               fields=FieldMap.parse(args.fields), progress=not args.no_progress,
                               retry_failed=args.retry_failed)
            print(f"newsdesk batch: {report}", file=sys.stderr)
            return 0 if report.ok else 1
        elif args.command == "serve":
            from serve.app import serve
            serve(args.models, host=args.host, port=args.port)
        return 0
    except (DataError, ModelLoadError, ValueError, OSError) as e:  # OSError: unreadable or unwritable paths
        print(f"newsdesk {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = {"batch": " (run the same command again to resume)"}.get(
            args.command, " (rerun with --resume to continue)" if args.command.startswith("train") else "")
        print(f"\nnewsdesk {args.command}: interrupted{hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
