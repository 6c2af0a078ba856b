"""`train(config)`: build the data and model, run each stage, write the run directory, evaluate."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gentool import distributed
from gentool.checkpoint import save_model
from gentool.errors import GentoolError
from gentool.images import save_curves, save_samples
from gentool.narrow_conv import use_narrow_convs
from gentool.registry import build_model
from gentool.resolve import ResolvedRun, resolve
from gentool.rundir import RunDir, default_out
from gentool.sampling import draw_samples
from gentool.trainer.batches import make_batches
from gentool.trainer.context import StepContext
from gentool.trainer.device import pick_device, pick_precision
from gentool.trainer.ema import WeightAverage
from gentool.trainer.observe import StepLogs, grid_labels, peak_memory_mb, tensorboard_writer
from gentool.trainer.progress import Progress
from gentool.trainer.resume import Position, match_state_layout, restore_checkpoint, save_checkpoint
from gentool.trainer.schedule import lr_factor, stage_budgets
from gentool.trainer.speed import (
    CompileClock,
    apply_channels_last,
    apply_compile,
    channels_last_batch,
    fuse_optimizers,
    wants_channels_last,
)
from gentool.versions import versions


class TrainingDiverged(GentoolError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""

    exit_code = 1


@dataclass
class Run:
    """A finished run: its directory, the trained model (EMA weights when on), and summary.json's content."""

    dir: Path
    model: Any
    summary: dict[str, Any] = field(default_factory=dict)


