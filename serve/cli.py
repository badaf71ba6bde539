"""The `newsdesk` command line: one entry point, a subcommand per job. Every command takes --models DIR."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from data import DataError
from data.articles import FIELDS, fit_for_models
from models.base import ModelLoadError, models_dir
from training.args import ClassifierArgs, SummarizerArgs
from transformers import HfArgumentParser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default=str(models_dir()), metavar="DIR",
                   help="models folder (default: $NEWSDESK_MODELS or artifacts/)")


def _data_flags(p: argparse.ArgumentParser, skip_bad: bool = True) -> None:
    p.add_argument("--field", action="append", default=[], metavar="FIELD=COLUMN", dest="fields",
                   help=f"read FIELD ({', '.join(FIELDS)}) from COLUMN; repeatable")
    if skip_bad:
        p.add_argument("--skip-bad", action="store_true", help="skip and count bad rows instead of stopping")


def _dataclass(cls, namespace: argparse.Namespace):
    """The dataclass from the parsed flags (a repeated list flag, `--field a=b --field c=d`, arrives as lists)."""
    def flat(value):
        return [x for v in value for x in (v if isinstance(v, list) else [v])] if isinstance(value, list) else value
    return cls(**{f.name: flat(getattr(namespace, f.name)) for f in dataclasses.fields(cls)})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=HfArgumentParser)

    # The training commands' flags are the fields of their argument dataclasses (training/args.py).
    for name, what, args_class in (("train-classifier", "fine-tune the topic classifier (and its TF-IDF baseline)",
                                    ClassifierArgs),
                                   ("train-summarizer", "train the headline/teaser summarizer", SummarizerArgs)):
        sub.add_parser(name, help=what, description=what, dataclass_types=[args_class])

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
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local (default): this process; ray: a Ray Data pipeline (pip install -e '.[ray]'), "
                        "IN a file, folder or glob, OUT a folder of shard files (serve/ray_engine.py)")
    p.add_argument("--address", default=None, help="--engine ray: a Ray cluster's address (default: a local Ray)")
    p.add_argument("--workers", type=int, default=1, help="--engine ray: actors, each with its own model copy")
    p.add_argument("--shards", type=int, default=64, help="--engine ray: output shards (the unit of resuming)")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("export-onnx", help="add onnx/ to a trained classifier: precision onnx and onnx-int8")
    _common(p)

    p = sub.add_parser("serve", help="serve the Gradio demo")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    return parser


def _train_classifier(args) -> None:
    from training.train_classifier import train_classifier
    train_classifier(_dataclass(ClassifierArgs, args))


def _train_summarizer(args) -> None:
    from training.train_summarizer import train_summarizer
    train_summarizer(_dataclass(SummarizerArgs, args))


def _evaluate(args) -> None:
    from training.evaluate import evaluate
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
    if not set(tasks) <= {"topic", "summary"}:
        raise ValueError(f"--tasks takes topic and/or summary, got {args.tasks!r}")
    evaluate(args.models, args.data, out=args.out, split=args.split, batch_size=args.batch_size, fields=args.fields,
             skip_bad=args.skip_bad, tasks=tasks, limit=args.limit, progress=not args.no_progress)


def _read(args) -> tuple[list, list]:
    """The articles of the files (cut to --limit, made safe for the models) and the bad rows skipped."""
    from data import FieldMap, read_articles
    bad = []
    articles = read_articles(args.data, FieldMap.parse(args.fields), skip_bad=args.skip_bad, bad_rows=bad)
    return [fit_for_models(a)[0] for a in (articles[: args.limit] if args.limit else articles)], bad


def _summarize(args) -> None:
    from models.summarizer import Summarizer
    articles, bad = _read(args)
    for a in articles:
        if not a.body:
            print(f"skipped {a.id}: no body to summarize", file=sys.stderr)
    articles = [a for a in articles if a.body]
    summ = Summarizer.from_pretrained(os.path.join(args.models, "summarizer"))
    for article, s in zip(articles, summ.summarize([a.body for a in articles])):
        if args.json:
            print(json.dumps({"id": article.id, **{k: v for k, v in s.to_dict().items() if k != "sentences"}}))
        else:
            print(f"{article.id}\n  headline [{s.headline_source}]: {s.headline}\n  teaser   [{s.teaser_source}]: {s.teaser}")
    for b in bad:
        print(f"skipped {b}", file=sys.stderr)


def _classify(args) -> None:
    from models.classifier import TopicClassifier
    articles, bad = _read(args)
    clf = TopicClassifier.from_pretrained(os.path.join(args.models, "classifier"))
    for article, probs in zip(articles, clf.predict_proba(articles)):
        top = max(probs, key=probs.get)
        if args.json:
            print(json.dumps({"id": article.id, "topic": top, "probabilities": probs}))
        else:
            print(f"{top:<23} {probs[top]:.2f}  {article.headline or article.text[:80]}")
    for b in bad:
        print(f"skipped {b}", file=sys.stderr)


def _batch(args) -> int:
    from data import FieldMap
    from serve.batch import run_batch
    fields = FieldMap.parse(args.fields)
    if args.engine == "ray":
        from serve.ray_engine import run_ray_batch
        if args.retry_failed:
            raise ValueError("--retry-failed is for the local engine; with --engine ray, delete the shard files "
                             "holding the failed rows and rerun")
        report = run_ray_batch(args.input, args.output, models=args.models, workers=args.workers, address=args.address,
                               shards=args.shards, batch_size=args.batch_size, fields=fields,
                               progress=not args.no_progress)
    else:
        report = run_batch(args.input, args.output, models=args.models, batch_size=args.batch_size, fields=fields,
                           progress=not args.no_progress, retry_failed=args.retry_failed)
    print(f"newsdesk batch: {report}", file=sys.stderr)
    return 0 if report.ok else 1


def _export_onnx(args) -> None:
    from models import onnx_runtime
    from models.classifier import TopicClassifier
    directory = os.path.join(args.models, "classifier")
    TopicClassifier.export_onnx(directory)
    print(f"wrote {directory}/{onnx_runtime.SUBDIR}/ ({', '.join(onnx_runtime.FILES.values())})")


def _serve(args) -> None:
    from serve.app import serve
    serve(args.models, host=args.host, port=args.port)


COMMANDS = {"train-classifier": _train_classifier, "train-summarizer": _train_summarizer, "evaluate": _evaluate,
            "summarize": _summarize, "classify": _classify, "batch": _batch, "export-onnx": _export_onnx,
            "serve": _serve}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args) or 0
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
