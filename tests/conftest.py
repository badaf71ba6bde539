"""Shared fixtures: tiny models (a few training steps on the project's own samples), trained once per session."""
import pytest

from data import SAMPLES


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """A models folder with a classifier and a summarizer trained a few steps on data/samples/."""
    from training.train_classifier import ClassifierArgs, train_classifier
    from training.train_summarizer import SummarizerArgs, train_summarizer

    d = tmp_path_factory.mktemp("models")
    train_summarizer(SummarizerArgs(data=[str(SAMPLES)], models=str(d), eval_articles=8, progress=False))
    train_classifier(ClassifierArgs(data=[str(SAMPLES)], models=str(d), max_steps=1, batch_size=8, max_length=64,
                                    train_max_length=64, export_onnx=False, progress=False))
    return d
