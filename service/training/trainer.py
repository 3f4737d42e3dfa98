"""The training loop: flat, seeded, checkpointed every epoch, resumable, early-stopped.

One call to `train` turns a spec and a raw float32 matrix into a ServingModel and the
metrics its version records. Everything random draws from explicit torch.Generator objects
so that a checkpoint (loadable with weights_only=True) carries the whole RNG state: same
spec and seed give the same weights on CPU, and so does a run resumed from any epoch, or
from within one (an epoch longer than CHECKPOINT_EVERY_S is checkpointed within too).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from service.artifacts import Checkpoint
from service.datasets.chunks import ChunkedRows
from service.training.checkpoints import (
    EpochProgress,
    LoopState,
    as_checkpoint,
    checkpoint_header,
    load_checkpoint,
    save_checkpoint,
    state_copy,
)
from service.training.data import (
    Scan,
    StreamSplit,
    TrainingFailed,
    TrainingInterrupted,
    check_stop,
    scan_rows,
    split_rows,
)
from service.training.prepare import Context, prepare, prepare_stream
from service.zoo.auto import resolve_spec, with_linear_path
from service.zoo.metrics import quality_metrics
from service.zoo.objective import layer_loss, layer_parameters, network_loss
from service.zoo.profile import DataProfile, profile_data
from service.zoo.serving import ServingModel, score_trim, serving_config
from service.zoo.spec import (
    ModelSpec,
    batch_size_of,
    check_spec,
    hidden_sizes_of,
    patience_of,
)

__all__ = [
    "BatchReport",
    "EpochReport",
    "TrainResult",
    "TrainingFailed",
    "TrainingInterrupted",
    "split_rows",
    "train",
]
_EVAL_ROWS = 4096  # rows per forward pass outside training
_PLATEAU_PATIENCE = 3  # epochs without improvement before 'plateau' halves the lr
_ONE_THREAD_MACS = 2**24  # weights x batch rows below which a CPU step runs on one thread
# Within an epoch, on_batch is called at most this often: an epoch of a large dataset takes
# minutes, and each call is a database write (a progress row and an event) in a worker.
BATCH_REPORT_EVERY_S = 5.0
# Within an epoch, a checkpoint is written at most this often (and an epoch shorter than
# this has none but its own): a worker killed mid-epoch loses at most this much of it, and
# each is a write of the model, the optimizer and the best weights to the artifact store.
CHECKPOINT_EVERY_S = 60.0


@dataclass
class EpochReport:
    epoch: int  # 1-based, counted over all stages
    epochs: int  # planned epochs over all stages
    train_loss: float
    val_loss: float
    samples_per_s: float
    stage: str  # "end_to_end", "layer 1/3", ..., "fine_tune"


@dataclass
class BatchReport:
    """How far into an epoch training is (on_batch, at most every BATCH_REPORT_EVERY_S)."""

    epoch: int  # 1-based, counted over all stages: the epoch under way
    epochs: int  # planned epochs over all stages
    batch: int  # batches done in this epoch
    batches: int  # batches in this epoch
    stage: str


@dataclass
class TrainResult:
    model: ServingModel  # CPU, eval mode
    config: dict[str, Any]  # serving_config(...)
    metrics: dict[str, Any]  # JSON-safe
    history: list[dict[str, Any]]


@dataclass
class _Stage:
    name: str
    layer: int | None  # layerwise: the encoder layer trained alone; None: the whole network


@dataclass(frozen=True)
class _Hooks:
    """What a training tells its caller (train's on_epoch, on_batch) and asks it."""

    on_epoch: Callable[[EpochReport], None] | None = None
    on_batch: Callable[[BatchReport], None] | None = None
    should_stop: Callable[[], bool] | None = None
    checkpoint_every_s: float | None = None  # None: CHECKPOINT_EVERY_S, read when used

    def quiet(self) -> _Hooks:
        """For a training whose epochs were reported before: it is only asked to stop."""
        return _Hooks(should_stop=self.should_stop, checkpoint_every_s=self.checkpoint_every_s)

    @property
    def save_every_s(self) -> float:
        every = self.checkpoint_every_s
        return CHECKPOINT_EVERY_S if every is None else every


def _stages(spec: ModelSpec) -> list[_Stage]:
    if spec.training.strategy == "end_to_end":
        return [_Stage("end_to_end", None)]
    n = len(hidden_sizes_of(spec)) + 1  # one shallow AE per layer, coding included
    return [_Stage(f"layer {i + 1}/{n}", i) for i in range(n)] + [_Stage("fine_tune", None)]


@contextlib.contextmanager
def _cpu_threads(ctx: Context) -> Iterator[None]:
    """Train a small network on one intra-op thread (CPU only), then restore the count.

    A step of a small network is a chain of tiny ops: more threads only add a barrier per
    op, and on a shared CPU each barrier waits for a descheduled thread (docs/performance.md).
    The count is process-wide: a worker process trains one job at a time.
    """
    threads = torch.get_num_threads()
    n_weights = sum(p.numel() for p in ctx.ae.parameters())
    small = n_weights * batch_size_of(ctx.spec) < _ONE_THREAD_MACS
    if ctx.device.type != "cpu" or not small or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _loss(ctx: Context, stage: _Stage, x: torch.Tensor, training: bool) -> torch.Tensor:
    autocast = (
        torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        if ctx.bf16
        else contextlib.nullcontext()
    )
    with autocast:
        gen, weights = ctx.noise_gen, ctx.loss_weights
        if stage.layer is None:
            return network_loss(
                ctx.spec, ctx.ae, x, training=training, generator=gen, weights=weights
            )
        return layer_loss(
            ctx.spec, ctx.ae, x, stage.layer, training=training, generator=gen, weights=weights
        )


# ---------------------------------------------------------------- optimisation


def _stage_parameters(ctx: Context, stage: _Stage) -> list[nn.Parameter]:
    if stage.layer is None:
        return list(ctx.ae.parameters())
    return layer_parameters(ctx.ae, stage.layer)


def _optimizer(ctx: Context, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    train, decay = ctx.spec.training, float(ctx.spec.regularization.weight_decay)
    if train.optimizer == "adam":
        return torch.optim.Adam(params, lr=train.learning_rate, weight_decay=decay)
    if train.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=train.learning_rate, weight_decay=decay)
    return torch.optim.SGD(params, lr=train.learning_rate, momentum=0.9, weight_decay=decay)


def _scheduler(ctx: Context, optimizer: torch.optim.Optimizer) -> Any:
    schedule = ctx.spec.training.lr_schedule
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, ctx.spec.training.epochs)
    if schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.5, patience=_PLATEAU_PATIENCE
        )
    return None


