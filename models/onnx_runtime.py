"""The classifier's encoder and head on ONNX Runtime (precision "onnx" and "onnx-int8"), an optional extra:
`pip install -e '.[onnx]'`.

`export(model, directory / "onnx")` writes model.onnx (torch.onnx.export, float32, dynamic batch and length)
and model-int8.onnx (onnxruntime's dynamic quantization of its MatMul weights to int8). `OnnxModel` runs one of
them and is called like the torch module it replaces: (input_ids, attention_mask) -> logits as a torch tensor.
Nothing is pickled: an ONNX file is a protobuf graph with its weights.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import torch

from .base import ModelLoadError

SUBDIR = "onnx"
FILES = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}
SERVED = "onnx-int8"  # what precision="auto" serves where onnxruntime is installed: the fastest variant that
# changes at most 1% of float32's test labels (bench-scale: int8 2 of 480, 1.7x onnx float32; docs/BENCHMARKS.md)


def available() -> bool:
    """Whether onnx and onnxruntime are installed (`pip install -e '.[onnx]'`)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def has_export(directory) -> bool:
    return all((Path(directory) / SUBDIR / name).is_file() for name in FILES.values())


def export(model: torch.nn.Module, out) -> None:
    """Write `model` (a float32 MeanPoolClassifier) into the folder `out` (a model directory's onnx/) as
    model.onnx and its int8 variant model-int8.onnx."""
    if not available():
        raise ModelLoadError("ONNX export needs onnx and onnxruntime: pip install -e '.[onnx]'")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
               "logits": {0: "batch"}}
    model = model.eval()
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), str(out / FILES["onnx"]), input_names=["input_ids", "attention_mask"],
                          output_names=["logits"], dynamic_axes=dynamic, opset_version=17, dynamo=False)
    # per-channel weight scales: 2 of 480 test labels changed against float32, per-tensor ones 7 (docs/BENCHMARKS.md)
    quantize_dynamic(str(out / FILES["onnx"]), str(out / FILES["onnx-int8"]), weight_type=QuantType.QInt8,
                     per_channel=True)


class OnnxModel:
    """An ONNX Runtime session standing in for the torch classifier module (inference only)."""

    def __init__(self, path, config, num_threads: int | None = None):
        if not available():
            raise ModelLoadError("precision 'onnx' needs onnx and onnxruntime: pip install -e '.[onnx]'")
        import onnxruntime as ort

        if not Path(path).is_file():
            raise ModelLoadError(f"{Path(path).parent.parent} has no {SUBDIR}/{Path(path).name}: export it with "
                                 f"`newsdesk export-onnx --models {Path(path).parent.parent.parent}`")
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or torch.get_num_threads() or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for a corrupt file
            raise ModelLoadError(f"cannot load {path} ({type(e).__name__}: {str(e).splitlines()[0]})") from None
        self.config = config  # id2label, as the torch module's

    def eval(self) -> "OnnxModel":
        return self

    def __call__(self, input_ids, attention_mask, **_) -> torch.Tensor:
        feed = {"input_ids": np.asarray(input_ids, dtype=np.int64),
                "attention_mask": np.asarray(attention_mask, dtype=np.int64)}
        return torch.from_numpy(self.session.run(["logits"], feed)[0])
