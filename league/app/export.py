"""Export a stored player as ONNX models that run without this project: one model per seat.

`export_player` writes a new directory: `manifest.json` (game and version, role, seats,
observation encoding, action meanings, rating at export, source snapshot sha256, project
version, check figures) and one `<seat>.onnx` per seat the player fills (a connect-four
player: player_0 and player_1; a VDN/QMIX team on simple_spread: agent_0 to agent_2).

Each model takes `obs` (batch, *obs_shape) float32 in the game's own encoding and
`action_mask` (batch, n_actions) float32 (nonzero = legal), and returns `probabilities`, the
masked distribution of the policy's evaluation behaviour (one-hot for greedy Q-learners),
and `action` (batch,) int64, the most probable legal action. Flattening, LayerNorm and the
seat's one-hot id are in the graph, so no seat input is needed. Continuous seats (MADDPG)
take `obs` only and return `action`.

The export checks itself before anything is put in place: it records the observations the
player sees in real games and requires onnxruntime to match the league's own policy within
`TOLERANCE` with the same greedy actions, else ExportError and nothing is left behind.
`verify_export` refuses models that no longer match the sha256 recorded at export.

The player `nash`, the pool's Nash mixture (the champion of a trained poker league), is
exported by `league.app.export_mixture` in the same layout.

Example:
    >>> import tempfile
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("empty", "connect_four", {})
    ...     try:
    ...         export_player(store, f"{tmp}/out", champion=True)
    ...     except ExportError as error:
    ...         print(str(error).replace(tmp, "TMP"))
    the league at TMP has no player with weights to export; train one first, e.g. `league train --run TMP`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import secrets
import shutil
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import games
from agents.base import NetworkPolicy, Policy
from agents.baselines import RandomPolicy
from agents.nets import legal_or_all, masked_log_probs
from games.base import Box, GameSpec, derive_seed
from games.errors import LeagueError
from league.app.mixture import champion_is_mixture
from league.play.entrants import EntrantError, load_snapshot
from league.play.mixture import MIXTURE_NAME
from league.play.runner import Entrant, GameTask, run
from league.rate.standings import standings
from league.store.database import Store, StoreError, sanitize_name
from league.store.exports import ExportCheckError, verify_export_dir
from league.store.files import check_export_out
from league.store.trust import load_stored_game
from league.train.selfplay import lineups

FORMAT = "league-export/1"
MANIFEST = "manifest.json"
TOLERANCE = 1e-5  # max |onnxruntime - torch| on any probability (or continuous action entry)
OPSET = 17
MAX_ROWS = 512  # recorded observations kept per seat for the check
ENGINES = {"openspiel": "open_spiel", "pettingzoo": "pettingzoo", "vmas": "vmas"}  # backend -> package


class ExportError(LeagueError, ValueError):
    """A player that cannot be exported, an export that failed its check, or a tampered export."""


@dataclass(frozen=True)
class ExportResult:
    """What `export_player` wrote and how well onnxruntime matched torch."""

    out: Path
    player: str
    role: str
    files: dict[str, str]  # seat -> file name
    observations: int  # recorded observations checked, over all seats
    max_abs_diff: float  # largest |onnxruntime - torch| over every output entry
    actions_agree: int  # greedy actions equal between onnxruntime and the league's policy
    notes: tuple[str, ...] = ()  # further lines for people (a mixture: its members and exploitability)
    checked_on: str = "recorded observations"  # what `observations` counts


# -- what the manifest says about known games --------------------------------------------------

ENCODINGS: dict[str, str] = {
    "connect_four": (
        "OpenSpiel observation_tensor, planes (3, 6, 7): plane 0 = player_0's pieces ('x', moves first), "
        "plane 1 = player_1's pieces ('o'), plane 2 = empty cells; row 0 is the BOTTOM row, column c is action c. "
        "Both seats see the same absolute board. From PettingZoo connect_four_v3 (6, 7, 2: own pieces, "
        "opponent's pieces, row 0 at the top): own, opp = np.moveaxis(o['observation'][::-1], 2, 0); "
        "planes 0, 1 = (own, opp) for player_0 and (opp, own) for player_1; plane 2 = 1 - own - opp."),
    "tic_tac_toe": (
        "OpenSpiel observation_tensor, planes (3, 3, 3): plane 0 = empty cells, plane 1 = player_1's marks ('o'), "
        "plane 2 = player_0's marks ('x', moves first); cell (r, c) is action 3 r + c."),
    "kuhn_poker": (
        "OpenSpiel information_state_tensor (11,): [0:2] one-hot of the seat, [2:5] one-hot of the private card "
        "(J, Q, K), [5:11] the betting so far, two entries (pass, bet) per round for up to three rounds."),
    "connect_four_pz": (
        "PettingZoo connect_four_v3 observation['observation'] as float32, (6, 7, 2): plane 0 = the acting "
        "player's pieces, plane 1 = the opponent's; row 0 is the TOP row; column c is action c."),
}


def describe_observation(spec: GameSpec, seat: str) -> str:
    if spec.name in ENCODINGS:
        return ENCODINGS[spec.name]
    if spec.backend == "openspiel":
        return (f"OpenSpiel's information_state_tensor (or observation_tensor where the game has none) of "
                f"{spec.source!r} for the seat's player, float32, shape {list(spec.seat(seat).obs_shape)}.")
    return (f"The {spec.backend} observation of agent {seat!r} of {spec.source!r} ('observation' entry of a dict "
            f"observation), float32, shape {list(spec.seat(seat).obs_shape)}.")


def action_meanings(spec: GameSpec, seat: str) -> list[str] | None:
    """Names of the actions where the game names them (the spec's action names; connect four's
    drop columns spelled out)."""
    n = spec.seat(seat).n_actions
    if spec.name in ("connect_four", "connect_four_pz"):
        return [f"drop a piece in column {a}" for a in range(n)]
    names = spec.seat(seat).action_names
    return list(names) if names is not None else None


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# -- torch graphs with the preprocessing baked in ------------------------------------------------

class SeatModel(nn.Module):
    """(obs, action_mask) -> (probabilities, action) for one discrete seat.

    `softmax`: the masked softmax of the scores (a stochastic actor); otherwise the one-hot of
    the greedy legal action (Q-learners, deterministic actors). A row with no legal action
    counts every action as legal, as the league's policies do.
    """

    def __init__(self, scores: nn.Module, n_actions: int, *, softmax: bool):
        super().__init__()
        self.scores, self.softmax = scores, softmax
        self.register_buffer("actions", torch.arange(n_actions))

    def forward(self, obs: torch.Tensor, action_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        legal = action_mask > 0.5  # (b, A)
        legal = legal | ((action_mask > 0.5).float().sum(1, keepdim=True) == 0)  # no legal action: all count
        s = self.scores(obs)  # (b, A)
        if self.softmax:
            probs = masked_log_probs(s, legal).exp()  # (b, A), exactly 0 where illegal
            action = torch.where(legal, probs, torch.full_like(probs, -1.0)).argmax(1)  # (b,)
        else:
            action = s.masked_fill(~legal, float("-inf")).argmax(1)  # (b,)
            probs = (self.actions.view(1, -1) == action.view(-1, 1)).float()  # (b, A) one-hot
        return probs, action


def seat_model(policy: Policy, spec: GameSpec, seat: str) -> tuple[nn.Module, str]:
    """The torch graph of `policy` for `seat`, and what the league plays with it
    ("greedy", "sample" or "continuous"). The policy exports itself (`NetworkPolicy.export_seat`);
    this adds the mask and the action for discrete seats."""
    if not isinstance(policy, NetworkPolicy):
        raise ExportError(f"cannot export a {type(policy).__name__}: only the network policies of learners "
                          f"(IQL, VDN, QMIX, MAPPO, MADDPG) export themselves.")
    exported = policy.export_seat(seat)
    seat_spec = spec.seat(seat)
    if not seat_spec.discrete:
        return exported.module.eval(), "continuous"
    return SeatModel(exported.module, seat_spec.n_actions, softmax=exported.softmax).eval(), exported.plays


def to_onnx(model: nn.Module, spec: GameSpec, seat: str, metadata: dict[str, str], *,
            member_input: bool = False) -> bytes:
    """Trace `model` into ONNX bytes with a dynamic batch axis and `metadata` in metadata_props.

    `member_input`: the model also takes `member` (batch,) int64 (a mixture's members in one graph)."""
    import onnx

    seat_spec = spec.seat(seat)
    obs = torch.zeros((2, *seat_spec.obs_shape))
    continuous = not seat_spec.discrete
    args = (obs,) if continuous else (obs, torch.ones((2, seat_spec.n_actions)))
    inputs = ["obs"] if continuous else ["obs", "action_mask"]
    if member_input:
        args, inputs = (*args, torch.zeros(2, dtype=torch.int64)), [*inputs, "member"]
    outputs = ["action"] if continuous else ["probabilities", "action"]
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        kwargs: dict[str, Any] = dict(input_names=inputs, output_names=outputs, opset_version=OPSET,
                                      dynamic_axes={name: {0: "batch"} for name in inputs + outputs})
        try:
            torch.onnx.export(model, args, buffer, dynamo=False, **kwargs)
        except TypeError:  # torch before 2.5 has no `dynamo` argument and traces anyway
            torch.onnx.export(model, args, buffer, **kwargs)
    proto = onnx.load_from_string(buffer.getvalue())
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


# -- recording observations and checking ----------------------------------------------------

def record_observations(game: games.Game, policy: Policy, role: str, *, n_games: int = 16,
                        seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(obs, mask) each seat of `role` saw when `policy` played `n_games` against uniform random."""
    spec = game.spec
    me, other = Entrant("export", policy), Entrant("random", RandomPolicy(spec))
    options = lineups(spec, role, me, other)
    tasks = [GameTask(index=j, seed=derive_seed(seed, 0xE4, j // len(options)), lineup=options[j % len(options)])
             for j in range(max(n_games, len(options)))]
    seen: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def capture(batch) -> None:
        for seat in batch.obs:
            rows = np.flatnonzero(batch.rows_of(me.name, seat))
            if len(rows):
                seen.setdefault(seat, []).append((batch.obs[seat][rows].copy(), batch.mask[seat][rows].copy()))

    run(game, tasks, batch=len(tasks), on_step=capture, collect=False)
    out = {}
    for seat, parts in seen.items():
        obs = np.concatenate([o for o, _ in parts])[:MAX_ROWS].astype(np.float32)
        mask = np.concatenate([m for _, m in parts])[:MAX_ROWS]
        out[seat] = (obs, mask)
    return out


def check_seat(onnx_bytes: bytes, policy: NetworkPolicy, spec: GameSpec, seat: str, obs: np.ndarray,
               mask: np.ndarray) -> tuple[float, int]:
    """(max |difference|, greedy actions agreeing) between onnxruntime and the league's policy."""
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    seat_spec = spec.seat(seat)
    keys = np.arange(len(obs), dtype=np.int64)
    if isinstance(seat_spec.action, Box):
        (got,) = session.run(None, {"obs": obs})
        want = policy.act(obs, mask, seat=seat, keys=keys, explore=False)
        return float(np.abs(got - want).max(initial=0.0)), len(obs)
    probs, action = session.run(None, {"obs": obs, "action_mask": mask.astype(np.float32)})
    one, _ = session.run(None, {"obs": obs[:1], "action_mask": mask[:1].astype(np.float32)})  # batch of one
    legal = legal_or_all(mask)
    want = np.asarray(policy.probabilities(obs, mask, seat=seat), dtype=np.float64)  # (b, A)
    want_action = np.where(legal, want, -1.0).argmax(1)
    diff = max(float(np.abs(probs - want).max(initial=0.0)), float(np.abs(one - want[:1]).max(initial=0.0)))
    return diff, int((action == want_action).sum())


# -- the export -------------------------------------------------------------------------------

def find_champion(store: Store) -> str:
    """The best-ranked player (conservative TrueSkill) that has weights."""
    for standing in standings(store):
        player = store.player(standing.name)
        if player is not None and player.weights_path:
            return standing.name
    raise ExportError(f"the league at {store.run_dir} has no player with weights to export; "
                      f"train one first, e.g. `league train --run {store.run_dir}`.")


def export_player(store: Store, out: str | Path, *, player: str | None = None, champion: bool = False,
                  force: bool = False, n_games: int = 16, seed: int = 0) -> ExportResult:
    """Export `player` (or the champion) of the run into the new directory `out`; see the module doc.

    `player="nash"` exports the pool's Nash mixture (`league.app.export_mixture`); so does `champion`
    in a trained imperfect-information league whose mixture can be tabulated (poker), where the
    meta-strategy, not one snapshot, is the league's best player."""
    out = Path(out)
    if (player is None) == (not champion):
        raise ExportError("name exactly one of --champion and --player NAME.")
    try:
        check_export_out(out, force=force)  # --force replaces an earlier export, never a run or other files
    except StoreError as error:
        raise ExportError(str(error)) from None
    info = store.run_info()
    if info is None:
        raise ExportError(f"the league at {store.run_dir} has no game yet; train or play a tournament first.")
    try:
        game = load_stored_game(info["game"])  # stored data is never code: a module game is refused
    except LeagueError as error:
        raise ExportError(str(error)) from None
    spec = game.spec
    if player == MIXTURE_NAME or (champion and champion_is_mixture(store, spec)):
        from league.app.export_mixture import export_mixture  # it builds on this module's pieces

        return export_mixture(store, out, game, force=force, n_games=n_games, seed=seed)
    name = find_champion(store) if champion else str(player)
    record = store.player(name)
    if record is None:
        raise ExportError(f"no player {name!r} in {store.run_dir}; `league leaderboard` lists them.")
    if not record.weights_path:
        frozen = [p.name for p in store.players() if p.parent == name and p.weights_path]
        hint = f"; export one of its snapshots: {', '.join(frozen)}" if frozen else ""
        raise ExportError(f"player {name!r} is a {record.kind} without stored weights{hint}.")
    try:
        policy = load_snapshot(store, record, spec)
    except (EntrantError, StoreError) as error:
        raise ExportError(str(error)) from None
    role = record.role or (spec.roles[0] if len(spec.roles) == 1 else None)
    if role not in spec.roles:
        raise ExportError(f"player {name!r} names no role of {spec.name} ({role!r}); roles: {', '.join(spec.roles)}.")
    seats = [s for side in spec.sides_for_role(role) for s in side.seats]
    reason = policy.unsupported(spec, seats)
    if reason:
        raise ExportError(f"player {name!r} cannot be exported for role {role!r}: {reason}.")

    recorded = record_observations(game, policy, role, n_games=n_games, seed=seed)
    files, blobs, seat_info = {}, {}, {}
    diff, agree, total = 0.0, 0, 0
    for seat in seats:
        model, plays = seat_model(policy, spec, seat)
        file = f"{sanitize_name(seat)}.onnx"
        blob = to_onnx(model, spec, seat, {"format": FORMAT, "game": spec.name, "seat": seat, "player": name})
        if seat not in recorded:
            raise ExportError(f"no observations of seat {seat!r} were recorded to check the export against.")
        obs, mask = recorded[seat]
        seat_diff, seat_agree = check_seat(blob, policy, spec, seat, obs, mask)
        diff, agree, total = max(diff, seat_diff), agree + seat_agree, total + len(obs)
        if not seat_diff <= TOLERANCE or seat_agree != len(obs):
            raise ExportError(f"the ONNX model of seat {seat!r} does not match the league's policy (max difference "
                              f"{seat_diff:.3g} > {TOLERANCE:g}, or {len(obs) - seat_agree} of {len(obs)} greedy actions "
                              f"differ); nothing was written.")
        files[seat], blobs[file] = file, blob
        seat_info[seat] = seat_entry(spec, seat, file, blob, plays, len(obs), seat_diff)
    manifest = _manifest(store, spec, info["game"], record, role, seat_info, diff, agree, total)
    write_atomically(out, blobs, manifest, force=force)
    store.write_file(f"exports/{sanitize_name(name)}.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return ExportResult(out, name, role, files, total, diff, agree)


PLAYS = {"greedy": "the `action` output (the most probable legal action)",
         "sample": "a sample from `probabilities` (the `action` output is its mode)", "continuous": "the `action` output"}


def seat_entry(spec: GameSpec, seat: str, file: str, blob: bytes, plays: str, rows: int, diff: float) -> dict:
    s = spec.seat(seat)
    box = isinstance(s.action, Box)
    return {
        "file": file, "sha256": hashlib.sha256(blob).hexdigest(), "side": spec.sides[spec.side_of(seat)].name,
        "inputs": {"obs": ["batch", *s.obs_shape], **({} if box else {"action_mask": ["batch", s.n_actions]})},
        "outputs": {"action": ["batch", *s.action.shape]} if box else {"probabilities": ["batch", s.n_actions],
                                                                       "action": ["batch"]},
        "league_plays": PLAYS[plays], "observation": describe_observation(spec, seat),
        "actions": action_meanings(spec, seat), "check": {"observations": rows, "max_abs_diff": diff},
    }


def manifest_head(spec: GameSpec, ref: str, player: str, algorithm: str | None, role: str,
                  seats: dict) -> dict[str, Any]:
    """The manifest fields every export shares: format, project, game, player, role, sides, seats."""
    return {
        "format": FORMAT,
        "project": {"name": "league", "version": version_of("league")},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "game": {"name": spec.name, "ref": ref, "backend": spec.backend, "source": spec.source,
                 "engine": ENGINES[spec.backend], "engine_version": version_of(ENGINES[spec.backend]),
                 "kind": spec.kind, "turn_based": spec.turn_based},
        "player": player, "algorithm": algorithm, "role": role,
        "sides": [side.name for side in spec.sides_for_role(role)],
        "seats": seats,
        "mask": "action_mask is float32, nonzero = legal; a row with no legal action counts every action as legal",
    }


def manifest_check(diff: float, agree: int, total: int) -> dict[str, Any]:
    """The manifest's record of the onnxruntime check made before writing."""
    return {"runtime": "onnxruntime", "tolerance": TOLERANCE, "observations": total, "max_abs_diff": diff,
            "greedy_actions_agree": agree}


def _manifest(store: Store, spec: GameSpec, ref: str, record, role: str, seats: dict, diff: float, agree: int,
              total: int) -> dict[str, Any]:
    rating = store.rating(record.name)
    rank = next((s.rank for s in standings(store) if s.name == record.name), None)
    return {
        **manifest_head(spec, ref, record.name, record.algorithm, role, seats),
        "rating": None if rating is None else {"system": "trueskill", "mu": rating[0], "sigma": rating[1],
                                               "conservative": rating[0] - 3 * rating[1], "games": rating[2], "rank": rank},
        "source": {"run": str(store.run_dir), "weights_sha256": record.weights_sha256,
                   "manifest_sha256": (record.meta or {}).get("manifest_sha256"), "step": record.step,
                   "parent": record.parent},
        "check": manifest_check(diff, agree, total),
    }


def write_atomically(out: Path, blobs: dict[str, bytes], manifest: dict, *, force: bool) -> None:
    """Write into a hidden sibling directory, then rename it into place (replacing `out` under --force)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{secrets.token_hex(6)}.tmp"
    old = out.parent / f".{out.name}.{secrets.token_hex(6)}.old"
    try:
        tmp.mkdir()
        for file, blob in blobs.items():
            (tmp / file).write_bytes(blob)
        (tmp / MANIFEST).write_bytes((json.dumps(manifest, indent=2) + "\n").encode())
        if out.exists():
            if not force:
                raise ExportError(f"{out} already exists; choose another --out or pass --force to replace it.")
            out.rename(old)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


# -- verification -----------------------------------------------------------------------------

def verify_export(directory: str | Path, store: Store | None = None) -> dict[str, Any]:
    """The manifest of an export whose models match their recorded sha256; else ExportError.

    With the run's `store`, the sha256s must also equal those the run recorded at export time.
    The check itself is the store's (`league.store.exports.verify_export_dir`).
    """
    try:
        return verify_export_dir(directory, store).manifest
    except ExportCheckError as error:
        raise ExportError(str(error)) from None
