"""Resumable training checkpoints without pickle: tensors in safetensors, everything else in JSON."""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict
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


def save_checkpoint(directory, model, optimizer, state: dict, best_state: dict | None, extra: dict | None = None) -> None:
    """Atomically write model weights, best weights so far, optimizer moments, the loop state and any `extra`
    tensors a loop keeps (read back with `load_extra`)."""
    with atomic_dir(directory) as tmp:
        if extra:
            save_file({k: v.detach().clone().contiguous() for k, v in extra.items()}, str(tmp / "extra.safetensors"))
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


def load_extra(directory) -> dict | None:
    """The `extra` tensors of the checkpoint in `directory`, or None."""
    path = Path(directory) / "extra.safetensors"
    return load_file(str(path)) if path.exists() else None


def remove_checkpoint(directory) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def start_or_resume(directory, args, model, optimizer) -> tuple[dict, dict | None]:
    """A fresh loop state, or, with ``args.resume`` and a checkpoint written with the same arguments, the saved
    state (model and optimizer restored in place) and the best weights so far."""
    directory = Path(directory)
    state = {"step": 0, "best": -1.0, "best_step": 0, "bad_evals": 0, "elapsed": 0.0, "history": [],
             "args": {k: v for k, v in asdict(args).items() if k not in ("resume", "progress", "max_minutes")}}
    if not (args.resume and (directory / "state.json").exists()):
        remove_checkpoint(directory)
        return state, None
    if json.loads((directory / "state.json").read_text()).get("args") != json.loads(json.dumps(state["args"])):
        raise ValueError(f"cannot resume: {directory} was written with other arguments; "
                         "rerun with the same arguments, or without --resume to start over")
    state, best = load_checkpoint(directory, model, optimizer)
    print(f"resumed at step {state['step']} (best validation score {state['best']:.3f})")
    return state, best


def record_evaluation(state: dict, entry: dict, score: float, model, best_state: dict | None, *, directory=None,
                      optimizer, elapsed: float, extra: dict | None = None) -> dict | None:
    """Log an evaluation in the loop state and checkpoint the run to `directory` (if given); returns the best weights so far
    (a copy when `score` is a new best). `state["bad_evals"]` counts evaluations since the last gain."""
    state["history"].append(entry)
    if score > state["best"]:
        state.update(best=score, best_step=entry["step"], bad_evals=0)
        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    else:
        state["bad_evals"] += 1
    state.update(step=entry["step"], elapsed=elapsed)
    if directory is not None:
        save_checkpoint(directory, model, optimizer, state, best_state, extra)
    return best_state
