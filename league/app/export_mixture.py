"""Export the pool's Nash mixture (`league export --player nash`) as ONNX models that run without
this project, in the directory layout of any other export (`league.app.export`).

Two constructions, named in the manifest's `mixture.construction`:

- `exact` (games whose information states can be enumerated: poker): each `<seat>.onnx` is a
  table lookup, information-state tensor -> the mixture's behaviour policy there (members
  weighted by weight times their own reach; see `league.play.mixture`). It plays like the
  mixture move by move, so it needs no state between moves. Before anything is written,
  onnxruntime must reproduce the table on every information state within `TOLERANCE`, and
  the exploitability of the ONNX tables must equal the league's own figure within
  `EXPLOITABILITY_TOLERANCE`.
- `sampled` (larger games): each `<seat>.onnx` holds every member with positive weight and
  takes a third input, `member` (batch,) int64. Draw a member with the manifest's weights at
  the start of each game and pass it at every move of that game; that is the mixture. Each
  member's outputs are checked against its own policy on recorded observations.

Example:
    >>> import tempfile
    >>> import games
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("empty", "kuhn_poker", {})
    ...     try:
    ...         export_mixture(store, f"{tmp}/out", games.load("kuhn_poker"))
    ...     except ExportError as error:
    ...         print(str(error).replace(tmp, "TMP"))
    the league at TMP has no Nash mixture to export: it is the meta-game mixture of a trained pool; train one first, e.g. `league train --run TMP`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from agents.base import PolicyError
from games.base import Game, GameSpec
from league.app.export import (
    FORMAT,
    TOLERANCE,
    ExportError,
    ExportResult,
    manifest_check,
    manifest_head,
    record_observations,
    seat_entry,
    seat_model,
    to_onnx,
    write_atomically,
)
from league.app.mixture import refresh_mixture
from league.play.entrants import EntrantError, resolve
from league.play.mixture import (
    MIXTURE_NAME,
    Mixture,
    MixtureError,
    NotTabularError,
    SeatTable,
    TabularMixture,
    aggregate,
    tabular_reason,
)
from league.rate.exact import exploitability
from league.store.database import Store, sanitize_name

EXPLOITABILITY_TOLERANCE = 1e-6  # |exploitability of the ONNX tables - the league's figure|


class TableModel(nn.Module):
    """(obs, action_mask) -> (probabilities, action): the table row whose information-state tensor is
    nearest to `obs` (equal, for every state of the game), masked to the legal actions."""

    def __init__(self, table: SeatTable):
        super().__init__()
        keys = torch.as_tensor(table.keys, dtype=torch.float32)  # (K, D)
        self.register_buffer("keys", keys)
        self.register_buffer("key_norms", (keys * keys).sum(1))  # (K,)
        self.register_buffer("probs", torch.as_tensor(table.probs, dtype=torch.float32))  # (K, A)

    def forward(self, obs: torch.Tensor, action_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = obs.flatten(1)  # (b, D)
        distance = self.key_norms.unsqueeze(0) - 2.0 * flat @ self.keys.T  # (b, K), |obs|^2 left out: same per row
        probs = self.probs[distance.argmin(1)]  # (b, A)
        legal = action_mask > 0.5  # (b, A)
        legal = legal | (legal.float().sum(1, keepdim=True) == 0)  # no legal action: all count
        probs = probs * legal.float()
        total = probs.sum(1, keepdim=True)  # (b, 1)
        uniform = legal.float() / legal.float().sum(1, keepdim=True)
        probs = torch.where(total > 0, probs / total.clamp_min(1e-30), uniform)
        action = torch.where(legal, probs, torch.full_like(probs, -1.0)).argmax(1)  # (b,)
        return probs, action


class MembersModel(nn.Module):
    """(obs, action_mask, member) -> (probabilities, action) of member `member` (one per row)."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, obs: torch.Tensor, action_mask: torch.Tensor,
                member: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = [m(obs, action_mask) for m in self.members]
        probs = torch.stack([p for p, _ in outputs], 1)  # (b, M, A)
        actions = torch.stack([a for _, a in outputs], 1)  # (b, M)
        pick = member.clamp(0, len(self.members) - 1).view(-1, 1)  # (b, 1)
        chosen = probs.gather(1, pick.unsqueeze(2).expand(-1, 1, probs.shape[2])).squeeze(1)  # (b, A)
        return chosen, actions.gather(1, pick).squeeze(1)