def _diverged(where: str, value: float) -> TrainingFailed:
    return TrainingFailed(
        f"the loss became {value} {where}: training diverged; lower training.learning_rate, "
        "set training.gradient_clip_norm, or standardize the data"
    )


SaveWithin = Callable[[EpochProgress], None]


def _train_epoch(
    ctx: Context,
    stage: _Stage,
    optimizer: torch.optim.Optimizer,
    hooks: _Hooks,
    epoch: int,
    done: EpochProgress | None = None,
    save: SaveWithin | None = None,
) -> tuple[float, float]:
    """One pass over the shuffled training rows: (mean loss, samples per second); epoch
    is this training's own count (the data's order follows it). Asks should_stop before
    each batch, and tells on_batch how far it got at most every BATCH_REPORT_EVERY_S.

    done: how far a checkpoint within this epoch got (its batches are skipped, its loss
    sums go on); save writes one, at most every CHECKPOINT_EVERY_S."""
    shown, name = _numbered(ctx, epoch, stage)
    should_stop, on_batch = hooks.should_stop, hooks.on_batch
    ctx.ae.train()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    clip = ctx.spec.training.gradient_clip_norm
    done = done or EpochProgress()
    shuffle_rng = ctx.shuffle_gen.get_state()  # before the epoch's draw (in _batches)
    batches = -(-ctx.n_train // batch_size_of(ctx.spec))
    total, n_rows, started = done.loss_sum, done.rows, time.perf_counter()
    report_at = started + BATCH_REPORT_EVERY_S
    save_every_s = hooks.save_every_s
    save_at = started + save_every_s
    for batch, x in enumerate(_batches(ctx, epoch, done.batch), start=done.batch):
        check_stop(should_stop, f"during epoch {shown}")
        loss = _loss(ctx, stage, x, training=True)
        value = float(loss.item())
        if not np.isfinite(value):
            raise _diverged(f"at epoch {shown}, batch {batch + 1} ({name})", value)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        total += value * len(x)
        n_rows += len(x)
        if save is not None and batch + 1 < batches and time.perf_counter() >= save_at:
            now = done.time_s + time.perf_counter() - started
            save(EpochProgress(batch + 1, total, n_rows, now, shuffle_rng))
            save_at = time.perf_counter() + save_every_s
        if on_batch is not None and time.perf_counter() >= report_at:
            on_batch(BatchReport(shown, _planned(ctx), batch + 1, batches, name))
            report_at = time.perf_counter() + BATCH_REPORT_EVERY_S
    elapsed = max(time.perf_counter() - started, 1e-9)
    return total / n_rows, (n_rows - done.rows) / elapsed


def _batches(ctx: Context, epoch: int, skip: int = 0) -> Iterator[torch.Tensor]:
    """In memory: a permutation drawn from the shuffle generator (kept in checkpoints).
    Streamed: the order of (seed, epoch) (service.training.data), preprocessed here.
    The first `skip` batches (done before a checkpoint within the epoch) are passed over."""
    batch_size = batch_size_of(ctx.spec)
    if ctx.stream is None:
        assert ctx.x_train is not None
        n_rows = len(ctx.x_train)
        order = torch.randperm(n_rows, generator=ctx.shuffle_gen).to(ctx.device)
        for start in range(skip * batch_size, n_rows, batch_size):
            yield ctx.x_train[order[start : start + batch_size]]
        return
    ctx.stream.set_epoch(epoch, skip)
    for raw in ctx.stream:  # no grad mode here: it would hold across the yield
        yield ctx.model.preprocessor(raw.to(ctx.device, non_blocking=True))


@torch.no_grad()
def _val_loss(ctx: Context, stage: _Stage) -> float:
    ctx.ae.eval()
    total = 0.0
    for x in ctx.x_val.split(_EVAL_ROWS):
        total += float(_loss(ctx, stage, x, training=False).item()) * len(x)
    return total / len(ctx.x_val)


def _shape(ctx: Context) -> list[int]:
    return [ctx.n_train, len(ctx.x_val), ctx.ae.n_features]


# ---------------------------------------------------------------- the loop


def _open_stage(ctx: Context, stage: _Stage, ck: dict[str, Any] | None) -> tuple[Any, Any]:
    """A fresh optimizer and scheduler for the stage, restored from ck where it has them."""
    optimizer = _optimizer(ctx, _stage_parameters(ctx, stage))
    scheduler = _scheduler(ctx, optimizer)
    if ck is not None and ck["optimizer"] is not None:
        optimizer.load_state_dict(ck["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(ck["scheduler"])
    return optimizer, scheduler


def _end_of_epoch(ctx: Context, state: LoopState, row: dict[str, Any], scheduler: Any) -> bool:
    """Early stopping and lr schedule; True when the stage is over.

    With early stopping the stage ends on its best validation epoch's weights; without
    (patience None) it runs every epoch and keeps the last weights.
    """
    state.epoch += 1
    val_loss, patience = row["val_loss"], patience_of(ctx.spec)
    if patience is None:
        state.best_score, state.best_epoch = val_loss, row["epoch"]
    elif val_loss < state.best_score:
        state.best_score, state.bad_epochs = val_loss, 0
        state.best_epoch = row["epoch"]
        state.best_weights = state_copy(ctx.ae)
    else:
        state.bad_epochs += 1
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(val_loss)
    elif scheduler is not None:
        scheduler.step()
    stopped = patience is not None and state.bad_epochs >= patience
    if not stopped and state.epoch < ctx.spec.training.epochs:
        return False
    if state.best_weights is not None:
        ctx.ae.load_state_dict(state.best_weights)
    state.stage, state.epoch, state.bad_epochs = state.stage + 1, 0, 0
    state.best_score, state.best_weights = float("inf"), None
    return True


def _run_epoch(
    ctx: Context,
    stage: _Stage,
    state: LoopState,
    optimizer: torch.optim.Optimizer,
    hooks: _Hooks,
    done: EpochProgress | None = None,
    save: SaveWithin | None = None,
) -> dict[str, Any]:
    epochs = ctx.spec.training.epochs
    number = state.stage * epochs + state.epoch + 1
    shown, name = _numbered(ctx, number, stage)
    started = time.perf_counter()
    train_loss, samples_per_s = _train_epoch(ctx, stage, optimizer, hooks, number, done, save)
    val_loss = _val_loss(ctx, stage)
    if not np.isfinite(val_loss):
        raise _diverged(f"on validation at epoch {shown} ({name})", val_loss)
    before = 0.0 if done is None else done.time_s  # the epoch's time before a resume
    state.train_time_s += before + time.perf_counter() - started
    return {
        "epoch": shown,
        "stage": name,
        "train_loss": train_loss,
        "val_loss": val_loss,
        "samples_per_s": samples_per_s,
        "lr": float(optimizer.param_groups[0]["lr"]),
    }


def _planned(ctx: Context) -> int:
    """The job's planned epochs over all stages (and its first training's, in a second)."""
    stages = _stages(ctx.spec)
    return _numbered(ctx, len(stages) * ctx.spec.training.epochs, stages[0])[0]


def _numbered(ctx: Context, epoch: int, stage: _Stage) -> tuple[int, str]:
    """(the job's number for this training's epoch, its stage's name): a second training
    (trainer.train) counts on from the first, as stage "linear_path"."""
    if ctx.carried is None:
        return epoch, stage.name
    return len(ctx.carried["history"]) + epoch, "linear_path"


def _fit(
    ctx: Context,
    checkpoint: Checkpoint | None,
    hooks: _Hooks,
    resume: bool = True,
) -> LoopState:
    stages = _stages(ctx.spec)
    state, ck = LoopState(), None
    if resume and checkpoint is not None and checkpoint.exists():
        state, ck = load_checkpoint(
            checkpoint,
            spec=ctx.spec,
            shape=_shape(ctx),
            model=ctx.model,
            rngs=(ctx.shuffle_gen, ctx.noise_gen),
        )
    planned = _planned(ctx)
    done, state.within = state.within, None  # resumed within an epoch: how far it got
    while state.stage < len(stages):
        stage = stages[state.stage]
        optimizer, scheduler = _open_stage(ctx, stage, ck)
        if state.epoch == 0 and done is None and patience_of(ctx.spec) is not None:
            # the starting weights are a candidate too: a linear AE starts on PCA's optimum
            state.best_score, state.best_weights = _val_loss(ctx, stage), state_copy(ctx.ae)
        save = None
        if checkpoint is not None:
            save = _saver(ctx, checkpoint, state, optimizer, scheduler)
        stage_over = False
        while not stage_over:
            row = _run_epoch(ctx, stage, state, optimizer, hooks, done, save)
            done = None
            state.history.append(row)
            stage_over = _end_of_epoch(ctx, state, row, scheduler)
            if checkpoint is not None:
                kept = (None, None) if stage_over else (optimizer, scheduler)
                _save(ctx, checkpoint, state, *kept)
            if hooks.on_epoch is not None:
                report = {k: v for k, v in row.items() if k != "lr"}
                hooks.on_epoch(EpochReport(epochs=planned, **report))
        ck = None
    return state


def _save(
    ctx: Context,
    checkpoint: Checkpoint,
    state: LoopState,
    optimizer: Any,
    scheduler: Any,
    within: EpochProgress | None = None,
) -> None:
    save_checkpoint(
        checkpoint,
        spec=ctx.spec,
        shape=_shape(ctx),
        model=ctx.model,
        state=state,
        optimizer=optimizer,
        scheduler=scheduler,
        rngs=(ctx.shuffle_gen, ctx.noise_gen),
        carried=ctx.carried,
        within=within,
    )


def _saver(
    ctx: Context, checkpoint: Checkpoint, state: LoopState, optimizer: Any, scheduler: Any
) -> SaveWithin:
    """Writes a checkpoint within the epoch under way: the loop state as after the last
    epoch, the model, optimizer and noise generator as now, the shuffle generator as
    before the epoch's draw (EpochProgress.shuffle_rng)."""

    def save(progress: EpochProgress) -> None:
        _save(ctx, checkpoint, state, optimizer, scheduler, progress)

    return save


@dataclass
class _Rows:
    """The training data, read once for one or two trainings: a matrix, or a dataset's
    chunks with the scan that profiled them."""

    X: np.ndarray | ChunkedRows
    profile: DataProfile
    scan: Scan | None = None

    @classmethod
    def read(
        cls,
        X: np.ndarray | ChunkedRows,
        spec: ModelSpec,
        image_shape: tuple[int, int, int] | None,
        should_stop: Callable[[], bool] | None,
    ) -> _Rows:
        if isinstance(X, ChunkedRows):
            fraction, seed = spec.training.validation_fraction, spec.training.seed
            try:
                split = StreamSplit.for_rows(X, fraction, seed)
                scan = scan_rows(X, split, image_shape, should_stop)
            except ValueError as exc:
                raise TrainingFailed(str(exc)) from exc
            return cls(X, scan.profile, scan)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or not np.isfinite(X).all():
            raise TrainingFailed(f"training data must be a finite 2-D array, got shape {X.shape}")
        return cls(X, profile_data(X, image_shape))


def train(
    *,
    spec: ModelSpec,
    X: np.ndarray | ChunkedRows,
    image_shape: tuple[int, int, int] | None,
    checkpoint_path: Checkpoint | Path | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_batch: Callable[[BatchReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint_every_s: float | None = None,
) -> TrainResult:
    """Train a spec on raw rows X (N, F); resume from checkpoint_path when it exists (a
    file, or the job's Checkpoint in the artifact store).

    X is a matrix, or a dataset's ChunkedRows, then read chunk by chunk with bounded
    memory (service.training.data); the fits after training (the score, the metrics) then
    take a sample of the training rows.

    Every `auto` field is decided from the data's profile first; the result's config holds
    the resolved spec and its metrics say why each was chosen. A dense spec whose
    `linear_path` is auto trains without one; where that model's validation error in the
    data's units is above PCA's (a table whose features have their own units: its loss
    counted each feature alike), it trains again with one (zoo.nets.LinearPath), which
    starts on PCA's solution in those units. The second training's epochs follow the
    first's in the history and in on_epoch, as stage "linear_path".

    on_epoch is called after each epoch (its checkpoint written); on_batch within an epoch,
    at most every BATCH_REPORT_EVERY_S (an epoch shorter than that: never). Within an epoch
    a checkpoint is also written at most every checkpoint_every_s (AESVC_CHECKPOINT_EVERY_S
    in a worker; None: CHECKPOINT_EVERY_S); a resume from one goes
    on at the batch it reached and ends on the uninterrupted run's weights.

    Raises SpecError (spec or data refused), TrainingFailed (diverged: do not retry) and
    TrainingInterrupted (should_stop() said so; the checkpoint stays for a resume).
    """
    rows = _Rows.read(X, spec, image_shape, should_stop)
    first, decisions = resolve_spec(spec, rows.profile)
    check_spec(first)
    second = with_linear_path(spec, rows.profile)
    slot = None if checkpoint_path is None else as_checkpoint(checkpoint_path)
    hooks = _Hooks(on_epoch, on_batch, should_stop, checkpoint_every_s)
    one = _Training(first, decisions, rows, image_shape, hooks)
    if second is not None and slot is not None:
        stored, carried = checkpoint_header(slot)
        if stored == second[0] and carried is not None:
            return one.again(second, carried, slot, None)  # died in its second training
    result = one.run(first, decisions, slot)
    m = result.metrics
    if second is None or m["val_mse"] <= m["pca_val_mse"]:
        return result
    carried = {
        "history": result.history,
        "train_time_s": m["train_time_s"],
        "val_mse": m["val_mse"],
        "pca_val_mse": m["pca_val_mse"],
    }
    if slot is not None:
        slot.delete()  # the first training's: the second starts afresh
    return one.again(second, carried, slot, result)


@dataclass
class _Training:
    """One job's training, run once, or twice with an auto linear path (train)."""

    first: ModelSpec
    decisions: dict[str, str]
    rows: _Rows
    image_shape: tuple[int, int, int] | None
    hooks: _Hooks

    def run(
        self,
        spec: ModelSpec,
        decisions: dict[str, str],
        slot: Checkpoint | None,
        carried: dict[str, Any] | None = None,
        hooks: _Hooks | None = None,
        resume: bool = True,
    ) -> TrainResult:
        return _train_resolved(
            spec,
            decisions,
            self.rows,
            self.image_shape,
            slot,
            hooks or self.hooks,
            carried,
            resume,
        )

    def again(
        self,
        second: tuple[ModelSpec, dict[str, str]],
        carried: dict[str, Any],
        slot: Checkpoint | None,
        result: TrainResult | None,
    ) -> TrainResult:
        """The second training, on a linear path; the first model (result, or trained
        again where the job resumed in the second) is kept where the second diverged or
        did no better."""
        spec, decisions = second
        before = f"{carried['val_mse']:.4g} against PCA's {carried['pca_val_mse']:.4g}"
        decisions["architecture.linear_path"] = (
            f"on: trained without one, the model's validation error in the data's units was "
            f"{before}; trained again on a linear path fixed at PCA's solution"
        )
        try:
            # a fresh second training overwrites whatever the slot holds (the first's
            # checkpoint, where its best-effort delete failed)
            again = self.run(spec, decisions, slot, carried, resume=result is None)
        except TrainingFailed as exc:
            why = f"diverged ({exc})"
        else:
            if again.metrics["val_mse"] < carried["val_mse"]:
                again.metrics.update(
                    train_time_s=carried["train_time_s"] + again.metrics["train_time_s"],
                    epochs_run=len(carried["history"]) + again.metrics["epochs_run"],
                )
                history = [*carried["history"], *again.history]
                return TrainResult(again.model, again.config, again.metrics, history)
            why = f"ended at {again.metrics['val_mse']:.4g}, no better"
        if result is None:  # resumed in the second: the first again (seeded, the same)
            result = self.run(self.first, self.decisions, None, hooks=self.hooks.quiet())
        result.metrics["auto_decisions"]["architecture.linear_path"] = (
            f"off: trained without one, the model's validation error in the data's units was "
            f"{before}; trained again on a linear path, which {why}: the first model is kept"
        )
        return result


def _train_resolved(
    spec: ModelSpec,
    decisions: dict[str, str],
    rows: _Rows,
    image_shape: tuple[int, int, int] | None,
    slot: Checkpoint | None,
    hooks: _Hooks,
    carried: dict[str, Any] | None = None,
    resume: bool = True,
) -> TrainResult:
    """One training of a resolved, checked spec, and the fits and metrics after it;
    carried: the job's first training, where this is its second (_Training.again);
    resume False: start afresh whatever the slot holds."""
    if rows.scan is not None:
        assert isinstance(rows.X, ChunkedRows)
        ctx, X_train, X_val = prepare_stream(spec, rows.X, rows.scan, image_shape)
        if ctx.stream is not None:
            ctx.stream.should_stop = hooks.should_stop
        n_features, n_val = rows.X.n_features, rows.scan.n_val
    else:
        assert isinstance(rows.X, np.ndarray)
        ctx, X_train, X_val = prepare(spec, rows.X, image_shape)
        n_features, n_val = rows.X.shape[1], len(X_val)
    ctx.carried = carried
    with _cpu_threads(ctx):
        state = _fit(ctx, slot, hooks, resume)
    model = ctx.model.to("cpu").eval()
    # the fits take seconds on a large dataset's sample: a cancel need not wait for both
    check_stop(hooks.should_stop, "after the last epoch")
    model.fit_score(torch.from_numpy(X_train), torch.from_numpy(X_val), trim=score_trim(spec))
    check_stop(hooks.should_stop, "after the score's fit")
    metrics = quality_metrics(spec, model, X_train, X_val)
    metrics.update(
        train_time_s=state.train_time_s,
        epochs_run=len(state.history),
        best_epoch=state.best_epoch,
        n_train=ctx.n_train,
        n_val=n_val,
        device=ctx.device.type,
        auto_decisions=decisions,
    )
    config = serving_config(spec, n_features, image_shape)
    return TrainResult(model=model, config=config, metrics=metrics, history=state.history)
