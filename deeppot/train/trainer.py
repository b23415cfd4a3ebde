"""The training loop: data → statistics → Adam steps with DeePMD-kit's schedule → lcurve, checkpoints.

A run is reproducible from its checkpoint: model and optimizer tensors, the step and the
data-sampling RNG states are all saved, so ``--restart`` continues exactly as if never
stopped. With ``torchrun`` each rank evaluates its share of every batch and gradients are
averaged, which equals one process training on the whole batch.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from deeppot.core import explicit
from deeppot.core.descriptor import descriptor_class
from deeppot.data import load_systems
from deeppot.data.system import System
from deeppot.errors import ConfigError, ModelFileError
from deeppot.model.build import build_model
from deeppot.model.stats import StatFrames, compute_input_stats
from deeppot.progress import Progress
from deeppot.train import checkpoint as ckpt
from deeppot.train import lcurve
from deeppot.train import stat_file as stat_cache
from deeppot.train.loss import EnergyLoss
from deeppot.train.sampler import BatchSampler
from deeppot.train.schedule import ExpDecayLR

log = logging.getLogger("deeppot.train")


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def resolve_sel(model_cfg: dict, systems: list[System]) -> tuple[dict, float]:
    """Replace sel "auto" / "auto:f" by neighbour statistics of the training data."""
    from deeppot.data.stat import auto_sel, neighbor_stat

    desc = dict(model_cfg["descriptor"])
    min_dist, counts = neighbor_stat(systems, desc["rcut"], model_cfg["type_map"])
    if not descriptor_class(desc["type"]).Config.SEL_FROM_DATA:
        return dict(model_cfg, descriptor=desc), min_dist
    sel = desc.get("sel", "auto")
    if isinstance(sel, str):
        factor = float(sel.split(":")[1]) if ":" in sel else 1.1
        desc["sel"] = [int(s) for s in auto_sel(counts, factor)]
        log.info("sel auto: max neighbours %s -> sel %s", counts, desc["sel"])
    elif any(c > s for c, s in zip(counts, sel)):
        raise ConfigError(f"training data has up to {counts} neighbours within rcut, more than sel {sel}")
    return dict(model_cfg, descriptor=desc), min_dist


def model_section(cfg: dict) -> dict:
    """The parts of ``cfg['model']`` that build_model reads (descriptor keys without Nones)."""
    m = cfg["model"]
    desc = {k: v for k, v in m["descriptor"].items() if v is not None and k not in ("trainable",)}
    fit = {k: v for k, v in m["fitting_net"].items() if k in ("type", "neuron", "resnet_dt",
                                                               "activation_function", "seed", "precision")}
    return {"type_map": m["type_map"], "descriptor": desc, "fitting_net": fit}


class Trainer:
    def __init__(self, cfg: dict, workdir: Path = Path("."), restart: str | None = None,
                 init_model: str | None = None, progress: bool = True, input_name: str = "INPUT"):
        self.cfg = cfg
        self.input_name = input_name
        self.workdir = Path(workdir)
        self.progress = progress
        self.dist = _dist()
        self.rank = self.dist.get_rank() if self.dist else 0
        self.world = self.dist.get_world_size() if self.dist else 1
        for source in (restart, init_model):
            if source:
                ckpt.resolve(source)  # a missing checkpoint is one line before any data is read
        tr = cfg["training"]
        type_map = cfg["model"]["type_map"]
        td, vd = tr["training_data"], tr["validation_data"]
        self.train_systems = load_systems(td["systems"], type_map, td.get("set_prefix", "set"))
        self.valid_systems = load_systems(vd["systems"], type_map, vd.get("set_prefix", "set")) if vd else []
        seed = tr["seed"]
        self.sampler = BatchSampler(self.train_systems, tr["training_data"]["batch_size"], seed,
                                    tr["training_data"]["auto_prob"], tr["training_data"]["sys_probs"])
        if self.world > 1 and any(b % self.world for b in self.sampler.batch_size):
            raise ConfigError(f"batch sizes {self.sampler.batch_size} must divide by the {self.world} processes")
        self.valid_sampler = (BatchSampler(self.valid_systems, vd["batch_size"], None if seed is None else seed + 1,
                                           vd["auto_prob"], vd["sys_probs"]) if vd else None)
        lr = cfg["learning_rate"]
        self.schedule = ExpDecayLR(lr["start_lr"], lr["stop_lr"], lr["decay_steps"], tr["numb_steps"],
                                   lr["decay_rate"], tr["warmup_steps"])
        self.loss = EnergyLoss(cfg["loss"], lr["start_lr"])
        self.loss.check_labels(self.train_systems)
        self.start_step = 0
        self.run_id = ckpt.new_run_id()
        self._build(restart, init_model)

    # ----- setup ------------------------------------------------------------------------
    def _build(self, restart, init_model) -> None:
        cfg = self.cfg
        if restart:
            from deeppot.train.restart import check_restart

            meta, arrays, optim = ckpt.load_checkpoint(restart)
            if "config" in meta:
                check_restart(meta["config"], cfg, meta.get("data"), self.data_signature(), str(restart))
            self.model_cfg, min_dist = meta["model"], meta.get("min_nbor_dist")
            self.run_id = meta.get("run_id", self.run_id)
        else:
            self.model_cfg, min_dist = resolve_sel(model_section(cfg), self.train_systems)
        if cfg["model"]["descriptor"].get("seed") is None and cfg["training"]["seed"] is not None:
            torch.manual_seed(cfg["training"]["seed"])
        self.model = build_model(self.model_cfg)
        self.model.min_nbor_dist = min_dist
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg["learning_rate"]["start_lr"])
        if restart:
            self._load_weights(arrays, restart)
            ckpt.restore_optimizer(self.optimizer, meta, optim)
            self.sampler.load_state(meta["sampler"])
            if self.valid_sampler and meta.get("valid_sampler"):
                self.valid_sampler.load_state(meta["valid_sampler"])
            self.start_step = int(meta["step"])
            log.info("restart from %s at step %d", ckpt.resolve(restart), self.start_step)
        elif init_model:
            _, arrays, _ = ckpt.load_checkpoint(init_model)
            self._load_weights(arrays, init_model)
            log.info("initialised weights from %s", ckpt.resolve(init_model))
        else:
            self._statistics()

    def _load_weights(self, arrays: dict, source) -> None:
        state = self.model.state_dict()
        for name, value in state.items():
            if name not in arrays or tuple(arrays[name].shape) != tuple(value.shape):
                got = "missing" if name not in arrays else f"shape {tuple(arrays[name].shape)}"
                raise ModelFileError(f"{ckpt.resolve(source)}: {name} is {got}, the model in the input needs "
                                     f"{tuple(value.shape)} (model sections differ)")
        self.model.load_state_dict({k: torch.as_tensor(v) for k, v in arrays.items()})

    def data_signature(self) -> list[list[int]]:
        """[natoms, nframes] of every training then validation system (what sampler states index)."""
        return [[s.natoms, s.nframes] for s in (*self.train_systems, *self.valid_systems)]

    def _statistics(self) -> None:
        cfg = self.cfg
        stat_file = cfg["training"]["stat_file"]
        key = depends = None
        if stat_file:
            path = stat_cache.choose_path(self.workdir / stat_file)
            key, depends = stat_cache.stat_key(self.model_cfg, cfg, [s.path for s in self.train_systems],
                                               self.sampler.batch_size)
            if stat_cache.load(path, key, self.model):
                return
        nbatch = cfg["model"]["data_stat_nbatch"]
        rng = np.random.default_rng(cfg["training"]["seed"])
        frames = []
        for system, bs in zip(self.train_systems, self.sampler.batch_size):
            count = min(system.nframes, nbatch * bs)
            pick = np.sort(rng.choice(system.nframes, size=count, replace=False))
            frames.append(StatFrames(system.coord[pick], system.atype, None if system.box is None else system.box[pick],
                                     None if system.energy is None else system.energy[pick]))
        compute_input_stats(self.model, frames, rcond=cfg["model"]["fitting_net"]["rcond"])
        if stat_file and self.rank == 0:
            stat_cache.save(path, key, depends, self.model)

    # ----- steps -------------------------------------------------------------------------
    def _labels(self, system: System, frames: np.ndarray) -> dict:
        label = {}
        for name in ("energy", "force", "virial", "atom_ener"):
            value = getattr(system, name)
            if value is not None:
                # float64 whatever the model precision (energies are summed in float64)
                label[name] = torch.as_tensor(value[frames], dtype=torch.float64)
        return label

    def _evaluate(self, system: System, frames: np.ndarray, create_graph: bool):
        model = self.model
        if explicit.supported(model):
            # hand-written force derivative on neighbour structures cached per frame (core/explicit.py)
            caches = self.__dict__.setdefault("_frame_caches", {})
            cache = caches.setdefault(id(system), explicit.FrameCache(model, system))
            with torch.set_grad_enabled(create_graph):
                out = explicit.evaluate(model, cache.get(frames))
            nf = len(frames)
            pred = {"energy": out["energy"], "force": out["force"].view(nf, -1, 3), "virial": out["virial"].view(nf, 9)}
            if "atom_ener" in self.loss.cfg and self.loss.active("ae"):
                pred["atom_energy"] = out["atom_energy"].view(nf, -1)
            return pred
        coord = torch.as_tensor(system.coord[frames], dtype=model.dtype)
        box = None if system.box is None else torch.as_tensor(system.box[frames], dtype=model.dtype)
        nf = len(frames)
        atype = torch.as_tensor(system.atype).unsqueeze(0).expand(nf, -1)
        batch, frame_of_atom = model.make_batch(coord, atype, box, where=f"{system.path}: ")
        need_ae = "atom_ener" in self.loss.cfg and self.loss.active("ae")
        out = model.evaluate(batch, frame_of_atom, nf, create_graph=create_graph, atomic=False)
        pred = {"energy": out["energy"], "force": out["force"].view(nf, -1, 3), "virial": out["virial"].view(nf, 9)}
        if need_ae:
            pred["atom_energy"] = out["atom_energy"].view(nf, -1)
        return pred

    def _loss(self, system, frames, lr, create_graph=True):
        label = self._labels(system, frames)
        if "virial" in label:
            label["virial"] = label["virial"].reshape(len(frames), 9)
        pred = self._evaluate(system, frames, create_graph)
        return self.loss(pred, label, system.natoms, lr)

    def train_step(self, step: int) -> dict:
        lr = self.schedule(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        k, frames = self.sampler.next()
        mine = frames[self.rank::self.world]
        self.model.train()
        loss, metrics = self._loss(self.train_systems[k], mine, lr)
        self.optimizer.zero_grad(set_to_none=False)
        loss.backward()
        if self.dist:
            for p in self.model.parameters():
                self.dist.all_reduce(p.grad)
                p.grad /= self.world
            metrics = self._average_metrics(metrics)
        clip = self.cfg["training"]["gradient_max_norm"]
        if clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        self.optimizer.step()
        return metrics

    def _average_metrics(self, metrics: dict) -> dict:
        keys = sorted(metrics)
        t = torch.tensor([metrics[k] ** 2 for k in keys], dtype=torch.float64)
        self.dist.all_reduce(t)
        return {k: float(v) ** 0.5 for k, v in zip(keys, t / self.world)}

    def validate(self, lr: float) -> dict | None:
        if not self.valid_sampler:
            return None
        self.model.eval()
        sums: dict[str, float] = {}
        n = self.cfg["training"]["validation_data"]["numb_btch"]
        for _ in range(n):
            k, frames = self.valid_sampler.next()
            _, metrics = self._loss(self.valid_systems[k], frames, lr, create_graph=False)
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value**2
        return {k: (v / n) ** 0.5 for k, v in sums.items()}

    # ----- loop ---------------------------------------------------------------------------
    def _prepare_outputs(self, lc_path: Path) -> None:
        """Truncate the learning curve to the restart step (or set an older run's aside); note other runs."""
        tr = self.cfg["training"]
        directory = self.workdir / Path(tr["save_ckpt"]).parent
        prefix = Path(tr["save_ckpt"]).name
        if self.start_step:
            lcurve.truncate_after(lc_path, self.start_step)
            ckpt.remove_stale_temporaries(directory, prefix, self.run_id)
        elif lc_path.exists():
            moved = lcurve.set_aside(lc_path)
            log.info("%s of an earlier run moved to %s", lc_path, moved)
        others = ckpt.other_checkpoints(directory, prefix, self.run_id)
        if others:
            log.info("%d checkpoint(s) of other runs in %s are left alone (e.g. %s); this run is %s",
                     len(others), directory, others[-1].name, self.run_id)

    def _stop_requested(self, stop) -> bool:
        """Every rank stops at the same step (a signal may reach the processes at different steps)."""
        if not self.dist:
            return stop.requested
        flag = torch.tensor([1.0 if stop.requested else 0.0], dtype=torch.float64)
        self.dist.all_reduce(flag, op=self.dist.ReduceOp.MAX)
        return bool(flag.item())

    def _report(self, step: int, done: int, metrics: dict, lc_path: Path, progress: Progress) -> None:
        valid = self.validate(self.schedule(step))
        if self.rank != 0:
            return
        self._keys = self._keys or [k for k in ("rmse", "rmse_e", "rmse_f", "rmse_v") if k in metrics]
        new = not lc_path.exists() or lc_path.stat().st_size == 0
        text = lcurve.line(done, self._keys, metrics, valid, self.schedule(step))
        lcurve.append(lc_path, (lcurve.header(self._keys, valid is not None) if new else "") + text)
        progress.show(rmse_e=f"{metrics.get('rmse_e', 0):.2e}", rmse_f=f"{metrics.get('rmse_f', 0):.2e}",
                      lr=f"{self.schedule(step):.1e}")

    def run(self) -> None:
        """Train to ``numb_steps``; on SIGTERM/SIGINT finish the step, save, raise :class:`Interrupted`."""
        from deeppot.interrupt import Interrupted, graceful_stop

        tr = self.cfg["training"]
        total = tr["numb_steps"]
        lc_path = self.workdir / tr["disp_file"]
        self._keys = None
        if self.rank == 0:
            self._prepare_outputs(lc_path)
        bar = Progress(total, "train", initial=self.start_step, enabled=self.progress and self.rank == 0,
                       log_every=tr["disp_freq"], logger=log)
        with graceful_stop() as stop:
            for step in range(self.start_step, total):
                metrics = self.train_step(step)
                done = step + 1
                if done % tr["disp_freq"] == 0 or done == 1 or done == total:
                    self._report(step, done, metrics, lc_path, bar)
                bar.update(1)
                saved = done % tr["save_freq"] == 0 or done == total
                if self.rank == 0 and saved:
                    self.save(done)
                if done < total and self._stop_requested(stop):
                    if self.rank == 0 and not saved:
                        self.save(done)
                    bar.close()
                    where = Path(tr["save_ckpt"]).parent
                    raise Interrupted(f"train stopped by {stop.name or 'a signal'} at step {done}; resume with "
                                      f"deeppot train {self.input_name} --restart {where}",
                                      stop.signum or 15)
        bar.close()
        if self.rank == 0:
            log.info("trained %d steps in %.1f s", total - self.start_step, bar.elapsed_s)
            if lc_path.exists():
                lcurve.plot(lc_path, lc_path.with_suffix(".png"))

    def save(self, step: int) -> Path:
        tr = self.cfg["training"]
        meta = {"model": self.model_cfg, "min_nbor_dist": self.model.min_nbor_dist, "config": self.cfg,
                "data": self.data_signature(), "sampler": self.sampler.state(),
                "valid_sampler": self.valid_sampler.state() if self.valid_sampler else None}
        prefix = Path(tr["save_ckpt"]).name
        directory = self.workdir / Path(tr["save_ckpt"]).parent
        return ckpt.save_checkpoint(directory, prefix, step, self.model, self.optimizer, meta, tr["max_ckpt_keep"],
                                    self.run_id)


def model_from_checkpoint(path):
    """The trained :class:`EnergyModel` in a checkpoint (for freeze / test)."""
    meta, arrays, _ = ckpt.load_checkpoint(path)
    model = build_model(meta["model"])
    model.load_state_dict({k: torch.as_tensor(v) for k, v in arrays.items()})
    model.min_nbor_dist = meta.get("min_nbor_dist")
    return model.eval()