class OnnxTables:
    """The exported models as a policy with `probabilities`, to measure them with OpenSpiel."""

    def __init__(self, blobs: dict[str, bytes]):
        import onnxruntime

        self.sessions = {seat: onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
                         for seat, blob in blobs.items()}

    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str) -> np.ndarray:
        probs, _ = self.sessions[seat].run(None, {"obs": np.asarray(obs, np.float32),
                                                  "action_mask": np.asarray(mask, np.float32)})
        return probs


def export_mixture(store: Store, out: str | Path, game: Game, *, force: bool = False, n_games: int = 16,
                   seed: int = 0) -> ExportResult:
    """Export the run's Nash mixture of `game` into the directory `out`, which `export_player`
    has checked (new, or an earlier export with `force`); see the module doc."""
    out = Path(out)
    info = store.run_info()
    spec = game.spec
    try:
        mixture = refresh_mixture(store, spec)
        if mixture is None:
            raise ExportError(f"the league at {store.run_dir} has no Nash mixture to export: it is the meta-game "
                              f"mixture of a trained pool; train one first, e.g. `league train --run {store.run_dir}`.")
        names, weights = mixture.playing()
        policies = [e.policy for e in resolve(list(names), spec, store)]
    except (MixtureError, EntrantError, PolicyError) as error:
        raise ExportError(str(error)) from None
    tabular = None
    if tabular_reason(spec) is None:
        try:
            tabular = aggregate(spec, policies, weights)
        except NotTabularError:  # ship the members for per-game sampling instead
            tabular = None
        except (MixtureError, PolicyError) as error:
            raise ExportError(str(error)) from None
    if tabular is not None:
        blobs, seats, rows, diff, agree, value = _exact(spec, tabular, mixture)
        construction = "exact"
    else:
        blobs, seats, rows, diff, agree = _sampled(game, policies, names, mixture.role, n_games, seed)
        construction, value = "sampled", None
    files = {seat: entry["file"] for seat, entry in seats.items()}
    manifest = _manifest(store, spec, info["game"], mixture, construction, seats, diff, agree, rows, value)
    write_atomically(out, {entry["file"]: blobs[seat] for seat, entry in seats.items()}, manifest, force=force)
    store.write_file(f"exports/{sanitize_name(MIXTURE_NAME)}.json", (json.dumps(manifest, indent=2) + "\n").encode())
    notes = [f"the Nash mixture of {len(names)} of {len(mixture.members)} pool members "
             f"({', '.join(f'{n} {w:.3f}' for n, w in zip(names, weights))}), {construction}"]
    if value is not None:
        notes.append(f"exploitability of the exported models {value:.6f}; the league's figure {mixture.exploitability:.6f}")
    checked_on = "information states (all of the game)" if construction == "exact" else "recorded observations"
    return ExportResult(out, MIXTURE_NAME, mixture.role, files, rows, diff, agree, tuple(notes), checked_on)


def _exact(spec: GameSpec, tabular: TabularMixture, mixture: Mixture):
    """Table models per seat, checked on every information state and by their exploitability."""
    blobs, seats, rows, diff, agree = {}, {}, 0, 0.0, 0
    for seat, table in tabular.tables.items():
        blob = to_onnx(TableModel(table).eval(), spec, seat,
                       {"format": FORMAT, "game": spec.name, "seat": seat, "player": MIXTURE_NAME})
        probs, action = OnnxTables({seat: blob}).sessions[seat].run(None, {
            "obs": table.keys.reshape(len(table.keys), *spec.seat(seat).obs_shape),
            "action_mask": table.masks.astype(np.float32)})
        seat_diff = float(np.abs(probs - table.probs).max(initial=0.0))
        best = table.probs[np.arange(len(action)), action] >= table.probs.max(1) - TOLERANCE  # (K,) a mode
        if not seat_diff <= TOLERANCE or not best.all():
            raise ExportError(f"the ONNX table of seat {seat!r} does not reproduce the mixture (max difference "
                              f"{seat_diff:.3g} > {TOLERANCE:g}, or {int((~best).sum())} actions not its mode); "
                              f"nothing was written.")
        blobs[seat] = blob
        seats[seat] = seat_entry(spec, seat, f"{sanitize_name(seat)}.onnx", blob, "sample", len(table.keys), seat_diff)
        rows, diff, agree = rows + len(table.keys), max(diff, seat_diff), agree + int(best.sum())
    value = None
    if mixture.exploitability is not None:
        value = exploitability(OnnxTables(blobs), spec)
        if not abs(value - mixture.exploitability) <= EXPLOITABILITY_TOLERANCE:
            raise ExportError(f"the exported mixture's exploitability {value:.6g} differs from the league's "
                              f"{mixture.exploitability:.6g} by more than {EXPLOITABILITY_TOLERANCE:g}; nothing was written.")
    return blobs, seats, rows, diff, agree, value


