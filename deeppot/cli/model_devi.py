"""``deeppot model-devi``: model deviation of an ensemble along a trajectory or system."""

from __future__ import annotations

HELP = "model deviation of an ensemble on a trajectory or system"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import output_file, positive_int

    parser.add_argument("-m", "--models", nargs="+", required=True, help="model files (.dp), at least two")
    parser.add_argument("-s", "--system", required=True, help="system (DeePMD dir) or trajectory (extxyz ...)")
    parser.add_argument("-o", "--output", default="model_devi.out", type=output_file,
                        help="output file (default model_devi.out)")
    from deeppot.cli.outputs import add_force

    add_force(parser)
    parser.add_argument("-f", "--frequency", type=positive_int, default=1, help="steps between frames (step column)")


def run(args) -> int:
    import numpy as np

    from deeppot.cli.outputs import check_output, first_line_contains
    from deeppot.data import load_system
    from deeppot.errors import DeeppotError
    from deeppot.fileio import atomic_write
    from deeppot.model.deep_pot import DeepPot
    from deeppot.model.deviation import HEADER, ensemble_deviation

    check_output(args.output, args.force, "model-devi output", first_line_contains("max_devi_f"),
                 inputs=(*args.models, args.system))
    if len(args.models) < 2:
        raise DeeppotError("model-devi needs at least two models")
    models = [DeepPot(m) for m in args.models]
    type_map = models[0].get_type_map()
    for path, m in zip(args.models[1:], models[1:]):
        if m.get_type_map() != type_map:
            raise DeeppotError(f"{path}: type_map {m.get_type_map()} differs from {args.models[0]}'s {type_map}")
    system = load_system(args.system, type_map=type_map)
    nf = system.nframes
    cell = None if system.box is None else system.box.reshape(nf, 9)
    devi = ensemble_deviation(models, system.coord.reshape(nf, -1), cell, system.atype)
    steps = np.arange(nf) * args.frequency
    with atomic_write(args.output, "w") as handle:
        np.savetxt(handle, np.column_stack([steps, devi]), fmt=["%12d"] + ["%18.6e"] * 7, header=HEADER)
    print(f"model-devi: {nf} frames, max devi_f {devi[:, 3].max():.4e} eV/Å -> {args.output}")
    return 0
