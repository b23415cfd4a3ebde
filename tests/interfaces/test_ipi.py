"""The i-PI client against the real i-PI server (PyPI ``ipi``): UNIX and TCP sockets, several beads."""

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from ase import units

pytestmark = pytest.mark.skipif(shutil.which("i-pi") is None and not Path(sys.executable).with_name("i-pi").exists(),
                                reason="i-PI is not installed (pip install ipi)")
IPI = str(Path(sys.executable).with_name("i-pi")) if Path(sys.executable).with_name("i-pi").exists() else "i-pi"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_xyz(path, atoms):
    a, b, c, al, be, ga = atoms.cell.cellpar()
    lines = [str(len(atoms)), f"# CELL(abcABC): {a} {b} {c} {al} {be} {ga} cell{{angstrom}} positions{{angstrom}}"]
    lines += [f"{s} {x:.10f} {y:.10f} {z:.10f}" for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions)]
    path.write_text("\n".join(lines) + "\n")


def run_ipi(wd: Path, atoms, client_args, mode="unix", nbeads=4, steps=4, driver_cmd=None, clients=1):
    """Run i-PI in ``wd`` with ``clients`` client processes connected at once; returns sim.out."""
    write_xyz(wd / "init.xyz", atoms)
    port = free_port()
    address = "<address>ml</address>" if mode == "unix" else f"<address>127.0.0.1</address><port>{port}</port>"
    mode_attr = "unix" if mode == "unix" else "inet"
    xml = f"""<simulation verbosity="low" sockets_prefix="{wd}/s_">
  <output prefix="sim">
    <properties stride="1" filename="out"> [ step, potential{{electronvolt}}, virial_md ] </properties>
    <trajectory filename="pos" stride="1" format="xyz" cell_units="angstrom">positions{{angstrom}}</trajectory>
  </output>
  <total_steps>{steps}</total_steps> <prng><seed>31415</seed></prng>
  <ffsocket name="ml" mode="{mode_attr}" pbc="false">{address}<latency>1e-4</latency></ffsocket>
  <system><initialize nbeads="{nbeads}"><file mode="xyz" units="angstrom">init.xyz</file>
      <velocities mode="thermal" units="kelvin">300</velocities></initialize>
    <forces><force forcefield="ml"/></forces>
    <motion mode="dynamics"><dynamics mode="nvt"><timestep units="femtosecond">0.25</timestep>
      <thermostat mode="pile_l"><tau units="femtosecond">100</tau></thermostat></dynamics></motion>
    <ensemble><temperature units="kelvin">300</temperature></ensemble></system></simulation>"""
    (wd / "input.xml").write_text(xml)
    log = open(wd / "ipi.log", "w")
    server = subprocess.Popen([IPI, "input.xml"], cwd=wd, stdout=log, stderr=subprocess.STDOUT)
    target = f"{wd}/s_ml"
    deadline = time.time() + 30
    while time.time() < deadline:
        assert server.poll() is None, (wd / "ipi.log").read_text()[-2000:]
        try:
            with socket.socket(socket.AF_UNIX if mode == "unix" else socket.AF_INET) as probe:
                probe.connect(target if mode == "unix" else ("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.2)
    where = ["--unix", target] if mode == "unix" else ["--port", str(port)]
    cmd = driver_cmd(where) if driver_cmd else [sys.executable, "-m", "deeppot.cli.main", "ipi", *client_args, *where]
    procs = [subprocess.Popen(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(clients)]
    assert server.wait(timeout=120) == 0, (wd / "ipi.log").read_text()[-2000:]
    for k, proc in enumerate(procs):
        _, err = proc.communicate(timeout=60)
        (wd / f"client{k}.err").write_text(err)
        assert proc.returncode == 0, err[-2000:]
    return np.loadtxt(wd / "sim.out")


@pytest.fixture
def short_tmp():
    d = Path(tempfile.mkdtemp(prefix="ipi_", dir="/tmp"))  # AF_UNIX paths are limited to 107 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("mode", ["unix", "inet"])
def test_pimd_water_with_deeppot_model(short_tmp, parity_dir, water_data, mode):
    from deeppot import DeepPot
    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms

    atoms = to_atoms(load_system(water_data / "data_2"), 0)
    atoms.write(short_tmp / "template.xyz")
    shutil.copy(parity_dir / "se_e2_a_one_side.dp", short_tmp / "m.dp")
    out = run_ipi(short_tmp, atoms, ["-m", "m.dp", "--structure", "template.xyz"], mode=mode)
    assert out[-1, 0] == 4
    import ase.io

    beads = [ase.io.read(short_tmp / f"sim.pos_{b}.xyz", ":") for b in range(4)]
    dp = DeepPot(short_tmp / "m.dp")
    cell = atoms.cell.array.reshape(1, 9)
    for step in range(len(out)):
        results = [dp.eval(beads[b][step].positions.reshape(1, -1), cell, atoms.numbers * 0 + (atoms.numbers == 1))
                   for b in range(4)]
        potential = np.mean([r[0][0, 0] for r in results])
        assert abs(out[step, 1] - potential) < 1e-6 * abs(potential)
        virial = sum(r[2][0].reshape(3, 3).T for r in results) / units.Hartree  # i-PI: W = Σ r ⊗ F, Hartree
        volume = atoms.get_volume() / units.Bohr**3
        ours = np.array([virial[0, 0], virial[1, 1], virial[2, 2], virial[0, 1], virial[0, 2], virial[1, 2]]) / volume
        # the virial sums many cancelling terms: limited by i-PI's 9-digit xyz positions, not by the client
        assert np.abs(out[step, 2:8] - ours).max() < 3e-5 * np.abs(ours).max()


def test_lennard_jones_matches_ipi_own_ase_driver(short_tmp):
    from ase.build import bulk

    atoms = bulk("Ar", "fcc", a=5.3, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=3)
    ours = run_ipi(short_tmp, atoms, ["--lj", "0.0104,3.4,5.0"], nbeads=2, steps=3)
    pes = short_tmp / "ase_lj_pes.py"
    pes.write_text(
        "from ipi.pes._ase import ASEDriver\nfrom ase.calculators.lj import LennardJones\n"
        "__DRIVER_NAME__ = 'custom'\n__DRIVER_CLASS__ = 'LJDriver'\n"
        "class LJDriver(ASEDriver):\n"
        "    def __init__(self, template, *args, **kwargs):\n"
        "        super().__init__(template, *args, **kwargs)\n"
        "        self.template_ase.pbc = True\n"
        "    def check_parameters(self):\n"
        "        super().check_parameters()\n"
        "        self.ase_calculator = LennardJones(epsilon=0.0104, sigma=3.4, rc=5.0, smooth=False)\n")
    atoms.write(short_tmp / "template.xyz")
    driver = str(Path(sys.executable).with_name("i-pi-py_driver"))
    theirs = run_ipi(short_tmp, atoms, [], nbeads=2, steps=3,
                     driver_cmd=lambda where: [driver, "-m", "custom", "-P", str(pes), "-o", "template.xyz",
                                               "-u", "-a", "ml", "-S", f"{short_tmp}/s_"])
    assert np.abs(ours[:, 1] - theirs[:, 1]).max() < 1e-6 * np.abs(theirs[:, 1]).max()


def test_broken_connection_is_a_clear_error(short_tmp):
    import threading

    path = str(short_tmp / "s_broken")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def serve_and_drop():
        conn, _ = server.accept()
        conn.sendall(b"STATUS      ")
        conn.recv(12)
        conn.close()

    thread = threading.Thread(target=serve_and_drop)
    thread.start()
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "ipi", "--lj", "0.01,3.4,5", "--unix", path],
                         capture_output=True, text=True, timeout=60)
    thread.join()
    server.close()
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == "deeppot: error: i-PI server closed the connection (no EXIT received)"


def test_pimd_beads_shared_by_two_clients_equals_one_client(short_tmp, parity_dir, water_data):
    """Two ``deeppot ipi`` processes on one TCP socket (they could sit on two machines) split the 4 beads
    between them; the path-integral trajectory equals the one-client run (same seed) to 1e-10."""
    import ase.io

    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms

    atoms = to_atoms(load_system(water_data / "data_2"), 0)
    atoms.write(short_tmp / "template.xyz")
    shutil.copy(parity_dir / "se_e2_a_one_side.dp", short_tmp / "m.dp")
    args = ["-m", "m.dp", "--structure", "template.xyz"]
    runs = {}
    for clients in (1, 2):
        wd = short_tmp / f"c{clients}"
        wd.mkdir()
        for f in ("template.xyz", "m.dp"):
            shutil.copy(short_tmp / f, wd / f)
        out = run_ipi(wd, atoms, args, mode="inet", clients=clients, steps=4)
        calls = [int(re.search(r"after (\d+) force evaluations", (wd / f"client{k}.err").read_text()).group(1))
                 for k in range(clients)]
        beads = [ase.io.read(wd / f"sim.pos_{b}.xyz", ":") for b in range(4)]
        runs[clients] = (out, np.array([[frame.positions for frame in bead] for bead in beads]), calls)
    (out1, pos1, calls1), (out2, pos2, calls2) = runs[1], runs[2]
    assert sum(calls2) == calls1[0] and min(calls2) > 0  # both clients served beads
    assert out1[-1, 0] == 4 and out1.shape == out2.shape
    np.testing.assert_allclose(out2, out1, rtol=1e-10, atol=0)
    np.testing.assert_allclose(pos2, pos1, rtol=0, atol=1e-10)
    assert abs(out1[-1, 1] - out1[0, 1]) > 1e-4  # the beads moved: the potential changed
