"""``deeppot freeze``: write the model of a checkpoint as a safe ``.dp`` model file."""

from __future__ import annotations

HELP = "write a trained checkpoint as a safe model file (.dp)"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import output_file

    parser.add_argument("-c", "--checkpoint", default=".", help="checkpoint file, prefix or directory (default .)")
    parser.add_argument("-o", "--output", default="frozen_model.dp", type=output_file,
                        help="model file (default frozen_model.dp); an existing model file there is replaced")
    from deeppot.cli.outputs import add_force

    add_force(parser)


def run(args) -> int:
    from deeppot.cli.outputs import check_output, is_model_file
    from deeppot.model.dp_format import save_model
    from deeppot.train.checkpoint import resolve
    from deeppot.train.trainer import model_from_checkpoint

    check_output(args.output, args.force, "model file", is_model_file)
    model = model_from_checkpoint(args.checkpoint)
    save_model(model, args.output)
    print(f"freeze: {resolve(args.checkpoint)} -> {args.output}")
    return 0
