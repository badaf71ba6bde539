"""Resumable training checkpoints without pickle: tensors in safetensors, everything else in JSON."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from models.base import atomic_dir


def _optimizer_tensors(optimizer) -> tuple[dict, dict]:
    state = optimizer.state_dict()
    tensors = {}
    for pid, slots in state["state"].items():
        for key, value in slots.items():
            tensors[f"{pid}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return {k: v.contiguous() for k, v in tensors.items()}, {"param_groups": state["param_groups"]}


def save_checkpoint(directory, model, optimizer, state: dict, best_state: dict | None) -> None:
    """Atomically write model weights, best weights so far, optimizer moments and the loop state."""
    with atomic_dir(directory) as tmp:
        save_file({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()},
                  str(tmp / "model.safetensors"))  # clone: tied weights share memory
        if best_state is not None:
            save_file({k: v.detach().clone().contiguous() for k, v in best_state.items()}, str(tmp / "best.safetensors"))
        tensors, groups = _optimizer_tensors(optimizer)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        (tmp / "optimizer.json").write_text(json.dumps(groups))
        (tmp / "state.json").write_text(json.dumps(state, indent=1))


def load_checkpoint(directory, model, optimizer) -> tuple[dict, dict | None] | None:
    """Restore model and optimizer in place; returns (loop state, best weights) or None if no checkpoint."""
    directory = Path(directory)
    if not (directory / "state.json").exists():
        return None
    model.load_state_dict(load_file(str(directory / "model.safetensors")))
    tensors = load_file(str(directory / "optimizer.safetensors"))
    groups = json.loads((directory / "optimizer.json").read_text())["param_groups"]
    slots: dict = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        slots.setdefault(int(pid), {})[key] = value
    optimizer.load_state_dict({"state": slots, "param_groups": groups})
    best = directory / "best.safetensors"
    return json.loads((directory / "state.json").read_text()), (load_file(str(best)) if best.exists() else None)


def remove_checkpoint(directory) -> None:
    shutil.rmtree(directory, ignore_errors=True)
