"""``deeppot neighbor-stat``: minimum distance and maximum neighbour counts, as ``dp neighbor-stat``."""

from __future__ import annotations

HELP = "minimum distance and maximum neighbour counts of data"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import TypeMapAction, positive_float

    parser.add_argument("-s", "--system", nargs="+", required=True, help="systems (DeePMD dirs, parents, files)")
    parser.add_argument("-r", "--rcut", type=positive_float, required=True, help="cutoff radius in Å")
    parser.add_argument("-t", "--type-map", nargs="+", default=None, action=TypeMapAction,
                        help="element order, e.g. O H")


def run(args) -> int:
    from deeppot.data import load_systems
    from deeppot.data.stat import auto_sel, neighbor_stat

    systems = load_systems(args.system, type_map=args.type_map)
    type_map = systems[0].type_map
    min_dist, max_count = neighbor_stat(systems, args.rcut, type_map, progress=True)
    print(f"type_map: {type_map}")
    print(f"min_nbor_dist: {min_dist:.6f}")
    print(f"max_nbor_size: {max_count}")
    print(f"sel (auto, x1.1 rounded to 4): {auto_sel(max_count)}")
    return 0