class Trainer:
    """Holds one run's state; `fit()` trains every stage from the current position to the end of the budget."""

    def __init__(self, run: ResolvedRun, out: Path) -> None:
        self.run, self.out, self.dir = run, out, RunDir(out)
        self.rank, self.world = distributed.rank(), distributed.world_size()
        self.device = pick_device(run.device, local_rank=self.rank)
        self.dtype = pick_precision(run.trainer.precision, self.device)
        torch.manual_seed(run.seed)  # identical initial weights on every rank
        self.dataset = run.dataset.load()(run.dataset_config)
        self.info = self.dataset.info()
        self.model = build_model(run.model, run.model_config, self.info).to(self.device)
        self.fused_optimizers: set[str] = set()  # "stage/name" of the optimizers fuse_optimizers rebuilt
        self.channels_last = wants_channels_last(run.trainer.channels_last, self.model, self.info)
        if self.channels_last:
            self.model = apply_channels_last(self.model)
        on_cpu = run.trainer.narrow_convs and self.device.type == "cpu"  # elsewhere they would run torch's kernel
        self.narrow_convs = use_narrow_convs(self.model) if on_cpu else []
        if self.world > 1:
            for tensor in self.model.state_dict().values():
                torch.distributed.broadcast(tensor, 0)
        torch.manual_seed(run.seed * 1009 + self.rank)
        self.batches = make_batches(
            self.dataset.split("train"), run.model_config.batch_size, self.device, run.seed, self.rank, self.world
        )
        self.stages = self.model.stages()
        self.budgets = stage_budgets(self.stages, run.total_steps, run.minutes)
        names = tuple(getattr(self.model, "ema_modules", ()))
        self.ema = WeightAverage(self.model, names, run.model_config.ema_decay) if run.model_config.ema and names else None
        self.position = Position()
        self.optimizer_state: dict[str, Any] | None = None
        self.progress = Progress(enabled=self.rank == 0)
        self.board = None
        self.train_seconds, self.images_seen = 0.0, 0
        self.compilation = apply_compile(self.model, run.trainer.compile, self.device)
        if self.compilation.fallback and self.rank == 0:
            print(f"Warning: {self.compilation.fallback}", file=sys.stderr)
        self.clock = CompileClock(self.compilation)

    def start(self, *, resume: bool) -> None:
        """Called once the run directory exists: restore the checkpoint when resuming, open TensorBoard."""
        if resume:
            self._restore()
        if self.run.trainer.tensorboard and self.rank == 0:
            self.board = tensorboard_writer(self.out)

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _checkpoint_path(self) -> Path:
        return self.dir.checkpoint

    def _save_checkpoint(self, optimizers: dict[str, torch.optim.Optimizer], ctx: StepContext) -> None:
        if self.rank == 0:
            save_checkpoint(self, optimizers, ctx.scalers)

    def _restore(self) -> None:
        self.optimizer_state = restore_checkpoint(self)
        if self.rank == 0:
            self.dir.truncate_metrics(self.position.step)
            save_curves(self.dir.read_metrics(), self.dir.curves)

    # -- samples and logs --------------------------------------------------------------------------------------
    @torch.no_grad()
    def samples(self, n: int) -> torch.Tensor:
        """n samples drawn with fixed noise (comparable across steps), with the averaged weights when EMA is on."""
        labels = grid_labels(self.model, self.info, n)
        n = len(labels) if labels is not None else n
        generator = torch.Generator().manual_seed(self.run.seed + 12345)
        grid = getattr(self.model, "grid", None)

        def draw() -> torch.Tensor:
            if grid is not None:  # the model shows more than samples, e.g. source | translation | cycle
                return grid(n, generator)
            return draw_samples(self.model, n, labels=labels, generator=generator, options=self.run.sample_options)

        was_training = self.model.training
        self.model.eval()
        try:
            with self.ema.applied(self.model) if self.ema else contextlib.nullcontext():
                images = draw()
        finally:
            self.model.train(was_training)
        return images.float().cpu()

    def _write_grid(self, name: str) -> None:
        if self.rank != 0:
            return
        images = self.samples(self.run.trainer.grid_size)
        labels = grid_labels(self.model, self.info, self.run.trainer.grid_size)
        nrow = len(labels) // self.info.num_classes if labels is not None else None  # one row per class
        reference = None
        if images.dim() == 2:
            split = self.dataset.split("test")
            reference = split.x[:1000] if hasattr(split, "x") else None
        save_samples(images, self.dir.samples / f"{name}.png", nrow=nrow, reference=reference)
        if self.board is not None and images.dim() == 4:
            from gentool.images import grid_image

            grid = torch.from_numpy(np.asarray(grid_image(images, nrow))).permute(2, 0, 1)
            self.board.add_image("samples", grid, self.position.step)

    def _log(self, logs: dict[str, float], stage: str) -> None:
        if self.rank != 0:
            return
        record = {"step": self.position.step, "stage": stage, "time": round(self.train_seconds, 3), **logs}
        with open(self.dir.metrics, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self.board is not None:
            for key, value in logs.items():
                self.board.add_scalar(f"{stage}/{key}", value, self.position.step)

    # -- the loop ----------------------------------------------------------------------------------------------
    def fit(self) -> None:
        cfg = self.run.trainer
        while self.position.stage < len(self.stages):
            stage = self.stages[self.position.stage]
            steps, seconds = self.budgets[self.position.stage]
            optimizers = fuse_optimizers(self.model.optimizers(stage.name), cfg.fused_optimizers, self.device)
            self.fused_optimizers |= {f"{stage.name}/{k}" for k, o in optimizers.items() if o.defaults.get("fused")}
            ctx = StepContext(device=self.device, stage=stage.name, optimizers=optimizers,
                              autocast_dtype=self.dtype, clip_norm=cfg.clip_norm)
            if self.optimizer_state is not None:
                for k, o in optimizers.items():
                    o.load_state_dict(self.optimizer_state["optimizers"][k])
                    match_state_layout(o)
                for k, s in ctx.scalers.items():
                    s.load_state_dict(self.optimizer_state["scalers"][k])
                self.optimizer_state = None
            base_lrs = {k: [g["lr"] for g in o.param_groups] for k, o in optimizers.items()}
            self.batches.set_batch_size(stage.batch_size or self.run.model_config.batch_size)
            self._run_stage(stage.name, steps, seconds, optimizers, ctx, base_lrs)
            end_stage = getattr(self.model, "end_stage", None)
            if end_stage is not None:
                end_stage(stage.name, ctx)
            self.position = Position(self.position.stage + 1, 0, self.position.step, 0.0)
            self._save_checkpoint({}, ctx)

    def _run_stage(self, stage, steps, seconds, optimizers, ctx, base_lrs) -> None:
        cfg, pos = self.run.trainer, self.position
        logged = StepLogs()
        self.model.train()
        self.progress.start_stage(stage, steps, seconds, pos.stage_step)
        while (steps is not None and pos.stage_step < steps) or (steps is None and pos.stage_seconds < seconds):
            started = time.perf_counter()
            ctx.global_step, ctx.stage_step = pos.step, pos.stage_step
            ctx.progress = pos.stage_step / steps if steps else min(1.0, pos.stage_seconds / seconds)
            factor = lr_factor(cfg.schedule, cfg.warmup_steps, pos.stage_step, ctx.progress, cfg.decay_start)
            for k, opt in optimizers.items():
                for group, lr in zip(opt.param_groups, base_lrs[k]):
                    group["lr"] = lr * factor
            batch = self.batches.next()
            if self.channels_last:
                batch = channels_last_batch(batch)
            logs = self.clock.run(self.model.train_step, batch, ctx)
            if self.ema:
                self.ema.update(self.model)
            logged.add(pos.step + 1, logs)  # on the device: no sync here
            elapsed = time.perf_counter() - started
            pos.step, pos.stage_step = pos.step + 1, pos.stage_step + 1
            pos.stage_seconds += elapsed
            if steps is None and self.world > 1:  # ranks must agree on the last step of a time budget
                pos.stage_seconds = distributed.all_reduce_max(pos.stage_seconds, self.device)
            self.train_seconds += elapsed
            self.images_seen += len(batch.x) * self.world
            logging = pos.stage_step % cfg.log_every == 0 or pos.stage_step == steps
            if logging or pos.step % cfg.sample_every == 0 or pos.step % cfg.checkpoint_every == 0:
                self._stop_if_diverged(logged, stage)
            if logging:
                means = logged.means()
                self._log(means, stage)
                self.progress.update(pos.stage_step, means, self.images_seen / max(self.train_seconds, 1e-9))
            else:
                self.progress.advance(pos.stage_step)
            if pos.step % cfg.sample_every == 0:
                self._write_grid(f"step_{pos.step:06d}")
            if pos.step % cfg.checkpoint_every == 0:
                self._save_checkpoint(optimizers, ctx)
        self._stop_if_diverged(logged, stage)  # a time budget may end between logging steps
        self.progress.end_stage()

    def _stop_if_diverged(self, logged: StepLogs, stage: str) -> None:
        """Raise TrainingDiverged when a logged value since the last check is NaN or infinite (one sync)."""
        bad = logged.first_bad()
        if bad is not None:
            raise TrainingDiverged(
                f'Training stopped at step {self.position.step} (stage "{stage}"): the loss "{bad[1]}" became '
                f"{bad[2]} at step {bad[0]}. The last good checkpoint is kept in {self._checkpoint_path()}. Try a "
                "lower learning rate, --set trainer.clip_norm=1.0, or --set trainer.precision=fp32."
            )

    # -- the end -----------------------------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        """Final grid, weights, curves and summary.json (rank 0); returns the summary."""
        if self.rank != 0:
            return {}
        self._write_grid(f"step_{self.position.step:06d}")
        meta = {
            "model": {"name": self.run.model.name, **self.run.model_config.model_dump(mode="json")},
            "data_info": self.info.to_json(),
            "versions": versions(self.run),
        }
        if self.ema:
            self.ema.copy_to(self.model)  # from here on the model holds the averaged weights
        save_model(self.dir.model, self.model, meta)
        save_curves(self.dir.read_metrics(), self.dir.curves)
        return {
            "model": self.run.model.name,
            "dataset": self.run.dataset.name,
            "steps": self.position.step,
            "device": str(self.device),
            "precision": str(self.dtype).replace("torch.", "") if self.dtype else "fp32",
            "world_size": self.world,
            "train_seconds": round(self.train_seconds, 3),
            "images_per_second": round(self.images_seen / max(self.train_seconds, 1e-9), 2),
            "peak_memory_mb": peak_memory_mb(self.device),
            "channels_last": self.channels_last,
            "fused_optimizers": sorted(self.fused_optimizers),
            "narrow_convs": self.narrow_convs,
            "compile": self.compilation.to_json(),
            "versions": meta["versions"],
        }


def _out_path(run: ResolvedRun) -> Path:
    """--out, or runs/<model>-<time> chosen by rank 0 and shared with every rank."""
    out = str(run.out) if run.out else str(default_out(run.model.name))
    if distributed.is_distributed():
        holder = [out]
        torch.distributed.broadcast_object_list(holder, src=0)
        out = holder[0]
    return Path(out)


def _prepare_directory(run: ResolvedRun, out: Path, *, resume: bool, overwrite: bool) -> None:
    """Rank 0 creates (or checks, when resuming) the run directory and its config.json."""
    if distributed.rank() == 0:
        run_dir = RunDir(out)
        run_dir.prepare(resume=resume, overwrite=overwrite)
        config = run.as_json() | {"out": str(out)}
        if resume:
            saved = resolve(run_dir.read_config()).as_json()  # options renamed since are compared by their new names
            run_dir.check_same_config(saved | {"out": str(out)}, config)
        else:
            run_dir.write_json(run_dir.config, config)
    if distributed.is_distributed():
        torch.distributed.barrier()


def _model_metrics(model: Any, requested: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The model's `report_metrics` that were not requested, with their default options (installed ones only)."""
    from gentool.registry import registry

    chosen = {name for name, _ in requested}
    names = [m for m in getattr(model, "report_metrics", ()) if m not in chosen and m in registry().names("metric")]
    return [(m, registry().get("metric", m).parse({}, f"metric.{m}").model_dump(mode="json")) for m in names]


def train(config: dict[str, Any] | ResolvedRun, *, resume: bool = False, overwrite: bool = False) -> Run:
    """Train the configured model to the end of its budget, evaluate the requested metrics, write the run directory.

    `config` is a raw config dict (see gentool.config) or a ResolvedRun. Under torchrun every rank calls this;
    rank 0 writes the files. Returns the Run (on other ranks with an empty summary).
    """
    run = config if isinstance(config, ResolvedRun) else resolve(config)
    if run.trainer.tensorboard:
        tensorboard_writer(None)  # fails now, before anything is written, when tensorboard is absent
    started = time.perf_counter()
    with distributed.process_group(run.device):
        out = _out_path(run)
        trainer = Trainer(run, out)  # data and model are built before anything is written
        _prepare_directory(run, out, resume=resume, overwrite=overwrite)
        trainer.start(resume=resume)
        trainer.fit()
        summary = trainer.finish()
        if distributed.rank() == 0:
            summary["metrics"] = {}
            metrics = run.metrics + (_model_metrics(trainer.model, run.metrics) if run.eval.model_metrics else [])
            if metrics:
                from gentool.evaluate import evaluate

                summary["metrics"] = evaluate(
                    trainer.model, trainer.dataset, metrics, samples=run.eval.samples,
                    batch_size=run.eval.batch_size, device=trainer.device, seed=run.seed,
                    sample_options=run.sample_options, reference=True,
                )
                if run.sample_options is not None:
                    used = run.sample_options.model_dump(mode="json")
                    summary["sample_options"] = {name: used for name in summary["metrics"]}
            summary["wall_seconds"] = round(time.perf_counter() - started, 3)
            trainer.dir.write_json(trainer.dir.summary, summary)
    return Run(out, trainer.model, summary)

