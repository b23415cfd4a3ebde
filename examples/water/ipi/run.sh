#!/usr/bin/env bash
# Path-integral MD of water: i-PI integrates 8 ring-polymer beads, deeppot supplies the forces.
# Needs a model: run ../demo.sh first (or pass MODEL=path/to/model.dp).  pip install ipi
set -euo pipefail
cd "$(dirname "$0")"
MODEL=${MODEL:-../demo/water.dp}
STEPS=${STEPS:-2000}
python - <<PY
from deeppot.data import load_system
from deeppot.data.ase_formats import to_atoms
atoms = to_atoms(load_system("../data/data_2"), 0)
a, b, c, al, be, ga = atoms.cell.cellpar()
with open("init.xyz", "w") as f:
    f.write(f"{len(atoms)}\n# CELL(abcABC): {a} {b} {c} {al} {be} {ga} cell{{angstrom}} positions{{angstrom}}\n")
    for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions):
        f.write(f"{s} {x:.8f} {y:.8f} {z:.8f}\n")
PY
sed "s|<total_steps>[0-9]*</total_steps>|<total_steps>${STEPS}</total_steps>|" input.xml > run.xml
rm -f /tmp/ipi_water
i-pi run.xml > ipi.log 2>&1 &
server=$!
for _ in $(seq 150); do [ -S /tmp/ipi_water ] && break; kill -0 $server 2>/dev/null || { tail -5 ipi.log; exit 1; }; sleep 0.2; done
deeppot ipi -m "$MODEL" --unix water --structure init.xyz
wait $server
tail -3 pimd.out
