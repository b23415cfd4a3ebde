"""``deeppot test``: energy / force / virial errors of a model on labelled data."""

from __future__ import annotations

HELP = "energy / force / virial errors of a model on labelled data"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import nonnegative_int, output_file

    parser.add_argument("-m", "--model", required=True, help="model file (.dp)")
    parser.add_argument("-s", "--system", nargs="+", required=True, help="labelled systems")
    parser.add_argument("-n", "--numb-test", type=nonnegative_int, default=0, help="frames per system (0: all)")
    parser.add_argument("-d", "--detail-file", default=None, type=output_file,
                        help="prefix of per-frame detail files and parity plot")
    parser.add_argument("--json", default=None, type=output_file, help="write the summary as JSON to this file")
    from deeppot.cli.outputs import add_force

    add_force(parser)


def run(args) -> int:
    import json

    from deeppot.cli.outputs import check_output, first_line_contains, is_test_json
    from deeppot.data import load_systems
    from deeppot.fileio import atomic_write
    from deeppot.model.accuracy import Errors, accumulate_errors, as_json, report_lines, write_detail
    from deeppot.model.deep_pot import DeepPot

    inputs = (args.model, *args.system)
    if args.json:
        check_output(args.json, args.force, "deeppot test summary", is_test_json, inputs)
    if args.detail_file:
        for suffix, word in (("e", "data_e"), ("e_peratom", "data_e"), ("f", "data_fx"), ("v", "data_v0")):
            check_output(f"{args.detail_file}.{suffix}.out", args.force, "deeppot test detail file",
                         first_line_contains(word), inputs)
    dp = DeepPot(args.model)
    systems = load_systems(args.system, type_map=dp.get_type_map())
    total = Errors()
    detail: dict | None = {} if args.detail_file else None
    for system in systems:
        errors = Errors()
        accumulate_errors(dp, system, args.numb_test, errors, detail)
        total.merge(errors)
        print(f"# testing system : {system.path}")
        print("\n".join(report_lines(errors)))
    if len(systems) > 1:
        print("# weighted average of errors over all systems")
        print("\n".join(report_lines(total)))
    if detail is not None:
        write_detail(args.detail_file, detail)
    if args.json:
        with atomic_write(args.json, "w") as handle:
            json.dump(as_json(total), handle, indent=1)
    return 0

