"""DeePCG: coarse-grained potentials by force matching (Zhang et al., J. Chem. Phys. 149, 034101 (2018)).

Workflow: an atomistic trajectory with forces → :func:`map_trajectories` (site or centre-of-mass
map) → a CG DeePMD npy system → ``deeppot train`` with energy prefactors 0 → CG ``deeppot md``
with the site masses of the map → ``deeppot analyze``. :func:`force_matching_loss` bounds the
noise floor of the force-matching loss from above (SCIENCE.md §5.2).
"""

from deeppot.cg.io import map_trajectories, read_cg_masses, read_trajectory, write_cg_system
from deeppot.cg.mapping import CGMap, build_map, com_map, site_map
from deeppot.cg.molecules import find_molecules, read_index_file
from deeppot.cg.noise import force_matching_loss, predicted_forces

__all__ = ["CGMap", "build_map", "site_map", "com_map", "find_molecules", "read_index_file",
           "map_trajectories", "read_trajectory", "write_cg_system", "read_cg_masses", "force_matching_loss",
           "predicted_forces"]