def _sampled(game: Game, policies: Sequence[Any], names: Sequence[str], role: str, n_games: int, seed: int):
    """One model per seat holding every member, checked per member on the observations it sees."""
    spec = game.spec
    seat_names = [s for side in spec.sides_for_role(role) for s in side.seats]
    recorded = [record_observations(game, policy, role, n_games=n_games, seed=seed) for policy in policies]
    blobs, seats, rows, diff, agree = {}, {}, 0, 0.0, 0
    for seat in seat_names:
        if not spec.seat(seat).discrete:
            raise ExportError(f"a mixture is exported for discrete seats only; seat {seat!r} is continuous.")
        models = [seat_model(policy, spec, seat)[0] for policy in policies]
        blob = to_onnx(MembersModel(models).eval(), spec, seat,
                       {"format": FORMAT, "game": spec.name, "seat": seat, "player": MIXTURE_NAME}, member_input=True)
        session = OnnxTables({seat: blob}).sessions[seat]
        seat_rows, seat_diff, seat_agree = 0, 0.0, 0
        for k, (policy, seen) in enumerate(zip(policies, recorded)):
            if seat not in seen:
                continue
            obs, mask = seen[seat]
            got, action = session.run(None, {"obs": obs, "action_mask": mask.astype(np.float32),
                                             "member": np.full(len(obs), k, dtype=np.int64)})
            want = np.asarray(policy.probabilities(obs, mask, seat=seat), dtype=np.float64)  # (b, A)
            seat_diff = max(seat_diff, float(np.abs(got - want).max(initial=0.0)))
            seat_agree += int((want[np.arange(len(action)), action] >= want.max(1) - TOLERANCE).sum())
            seat_rows += len(obs)
        if not seat_diff <= TOLERANCE or seat_agree != seat_rows or not seat_rows:
            raise ExportError(f"the ONNX model of seat {seat!r} does not match the mixture's members (max difference "
                              f"{seat_diff:.3g} > {TOLERANCE:g}, or {seat_rows - seat_agree} of {seat_rows} greedy "
                              f"actions differ); nothing was written.")
        entry = seat_entry(spec, seat, f"{sanitize_name(seat)}.onnx", blob, "sample", seat_rows, seat_diff)
        entry["inputs"]["member"] = ["batch"]
        blobs[seat], seats[seat] = blob, entry
        rows, diff, agree = rows + seat_rows, max(diff, seat_diff), agree + seat_agree
    return blobs, seats, rows, diff, agree


HOW = {
    "exact": ("Each model is the mixture's behaviour policy as a table over the game's information states: feed "
              "the information-state tensor and the legal actions at every move and sample from `probabilities`; "
              "no member is drawn and nothing is kept between moves. An observation that is no information state "
              "of the game gets the nearest state's row."),
    "sampled": ("Each model holds every member listed here, in this order, and takes `member` (batch,) int64. At "
                "the start of each game draw member k with probability `weight`, pass it at every move of that "
                "game, and sample from `probabilities`; that is the mixture."),
}


def _manifest(store: Store, spec: GameSpec, ref: str, mixture: Mixture, construction: str, seats: dict, diff: float,
              agree: int, total: int, value: float | None) -> dict[str, Any]:
    names, weights = mixture.playing()
    members = []
    for name, weight in zip(names, weights):
        player = store.player(name)
        members.append({"name": name, "weight": weight, "kind": player.kind if player else "baseline",
                        "algorithm": player.algorithm if player else None, "step": player.step if player else None,
                        "weights_sha256": player.weights_sha256 if player else None})
    return {
        **manifest_head(spec, ref, MIXTURE_NAME, "nash mixture", mixture.role, seats),
        "rating": None,
        "mixture": {"construction": construction, "how_to_play": HOW[construction], "members": members,
                    "weights_from": mixture.source, "exploitability": mixture.exploitability,
                    "exploitability_of_export": value,
                    "sha256": hashlib.sha256(json.dumps(mixture.to_json(), sort_keys=True).encode()).hexdigest()},
        "source": {"run": str(store.run_dir), "weights_sha256": None, "manifest_sha256": None, "step": None,
                   "parent": None},
        "check": manifest_check(diff, agree, total),
    }
