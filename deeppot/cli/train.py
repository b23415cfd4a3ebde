"""``deeppot train input.json``: train a model from DeePMD-kit's input keys (JSON or YAML)."""

from __future__ import annotations

HELP = "train a model from a DeePMD-kit style input.json / yaml"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import positive_int

    parser.add_argument("input", help="input.json or input.yaml (DeePMD-kit keys)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--restart", metavar="CKPT", help="resume exactly from a checkpoint (file, prefix or dir)")
    group.add_argument("--init-model", metavar="CKPT", help="start from a checkpoint's weights, fresh optimizer")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch intra-op threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    import logging
    import os
    from pathlib import Path

    import torch

    from deeppot.interrupt import Interrupted, graceful_stop
    from deeppot.train.config import load_training_input
    from deeppot.train.trainer import Trainer

    logging.basicConfig(level=logging.INFO, format="deeppot %(levelname)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        import torch.distributed as dist

        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    # every check that needs no data runs here, before any work; data paths are relative to the input file
    cfg = load_training_input(args.input)
    with graceful_stop() as stop:  # loading data and statistics: nothing to save yet
        trainer = Trainer(cfg, Path.cwd(), restart=args.restart, init_model=args.init_model,
                          progress=not args.no_progress, input_name=args.input)
    if stop.requested:
        raise Interrupted(f"train stopped by {stop.name} before the first step (no checkpoint yet)", stop.signum)
    trainer.run()
    return 0
