"""``deeppot convert IN OUT --from FMT --to FMT``: data from DFT codes to DeePMD format and back."""

from __future__ import annotations

HELP = "convert data between formats (dpdata / ASE)"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import TypeMapAction

    parser.add_argument("input", help="input file or directory")
    parser.add_argument("output", help="output file or directory")
    parser.add_argument("--from", dest="fmt_in", default="auto",
                        help="input format: deepmd/npy, deepmd/raw, extxyz, vasp/outcar, vasp/xml, vasp/poscar, "
                             "lammps/dump, lammps/lmp, cp2k/output, qe/pw/scf, abacus/scf, ... (any dpdata format)")
    parser.add_argument("--to", dest="fmt_out", default="deepmd/npy", help="output format (default deepmd/npy)")
    parser.add_argument("--type-map", nargs="+", default=None, action=TypeMapAction, help="element order, e.g. O H")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing output (never the input, the current directory or its parents)")


def run(args) -> int:
    from deeppot.data.convert import check_output, read, write

    check_output(args.output, [args.input], args.force)
    system = read(args.input, args.fmt_in, args.type_map)
    write(system, args.output, args.fmt_out, force=args.force)
    labels = [name for name in ("energy", "force", "virial") if system.has(name)]
    print(f"convert: {system.nframes} frames x {system.natoms} atoms ({', '.join(system.type_map)}; "
          f"labels: {', '.join(labels) or 'none'}) -> {args.output} [{args.fmt_out}]")
    return 0
