"""Weights on disk: safetensors for arrays, JSON for everything else. Nothing is unpickled.

A learner's `state_dict()` gives (tensors, meta). `pack` turns them into the bytes of a
.safetensors file and a manifest (algorithm, role, shapes, hyperparameters, sha256);
`unpack` checks the digest and returns them. Helpers flatten torch modules, optimisers
and random generators into plain arrays and JSON so that training resumes exactly.

Example:
    >>> import numpy as np
    >>> blob, manifest = pack({"w": np.ones((2, 3), np.float32)}, {"algorithm": "demo"})
    >>> tensors, meta = unpack(blob, manifest)
    >>> tensors["w"].shape, meta["algorithm"], len(manifest["sha256"])
    ((2, 3), 'demo', 64)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

import numpy as np
import torch
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from games.errors import LeagueError

FORMAT = "league-weights/1"


class CheckpointError(LeagueError, ValueError):
    """A weights file that is corrupt, tampered with, or not ours."""


def pack(tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """(safetensors bytes, manifest) for arrays `tensors` and JSON-able `meta`."""
    arrays = {name: _to_numpy(value) for name, value in tensors.items()}
    blob = st_save(arrays, metadata={"format": FORMAT})
    manifest = {
        "format": FORMAT,
        **json.loads(json.dumps(dict(meta))),  # fails early on anything JSON cannot hold
        "shapes": {name: list(a.shape) for name, a in sorted(arrays.items())},
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    return blob, manifest


def unpack(blob: bytes, manifest: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Check the digest and format, then load the arrays (no code runs: safetensors is data only)."""
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"not a league weights manifest (format {manifest.get('format')!r})")
    digest = hashlib.sha256(blob).hexdigest()
    if digest != manifest.get("sha256"):
        raise CheckpointError("the weights do not match their manifest (sha256 mismatch): corrupt or changed")
    try:
        arrays = st_load(blob)
    except Exception as error:  # noqa: BLE001 - any parse failure means a bad file
        raise CheckpointError(f"the weights file cannot be read: {error}") from None
    return arrays, dict(manifest)


def under(prefix: str, tensors: Mapping[str, Any]) -> dict[str, Any]:
    """The entries named `prefix.<rest>`, keyed by `<rest>`.

    Example:
        >>> under("buffer0", {"buffer0.obs": 1, "buffer1.obs": 2})
        {'obs': 1}
    """
    head = prefix + "."
    return {name[len(head):]: value for name, value in tensors.items() if name.startswith(head)}


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.float()
        value = value.numpy()
    return np.ascontiguousarray(np.asarray(value))


# -- flattening torch objects --------------------------------------------------------------

def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": _to_numpy(v) for k, v in module.state_dict().items()}


def load_module(prefix: str, module: torch.nn.Module, tensors: Mapping[str, np.ndarray]) -> None:
    own = module.state_dict()
    state = {}
    for key, current in own.items():
        name = f"{prefix}.{key}"
        if name not in tensors:
            raise CheckpointError(f"the checkpoint has no {name!r}")
        value = torch.from_numpy(np.array(tensors[name]))
        if tuple(value.shape) != tuple(current.shape):
            raise CheckpointError(f"{name!r} has shape {tuple(value.shape)}, the network expects {tuple(current.shape)}")
        state[key] = value.to(current.dtype)
    module.load_state_dict(state)


def optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Per-parameter optimiser state as arrays, param groups as JSON."""
    state = optimizer.state_dict()
    tensors = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            tensors[f"{prefix}.{index}.{key}"] = _to_numpy(value if isinstance(value, torch.Tensor) else torch.tensor(value))
    groups = [{k: v for k, v in group.items()} for group in state["param_groups"]]
    return tensors, {"param_groups": json.loads(json.dumps(groups, default=float))}


IMPLEMENTATION = ("fused", "foreach", "capturable", "differentiable")  # optimiser flags that are not state


def load_optimizer(prefix: str, optimizer: torch.optim.Optimizer, tensors: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if not name.startswith(prefix + "."):
            continue
        index, key = name[len(prefix) + 1:].split(".", 1)
        state.setdefault(int(index), {})[key] = torch.from_numpy(np.array(value))
    # how the optimiser computes (fused, foreach, ...) belongs to this machine, not to the file
    ours = optimizer.state_dict()["param_groups"]
    groups = [{**group, **{k: mine[k] for k in IMPLEMENTATION if k in mine}} for group, mine in zip(meta["param_groups"], ours)]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def torch_rng_tensors(prefix: str, generator: torch.Generator) -> dict[str, np.ndarray]:
    return {f"{prefix}.state": generator.get_state().numpy()}


def load_torch_rng(prefix: str, generator: torch.Generator, tensors: Mapping[str, np.ndarray]) -> None:
    generator.set_state(torch.from_numpy(np.array(tensors[f"{prefix}.state"], dtype=np.uint8)))


def numpy_rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """JSON-able state of a numpy Generator (Python ints are arbitrary precision in JSON)."""
    return rng.bit_generator.state


def load_numpy_rng(rng: np.random.Generator, state: Mapping[str, Any]) -> None:
    rng.bit_generator.state = dict(state)
