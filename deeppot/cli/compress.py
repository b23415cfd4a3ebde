"""``deeppot compress``: tabulate the embedding nets of a model (DP Compress) and report the error."""

from __future__ import annotations

HELP = "tabulate embedding nets for faster inference"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import output_file, positive_float, positive_int

    parser.add_argument("-i", "--input", required=True, help="model file to compress (.dp)")
    parser.add_argument("-o", "--output", required=True, type=output_file,
                        help="compressed model file (.dp); an existing model file there (not the input) is replaced")
    parser.add_argument("-s", "--step", type=positive_float, default=0.01,
                        help="table stride in the normalised input (default 0.01; 10x beyond the data range)")
    parser.add_argument("-e", "--extrapolate", type=positive_float, default=5.0,
                        help="tabulate up to this multiple of the data range's upper edge (default 5)")
    parser.add_argument("--data", nargs="*", default=None, metavar="SYSTEM",
                        help="labelled systems to measure the accuracy loss on (and min_nbor_dist "
                             "when the model does not store it)")
    parser.add_argument("-n", "--nframes", type=positive_int, default=4, help="frames per system for the check")
    parser.add_argument("--min-nbor-dist", type=positive_float, default=None,
                        help="closest neighbour distance (Å) the table must cover")
    from deeppot.cli.outputs import add_force

    add_force(parser)


def run(args) -> int:
    import numpy as np
    import torch

    from deeppot.cli.outputs import check_output, is_model_file
    from deeppot.errors import ModelFileError
    from deeppot.model.compress import compress_model, tabulation_error
    from deeppot.model.deep_pot import DeepPot
    from deeppot.model.dp_format import load_model, save_model

    check_output(args.output, args.force, "model file", is_model_file, inputs=(args.input,))
    model = load_model(args.input)
    if getattr(model, "compression", None):
        raise ModelFileError(f"{args.input}: model is already compressed")
    systems = []
    if args.data:
        from deeppot.data import load_systems

        systems = load_systems(args.data, type_map=model.type_map)
    min_dist = args.min_nbor_dist or model.min_nbor_dist
    if min_dist is None and systems:
        from deeppot.data.stat import neighbor_stat

        min_dist, _ = neighbor_stat(systems, model.rcut, model.type_map)
        model.min_nbor_dist = float(min_dist)
    if min_dist is None:
        raise ModelFileError(f"{args.input}: the model does not store min_nbor_dist; "
                             "pass --data SYSTEM... or --min-nbor-dist")
    reference = DeepPot(load_model(args.input))
    compress_model(model, float(min_dist), args.step, args.extrapolate)
    print(f"compress: tables over normalised s in [{model.compression['lower']:g}, "
          f"{model.compression['upper']:g}] step {args.step:g}, extrapolated to x{args.extrapolate:g}")
    print(f"compress: max |G_table - G_net| over the table range: {tabulation_error(model):.3e}")
    compressed = DeepPot(model)
    for system in systems:
        nf = min(args.nframes, system.nframes)
        coord = system.coord[:nf].reshape(nf, -1)
        cell = None if system.box is None else system.box[:nf].reshape(nf, 9)
        e0, f0, v0 = reference.eval(coord, cell, system.atype)
        e1, f1, v1 = compressed.eval(coord, cell, system.atype)
        print(f"compress: {system.path}: max |dE|/atom {np.abs(e1 - e0).max() / system.natoms:.3e} eV, "
              f"max |dF| {np.abs(f1 - f0).max():.3e} eV/Å, max |dW| {np.abs(v1 - v0).max():.3e} eV")
    del torch
    save_model(model, args.output)
    print(f"compress: wrote {args.output}")
    return 0
