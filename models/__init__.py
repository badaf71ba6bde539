"""Models: the topic classifier, its TF-IDF baseline, and where base weights come from."""
from .classifier import TopicClassifier

__all__ = ["TopicClassifier"]
