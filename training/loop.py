"""The one training loop both trainers call (the classifier's encoder, the summarizer's optional generator).

One explicit loop, as nanoGPT's: a step's loss from the caller, backward, gradient clipping, AdamW's step and
transformers' linear warm-up/decay schedule; at the caller's evaluation points an evaluation, early stopping on
`patience` evaluations without gain and a resumable checkpoint (training/checkpoint.py); a wall-clock deadline.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from .checkpoint import record_evaluation


@dataclass
class LoopResult:
    stop_reason: str
    steps: int
    seconds: float
    best_state: dict | None = None       # the best-scoring weights (None without evaluations)
    history: list = field(default_factory=list)
    last_loss: float | None = None


def linear_schedule(optimizer, total_steps: int, warmup: float, done: int = 0):
    """transformers' linear warm-up then decay to zero (each parameter group from its own lr), moved on to step
    `done` when a run resumes."""
    schedule = get_linear_schedule_with_warmup(optimizer, max(1, int(warmup * total_steps)), total_steps)
    if done:
        with warnings.catch_warnings():  # resuming: the optimiser has not stepped in this process yet
            warnings.filterwarnings("ignore", message=".*lr_scheduler.step.*")
            schedule.last_epoch = done - 1
            schedule.step()
    return schedule


def train_loop(model, optimizer, step_loss: Callable[[int], torch.Tensor], total_steps: int, *, warmup: float,
               state: dict | None = None, best_state: dict | None = None, evaluate: Callable[[], float] | None = None,
               eval_at: Callable[[int], bool] = lambda step: False, patience: int | None = None,
               deadline: float | None = None, checkpoint=None, on_evaluation: Callable[[dict], dict | None] | None = None,
               max_grad_norm: float = 1.0, progress: bool = True, desc: str = "train") -> LoopResult:
    """Run optimisation steps from `state["step"]` (0 for a fresh `state`) to `total_steps`.

    - `step_loss(step)`: the loss of that step's batch (the model in train mode).
    - `evaluate()`: a score, higher is better (the model in eval mode), after steps where `eval_at(step)`, at the
      last step and when the deadline (a `time.time()` value) is passed; `patience` evaluations without gain stop.
    - `checkpoint`: a directory the run is checkpointed to at every evaluation (`state` is its loop state, as
      training/checkpoint.start_or_resume gives); `on_evaluation(entry)` may return extra tensors to keep there.
    """
    state = state if state is not None else {"step": 0, "best": -1.0, "best_step": 0, "bad_evals": 0,
                                             "elapsed": 0.0, "history": []}
    params = [p for p in model.parameters() if p.requires_grad]
    schedule = linear_schedule(optimizer, total_steps, warmup, state["step"])
    start = time.time() - state["elapsed"]
    step, loss, stop_reason = state["step"], None, "completed all steps"
    model.train()
    with tqdm(total=total_steps, initial=step, desc=desc, unit="step", disable=not progress, dynamic_ncols=True) as bar:
        while step < total_steps:
            loss = step_loss(step)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            out_of_time = deadline is not None and time.time() > deadline
            if evaluate is not None and (eval_at(step) or step == total_steps or out_of_time):
                model.eval()
                score = evaluate()
                model.train()
                entry = {"step": step, "loss": round(loss.item(), 4), "score": round(score, 4)}
                extra = on_evaluation(entry) if on_evaluation else None
                best_state = record_evaluation(state, entry, score, model, best_state, directory=checkpoint,
                                               optimizer=optimizer, elapsed=time.time() - start, extra=extra)
                bar.write(f"step {step}: validation {score:.3f} (best {state['best']:.3f})")
                if patience is not None and state["bad_evals"] >= patience:
                    stop_reason = f"early stop: no validation gain in {patience} evaluations"
                    break
            if out_of_time:
                stop_reason = "wall-clock budget reached"
                break
    model.eval()
    return LoopResult(stop_reason, step, time.time() - start, best_state, state["history"],
                      None if loss is None else loss.item())
