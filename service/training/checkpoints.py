"""The trainer's checkpoint: one dict, written atomically, loadable weights_only; written
after every epoch, and within a long one every so often (trainer.CHECKPOINT_EVERY_S).

It is written to the artifact store's Checkpoint of the job (a file in a folder, or an
object replaced by one PUT), so a job resumes on any machine that reaches the store.

With the model, the optimizer and scheduler state and both RNG states, the loop state below
is everything a run needs to resume and end on the weights an uninterrupted run ends on.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from service.artifacts import Checkpoint, FolderCheckpoint
from service.zoo.spec import ModelSpec

CHECKPOINT_FORMAT = 1


@dataclass
class EpochProgress:
    """How far a checkpoint within an epoch got: a resume draws the epoch's order again
    (shuffle_rng, the shuffle generator's state before the epoch's draw; a streamed
    epoch's order is fixed by (seed, epoch)), skips the batches done and goes on with
    the loss sums; the noise generator's state is the checkpoint's own, from now."""

    batch: int = 0  # batches done in the epoch
    loss_sum: float = 0.0  # sum over the rows done of their batch's loss
    rows: int = 0  # rows done
    time_s: float = 0.0  # the epoch's training time so far
    shuffle_rng: torch.Tensor | None = None

    def saved(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "loss_sum": self.loss_sum,
            "rows": self.rows,
            "time_s": self.time_s,
        }


@dataclass
class LoopState:
    """The loop's progress; with the model, optimizer and RNGs it is the checkpoint."""

    stage: int = 0
    epoch: int = 0  # epochs done in this stage
    best_score: float = float("inf")
    best_epoch: int = 0
    best_weights: dict[str, torch.Tensor] | None = None
    bad_epochs: int = 0
    train_time_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    within: EpochProgress | None = None  # a checkpoint within the next epoch: how far


def state_copy(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the module's state_dict."""
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def as_checkpoint(where: Checkpoint | Path) -> Checkpoint:
    """A Path is a checkpoint file in a folder (the trainer's own tests pass one)."""
    return FolderCheckpoint(where) if isinstance(where, Path) else where


def save_checkpoint(
    checkpoint: Checkpoint,
    *,
    spec: ModelSpec,
    shape: list[int],
    model: nn.Module,
    state: LoopState,
    optimizer: Any,
    scheduler: Any,
    rngs: tuple[torch.Generator, torch.Generator],
    carried: dict[str, Any] | None = None,
    within: EpochProgress | None = None,
) -> None:
    """Write atomically: a crash leaves the previous checkpoint, never half of one.

    shape is [n_train, n_val, n_features]; rngs are (shuffle, noise) generators; carried
    is what a second training keeps of the job's first (trainer.train), plain values;
    within: how far into the next epoch (state.epoch + 1) a checkpoint within it got.
    """
    shuffle_gen, noise_gen = rngs
    shuffle_rng = shuffle_gen.get_state()
    if within is not None and within.shuffle_rng is not None:
        shuffle_rng = within.shuffle_rng
    payload = {
        "format": CHECKPOINT_FORMAT,
        "spec": spec.model_dump_json(),
        "shape": shape,
        "model": state_copy(model),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "stage": state.stage,
        "epoch": state.epoch,
        "best_score": state.best_score,
        "best_epoch": state.best_epoch,
        "best_weights": state.best_weights,
        "bad_epochs": state.bad_epochs,
        "train_time_s": state.train_time_s,
        "history": state.history,
        "shuffle_rng": shuffle_rng,
        "noise_rng": noise_gen.get_state(),
        "carried": carried,
        "within": None if within is None else within.saved(),
    }
    # Serialised in memory first: torch.save into a file reports a full disk as a bare
    # RuntimeError, a plain write says ENOSPC (and a full disk must leave no .tmp behind);
    # an object store takes it as one PUT.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    checkpoint.write(buffer.getvalue())


def _spec_of(ck: dict[str, Any]) -> ModelSpec | None:
    """The spec a checkpoint belongs to, read as a stored spec: one written before a field
    existed reads with the field's stored default, as the job's own spec does."""
    try:
        return ModelSpec.stored(json.loads(ck["spec"]))
    except (KeyError, TypeError, ValueError):
        return None


def checkpoint_header(checkpoint: Checkpoint) -> tuple[ModelSpec | None, dict[str, Any] | None]:
    """(the spec a stored checkpoint belongs to, what it carries from an earlier training
    of the same job); (None, None) where there is none."""
    data = checkpoint.read()
    if data is None:
        return None, None
    ck = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    if not isinstance(ck, dict):
        return None, None
    carried = ck.get("carried")
    return _spec_of(ck), carried if isinstance(carried, dict) else None


def load_checkpoint(
    checkpoint: Checkpoint,
    *,
    spec: ModelSpec,
    shape: list[int],
    model: nn.Module,
    rngs: tuple[torch.Generator, torch.Generator],
) -> tuple[LoopState, dict[str, Any]]:
    """Restore model and RNGs in place; return the loop state and the raw checkpoint."""
    data = checkpoint.read()
    if data is None:
        raise FileNotFoundError(f"no checkpoint at {checkpoint.uri}")
    ck = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    where = checkpoint.uri
    if ck.get("format") != CHECKPOINT_FORMAT or _spec_of(ck) != spec:
        raise ValueError(f"checkpoint {where} belongs to another spec or format; delete it")
    if ck["shape"] != shape:
        raise ValueError(f"checkpoint {where} was trained on data of another shape")
    model.load_state_dict(ck["model"])
    shuffle_gen, noise_gen = rngs
    shuffle_gen.set_state(ck["shuffle_rng"])
    noise_gen.set_state(ck["noise_rng"])
    state = LoopState(
        stage=ck["stage"],
        epoch=ck["epoch"],
        best_score=ck["best_score"],
        best_epoch=ck["best_epoch"],
        best_weights=ck["best_weights"],
        bad_epochs=ck["bad_epochs"],
        train_time_s=ck["train_time_s"],
        history=ck["history"],
        within=_progress(ck.get("within")),  # absent from a checkpoint of before
    )
    return state, ck


def _progress(saved: Any) -> EpochProgress | None:
    if not isinstance(saved, dict):
        return None
    return EpochProgress(
        batch=int(saved["batch"]),
        loss_sum=float(saved["loss_sum"]),
        rows=int(saved["rows"]),
        time_s=float(saved["time_s"]),
    )
