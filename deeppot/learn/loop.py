"""The concurrent-learning loop: train → explore → select → label, iteration after iteration.

All state lives in ``work_dir`` on disk, stage by stage::

    iter.000/00.train/member.K/   input.json, checkpoints, model.dp, done.json
    iter.000/01.explore/task.K/   frames.npz, model_devi.out, done.json
    iter.000/02.select.json       counts and the frames chosen for labelling
    iter.000/03.label/            frame.K.npz (one per labelled frame), data/ (DeePMD npy), done.json
    iter.000/summary.json         the iteration's line of the report

Every file is written atomically and a stage counts as finished only when its marker exists,
so ``kill -9`` at any moment and the same command continues: finished members, runs, labels
and iterations are read back, never redone or deleted; the training set of an iteration is
``init_data`` plus the ``data/`` of earlier finished label stages, each written whole or not at all.

The schedule advances one stage when the accurate fraction of the current stage reaches
``select/converge_accurate`` and (``select/converge_without_stops``) no run of it hit a safety
stop; the loop ends when the last stage passes (converged) or after
``max_iterations``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from deeppot.fileio import atomic_dir, atomic_write, make_dirs
from deeppot.learn import select, tasks

log = logging.getLogger("deeppot.learn")


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _write_json(path: Path, data) -> None:
    with atomic_write(path, "w") as handle:
        json.dump(data, handle, indent=1)


class Progress:
    """A log line per finished task with the ETA of the stage (works without a terminal)."""

    def __init__(self, what: str, total: int):
        self.what, self.total, self.done, self.t0 = what, total, 0, time.perf_counter()

    def step(self) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / self.done * (self.total - self.done)
        log.info("%s %d/%d  %.0f s  ETA %.0f s", self.what, self.done, self.total, elapsed, eta)


def _gather(client, futures: list, what: str) -> list:
    from distributed import as_completed

    progress = Progress(what, len(futures))
    for _ in as_completed(futures):
        progress.step()
    return client.gather(futures)


class Learner:
    """One ``deeppot learn`` run (``cfg`` from :func:`deeppot.learn.config.load_learn_input`)."""

    def __init__(self, cfg: dict, where: str = "learn input"):
        from deeppot.learn.structures import check_stage_indices, read_structures
        from deeppot.train.config import load_config

        self.cfg = cfg
        self.where = where
        self.root = make_dirs(cfg["work_dir"])
        self.structures = read_structures(cfg["explore"]["structures"])
        check_stage_indices(cfg["explore"]["schedule"], len(self.structures), where)
        self.train_template = load_config(cfg["train"]["input"])
        self.train_template.setdefault("training", {})
        self.train_template["training"]["validation_data"] = None

    # ----- paths and state ---------------------------------------------------------------
    def iter_dir(self, it: int) -> Path:
        return self.root / f"iter.{it:03d}"

    def summary(self, it: int) -> dict | None:
        return _read_json(self.iter_dir(it) / "summary.json")

    def data_paths(self, it: int) -> list[str]:
        """Training systems of iteration ``it``: init_data and the labels of earlier iterations."""
        paths = list(self.cfg["init_data"])
        for j in range(it):
            data = self.iter_dir(j) / "03.label" / "data"
            if tasks.is_done(data.parent) and data.is_dir() and any(data.iterdir()):
                paths.append(str(data))
        return paths

    def stage_of(self, it: int) -> int | None:
        """Schedule stage explored at iteration ``it`` (None: every stage passed, converged)."""
        sel = self.cfg["select"]
        stage = 0
        for j in range(it):
            summary = self.summary(j)
            stopped = sel["converge_without_stops"] and summary.get("explore_stopped", 0) > 0
            if summary["accurate_fraction"] >= sel["converge_accurate"] and not stopped:
                stage += 1
        return stage if stage < len(self.cfg["explore"]["schedule"]) else None

    # ----- the loop ------------------------------------------------------------------------
    def run(self, client) -> list[dict]:
        from deeppot.learn.report import write_report

        summaries = []
        for it in range(self.cfg["max_iterations"]):
            stage = self.stage_of(it)
            if stage is None:
                log.info("converged: every stage of the schedule reached accurate fraction ≥ %g",
                         self.cfg["select"]["converge_accurate"])
                break
            summary = self.summary(it)
            if summary is None:
                summary = self.iteration(client, it, stage)
            else:
                log.info("iteration %d: finished earlier (read back)", it)
            summaries.append(summary)
            write_report(self.root, summaries, self.cfg)
        else:
            if self.stage_of(self.cfg["max_iterations"]) is not None:
                log.warning("not converged after max_iterations %d (stage %d of %d)", self.cfg["max_iterations"],
                            self.stage_of(self.cfg["max_iterations"]) + 1, len(self.cfg["explore"]["schedule"]))
            else:
                log.info("converged: every stage of the schedule reached accurate fraction ≥ %g",
                         self.cfg["select"]["converge_accurate"])
        return summaries

    def iteration(self, client, it: int, stage: int) -> dict:
        t0 = time.perf_counter()
        directory = make_dirs(self.iter_dir(it))
        log.info("iteration %d: stage %d of %d", it, stage + 1, len(self.cfg["explore"]["schedule"]))
        models = self.train(client, it)
        held_out = self.held_out(client, it, models)
        runs = self.explore(client, it, stage, models)
        selection = self.select(it, stage, runs, models)
        labels = self.label(client, it, runs, selection)
        summary = {"iteration": it, "stage": stage,
                   "temperatures_K": self.cfg["explore"]["schedule"][stage]["temperatures_K"],
                   **selection["counts"], "accurate_fraction": selection["accurate_fraction"],
                   "labels_added": labels["added"], "labels_failed": labels["failed"],
                   "labels_total": self.count_labels(it + 1), "held_out": held_out,
                   "explore_stopped": sum(1 for r in runs if r["stopped"]),
                   "seconds": time.perf_counter() - t0}
        _write_json(directory / "summary.json", summary)
        log.info("iteration %d: accurate %.3f candidate %.3f failed %.3f; %d labels added (%d failed)", it,
                 summary["accurate"] / max(summary["frames"], 1), summary["candidate"] / max(summary["frames"], 1),
                 summary["failed"] / max(summary["frames"], 1), labels["added"], labels["failed"])
        return summary

    def count_labels(self, it: int) -> int:
        """Labelled frames added by the loop before iteration ``it`` (init_data not counted)."""
        from deeppot.data import load_systems

        paths = self.data_paths(it)[len(self.cfg["init_data"]):]
        return sum(s.nframes for s in load_systems(paths, self.cfg["type_map"])) if paths else 0

    # ----- stages --------------------------------------------------------------------------
    def member_config(self, it: int, k: int, warm: bool) -> dict:
        from deeppot.train.config import normalize, resolve_systems

        raw = json.loads(json.dumps(self.train_template))
        tr = raw["training"]
        seed = self.cfg["train"]["seed"] + k
        data = dict(tr.get("training_data") or {})
        data["systems"] = self.data_paths(it)
        data.pop("sys_probs", None)
        if isinstance(data.get("batch_size"), list):
            data["batch_size"] = "auto"
        tr.update(training_data=data, seed=seed, save_ckpt="model.ckpt", disp_file="lcurve.out", stat_file=None)
        if warm and self.cfg["train"]["warm_steps"]:
            tr["numb_steps"] = self.cfg["train"]["warm_steps"]
        if warm:  # DP-GEN's training_reuse_*: continue gently rather than retrain from a high lr
            train = self.cfg["train"]
            for key, section, field in (("warm_start_lr", "learning_rate", "start_lr"),
                                        ("warm_start_pref_e", "loss", "start_pref_e"),
                                        ("warm_start_pref_f", "loss", "start_pref_f")):
                if train.get(key) is not None:
                    raw.setdefault(section, {})[field] = train[key]
        raw["model"]["descriptor"]["seed"] = seed
        raw["model"].setdefault("fitting_net", {})["seed"] = seed
        raw["model"]["type_map"] = self.cfg["type_map"]
        where = f"{self.cfg['train']['input']} (member {k}, iteration {it})"
        cfg = normalize(raw, where=where)
        resolve_systems(cfg, Path("/"), where)
        return cfg

    def train(self, client, it: int) -> list[str]:
        train_dir = self.iter_dir(it) / "00.train"
        warm = it > 0 and self.cfg["train"]["warm_steps"] is not None
        results: list[dict | None] = []
        futures, todo = [], []
        for k in range(self.cfg["train"]["numb_models"]):
            member = make_dirs(train_dir / f"member.{k:03d}")
            results.append(tasks.is_done(member))
            if results[-1]:
                continue
            cfg = self.member_config(it, k, warm)
            _write_json(member / "input.json", cfg)
            init = str(self.iter_dir(it - 1) / "00.train" / f"member.{k:03d}") if warm else None
            futures.append(client.submit(tasks.train_member, str(member), cfg, init, pure=False))
            todo.append(k)
        if futures:
            for k, r in zip(todo, _gather(client, futures, f"iteration {it} train")):
                results[k] = r
        return [r["model"] for r in results]

    def held_out(self, client, it: int, models: list[str]) -> dict | None:
        if not self.cfg["test_data"]:
            return None
        path = self.iter_dir(it) / "00.train" / "held_out.json"
        result = _read_json(path)
        if result is None:
            result = client.submit(tasks.held_out_errors, models, self.cfg["test_data"], self.cfg["type_map"],
                                   pure=False).result()
            _write_json(path, result)
        log.info("iteration %d: held-out RMSE e %.2e eV/atom, f %.3f eV/Å", it, result["rmse_e_eV_atom"],
                 result["rmse_f_eV_A"])
        return result

    def explore(self, client, it: int, stage: int, models: list[str]) -> list[dict]:
        spec = self.cfg["explore"]
        plan = spec["schedule"][stage]
        starts = plan["structures"] if plan["structures"] is not None else range(len(self.structures))
        limits = {k: spec[k] for k in ("min_distance_A", "max_force_eV_A", "pre_stop_frames", "pre_stop_every")}
        futures, dirs = [], []
        for s in starts:
            for temperature in plan["temperatures_K"]:
                k = len(futures)
                task = make_dirs(self.iter_dir(it) / "01.explore" / f"task.{k:03d}")
                run = dict(plan, temperature_K=temperature)
                _write_json(task / "input.json", {"structure": s, **run})
                seed = spec["seed"] + 1000 * it + k
                futures.append(client.submit(tasks.explore_run, str(task), models, self.structures[s], run, seed,
                                             limits, pure=False))
                dirs.append(str(task))
        results = _gather(client, futures, f"iteration {it} explore")
        for r, d in zip(results, dirs):
            r["dir"] = d
            if r["stopped"]:
                log.warning("iteration %d: %s stopped early: %s (%d states before the stop kept)", it, Path(d).name,
                            r["stopped"], r.get("pre_stop_frames", 0))
        return results

    def select(self, it: int, stage: int, runs: list[dict], models: list[str]) -> dict:
        path = self.iter_dir(it) / "02.select.json"
        done = _read_json(path)
        if done:
            return done
        sel = self.cfg["select"]
        frames = [tasks.load_frames(r["dir"]) for r in runs]
        index = [(t, f) for t, fr in enumerate(frames) for f in range(len(fr["coord"]))]
        devi = np.concatenate([fr["devi"] for fr in frames]) if index else np.zeros((0, 8))
        categories = select.classify(devi[:, 4], sel["trust_lo"], sel["trust_hi"], devi[:, 1],
                                     sel["trust_lo_v"], sel["trust_hi_v"])

        def features_for(rows: np.ndarray) -> np.ndarray:
            from deeppot.model.dp_format import load_model

            model = load_model(models[0])
            out = []
            for r in rows:
                t, f = index[r]
                fr = frames[t]
                out.append(select.frame_features(model, fr["coord"][f:f + 1],
                                                 None if fr["box"] is None else fr["box"][f:f + 1], fr["atype"])[0])
            return np.asarray(out)

        # the fractions are over the regular frames (every traj_every steps); the dense states kept
        # from just before a safety stop may be labelled but would skew them
        regular_of_run = [~fr["pre_stop"] for fr in frames]
        regular = np.concatenate(regular_of_run) if index else np.zeros(0, dtype=bool)
        eligible = categories.copy()
        if sel["label_pre_stop_failed"]:
            eligible[~regular & (categories == select.FAILED) & np.isfinite(devi[:, 4])] = select.CANDIDATE
        chosen = select.choose(eligible, devi[:, 4], sel["fp_task_max"], sel["fp_task_min"], features_for)
        counts = {name: int((categories[regular] == code).sum()) for code, name in select.NAMES.items()}
        counts["pre_stop_candidates"] = int((eligible[~regular] == select.CANDIDATE).sum())
        # a run cut short by a safety stop (atoms too close, huge force) never reached its later
        # frames; they count as failed, or a blown-up run would look accurate
        plan = self.cfg["explore"]["schedule"][stage]
        expected = plan["steps"] // plan["traj_every"] + 1
        counts["unreached"] = sum(max(expected - int(r.sum()), 0) for r in regular_of_run)
        counts["failed"] += counts["unreached"]
        counts["frames"] = int(regular.sum()) + counts["unreached"]
        result = {"stage": stage, "counts": counts,
                  "accurate_fraction": counts["accurate"] / counts["frames"] if counts["frames"] else 0.0,
                  "chosen": [list(index[c]) for c in chosen]}
        _write_json(path, result)
        return result

    def label(self, client, it: int, runs: list[dict], selection: dict) -> dict:
        label_dir = make_dirs(self.iter_dir(it) / "03.label")
        done = tasks.is_done(label_dir)
        if done:
            return done
        frames = {}
        futures = []
        for k, (t, f) in enumerate(selection["chosen"]):
            if t not in frames:
                frames[t] = tasks.load_frames(runs[t]["dir"])
            fr = frames[t]
            symbols = [fr["type_map"][a] for a in fr["atype"]]
            futures.append(client.submit(tasks.label_frame, str(label_dir / f"frame.{k:04d}.npz"), symbols,
                                         fr["coord"][f], None if fr["box"] is None else fr["box"][f],
                                         self.cfg["label"], pure=False))
        results = _gather(client, futures, f"iteration {it} label") if futures else []
        failed = [{"frame": selection["chosen"][k], "message": r["message"]} for k, r in enumerate(results)
                  if not r["ok"]]
        for item in failed:
            log.warning("iteration %d: labelling task %s frame %s failed (skipped): %s", it, *item["frame"],
                        item["message"])
        added = self._merge(label_dir, selection["chosen"], frames)
        _write_json(label_dir / "failed.json", failed)
        return tasks.mark_done(label_dir, {"added": added, "failed": len(failed)})

    def _merge(self, label_dir: Path, chosen: list, frames: dict) -> int:
        """Successful labels as DeePMD npy systems under ``label_dir/data`` (one per atom list)."""
        from deeppot.data.deepmd_npy import write_deepmd_npy
        from deeppot.data.system import System

        groups: dict[tuple, dict] = {}
        for k, (t, f) in enumerate(chosen):
            with np.load(label_dir / f"frame.{k:04d}.npz") as data:
                if not bool(data["ok"]):
                    continue
                label = {name: data[name] for name in ("energy", "force", "virial")}
            fr = frames[t]
            key = tuple(fr["atype"].tolist())
            g = groups.setdefault(key, {"atype": fr["atype"], "coord": [], "box": [], "energy": [], "force": [],
                                        "virial": [], "type_map": fr["type_map"]})
            g["coord"].append(fr["coord"][f])
            g["box"].append(None if fr["box"] is None else fr["box"][f])
            g["energy"].append(float(label["energy"]))
            g["force"].append(label["force"])
            g["virial"].append(label["virial"] if label["virial"].size else None)
        if not groups:
            return 0
        added = 0
        with atomic_dir(label_dir / "data", force=True) as tmp:
            for n, g in enumerate(groups.values()):
                box = None if g["box"][0] is None else np.asarray(g["box"])
                virial = None if any(v is None for v in g["virial"]) else np.asarray(g["virial"])
                system = System(str(label_dir / "data"), list(g["type_map"]), np.asarray(g["atype"]),
                                np.asarray(g["coord"]), box, np.asarray(g["energy"]), np.asarray(g["force"]),
                                virial)
                system.validate()
                write_deepmd_npy(system, tmp / f"sys.{n:03d}")
                added += system.nframes
        return added


def run_learn(input_path: str | Path) -> list[dict]:
    """Python API of ``deeppot learn INPUT``: run (or continue) the loop; the per-iteration summaries."""
    from deeppot.learn.config import load_learn_input

    cfg = load_learn_input(input_path)
    learner = Learner(cfg, where=str(input_path))
    with tasks.LazyClient(cfg["dask"]) as client:
        return learner.run(client)
