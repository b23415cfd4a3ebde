#!/usr/bin/env bash
# The main job on the bundled example: train a small water model on DFT data, freeze and test it,
# run NVT molecular dynamics with it, and compare the O-O radial distribution function of the
# MD trajectory with that of the DFT frames. About 5-10 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/demo"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=PASSIVE

echo "== 1. neighbour statistics of the data"
deeppot neighbor-stat -s ../data -r 6.0 -t O H
echo "== 2. train (DeePMD-kit input keys; lcurve.out + lcurve.png)"
deeppot train input.json
echo "== 3. freeze and test on held-out frames (parity plot in test.parity.png)"
deeppot freeze -o water.dp
deeppot test -m water.dp -s ../data/data_2 -n 20 -d test --json test.json
echo "== 4. NVT molecular dynamics (md_out/thermo.log, md_out/traj.extxyz)"
deeppot md md.json
echo "== 5. O-O radial distribution function: MD vs DFT frames (rdf_OO.csv, rdf_OO.png)"
deeppot analyze rdf md_out/traj.extxyz ../data/data_2 --pair O O --rmax 6 --nbins 120 -o rdf_OO.csv
