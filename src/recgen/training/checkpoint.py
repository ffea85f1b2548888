"""Resumable training checkpoints: safetensors + JSON, written atomically, never pickled.

Layout of ``checkpoint_dir/last/``:

- ``tensors.safetensors``: ``module.<name>`` (weights), ``best.<name>`` (best validated weights),
  ``optim.<opt>.<param>.<key>`` (optimiser state tensors), ``rng.<stream>`` (generator states, uint8).
- ``trainer.json``: epoch, update count, history, best epoch/metric, early-stopping counter, optimiser
  hyperparameters (param groups) and non-tensor state, the run's config.

The directory is replaced in one rename, so a kill leaves either the previous or the new checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from recgen._io import atomic_dir
from recgen.errors import ArtifactError

CHECKPOINT_VERSION = 1
LAST = "last"


def optimizer_parts(name: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser's ``state_dict`` into tensors (for safetensors) and JSON-able values."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for key, value in st.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{name}.{pid}.{key}"] = value.detach().cpu().clone().contiguous()
            else:
                plain.setdefault(str(pid), {})[key] = value
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "state": plain}


def load_optimizer_parts(name: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                         meta: dict[str, Any]) -> None:
    """Inverse of :func:`optimizer_parts`: restore ``opt`` exactly."""
    state: dict[int, dict[str, Any]] = {}
    prefix = f"optim.{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            pid, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[field] = value
    for pid, fields in meta.get("state", {}).items():
        state.setdefault(int(pid), {}).update(fields)
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
              for g in meta["param_groups"]]
    opt.load_state_dict({"state": state, "param_groups": groups})


def save_checkpoint(directory: str | os.PathLike[str], tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Atomically write ``directory/last`` with ``tensors`` and ``meta``."""
    target = Path(directory) / LAST
    cpu = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    with atomic_dir(target) as tmp:
        save_file(cpu, str(tmp / "tensors.safetensors"))
        (tmp / "trainer.json").write_text(json.dumps({"version": CHECKPOINT_VERSION, **meta}, indent=1) + "\n",
                                          encoding="utf-8")
    return target


def load_checkpoint(directory: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """Read ``directory/last``; ``None`` when no checkpoint was written yet."""
    target = Path(directory) / LAST
    if not (target / "trainer.json").is_file():
        return None
    try:
        meta = json.loads((target / "trainer.json").read_text(encoding="utf-8"))
        tensors = load_file(str(target / "tensors.safetensors"), device="cpu")
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"checkpoint {str(target)!r} cannot be read ({exc}); delete it to start afresh.") from exc
    if meta.get("version") != CHECKPOINT_VERSION:
        raise ArtifactError(f"checkpoint {str(target)!r} has version {meta.get('version')!r}, this recgen reads "
                            f"{CHECKPOINT_VERSION}; delete it to start afresh.")
    return tensors, meta
