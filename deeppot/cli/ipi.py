"""``deeppot ipi``: serve forces to an i-PI server (path-integral MD) over a UNIX or TCP socket."""

from __future__ import annotations

HELP = "run as an i-PI client (path-integral MD)"


def add_arguments(parser) -> None:
    from deeppot.cli.argtypes import port

    pot = parser.add_mutually_exclusive_group(required=True)
    pot.add_argument("-m", "--model", help="deeppot / DeePMD-kit model file (.dp)")
    pot.add_argument("--lj", metavar="EPS,SIGMA,RCUT", help="Lennard-Jones (eV, Å, Å) instead of a model")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix", metavar="NAME", help="i-PI UNIX socket: a path, or NAME for /tmp/ipi_NAME")
    where.add_argument("--port", type=port, help="i-PI TCP port (with --host)")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--structure", default=None,
                        help="template structure (any ASE file) giving each atom's element, in i-PI's atom order")
    parser.add_argument("--open", action="store_true", help="ignore the cell (cluster / gas phase)")


def run(args) -> int:
    import logging

    import torch

    from deeppot.errors import DeeppotError
    from deeppot.interfaces.ipi import IPIDriver, connect

    logging.basicConfig(level=logging.INFO, format="deeppot %(levelname)s %(message)s")
    if args.model:
        from deeppot.model.potential import ModelPotential

        potential = ModelPotential(args.model)
    else:
        from deeppot.potentials.lj import LennardJones

        try:
            eps, sigma, rcut = (float(x) for x in args.lj.split(","))
        except ValueError:
            raise DeeppotError(f"--lj {args.lj!r}: expected EPS,SIGMA,RCUT") from None
        potential = LennardJones(eps, sigma, rcut)
    if args.structure is None:
        if args.model:
            raise DeeppotError("--structure is required with a model: i-PI sends positions only, not elements")
        atype = None
    else:
        import ase.io

        try:
            symbols = ase.io.read(args.structure).get_chemical_symbols()
        except Exception as err:
            raise DeeppotError(f"{args.structure}: cannot read ({type(err).__name__}: {err})") from None
        from deeppot.data.type_map import resolve_type_map, types_of

        type_map = resolve_type_map(potential.type_map, symbols)
        atype = torch.as_tensor(types_of(symbols, type_map, args.structure, whose="the model's"))
    sock = connect(args.unix, args.host, args.port)
    try:
        return IPIDriver(potential, atype, periodic=not args.open).serve(sock)
    finally:
        sock.close()

