"""Serving: `predict()` (serve/api.py), the Gradio demo (serve/app.py), the batch script (serve/batch.py) and the
`newsdesk` command line (serve/cli.py).  `from serve import predict` loads the models lazily, on first use."""

__all__ = ["Newsdesk", "Prediction", "load", "predict"]


def __getattr__(name):  # imported on first use, so `newsdesk --help` does not pay for torch
    if name in __all__:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'serve' has no attribute {name!r}")
