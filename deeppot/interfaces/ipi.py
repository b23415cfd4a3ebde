"""i-PI client: path-integral (and any other) MD driven by i-PI with a deeppot potential.

Wire protocol (i-PI ``interfaces/sockets.py``; ECOSYSTEM.md §1): 12-byte space-padded ASCII
headers; native-endian int32 and float64 payloads.

====== ==================== ==============================================================
from   message              payload
====== ==================== ==============================================================
server STATUS               – ; client answers NEEDINIT, READY or HAVEDATA
server INIT                 int32 bead id, int32 n, n bytes of parameters
server POSDATA              9 f64 cell h (lattice vectors as *columns*), 9 f64 h⁻¹,
                            int32 natoms, 3·natoms f64 positions — all in Bohr
server GETFORCE             – ; client answers FORCEREADY, f64 energy (Ha), int32 natoms,
                            3·natoms f64 forces (Ha/Bohr), 9 f64 virial (Ha), int32 n, n bytes
server EXIT                 – ; the client stops
====== ==================== ==============================================================

Units are converted here and nowhere else. Positions arrive unwrapped; the neighbour search
handles any image. i-PI's virial is W = Σ r ⊗ F (Hartree), the transpose of DeePMD's index
order, so DeePMD's virial is sent transposed. i-PI may send POSDATA and GETFORCE in one packet,
so every read takes exactly its payload length.
"""

from __future__ import annotations

import logging
import socket
import struct

import numpy as np
import torch
from ase import units

from deeppot.errors import DeeppotError

log = logging.getLogger("deeppot.ipi")
HEADER = 12
BOHR_A = units.Bohr  # Å per Bohr
HARTREE_EV = units.Hartree  # eV per Hartree


class SocketClosed(DeeppotError):
    """The i-PI server closed the connection without sending EXIT."""


class IPIProtocol:
    """Framing of i-PI messages over a connected socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def recvall(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = self.sock.recv(n - got)
            if not chunk:
                raise SocketClosed("i-PI server closed the connection (no EXIT received)")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv_header(self) -> str:
        return self.recvall(HEADER).decode("ascii").strip()

    def send_header(self, name: str) -> None:
        self.sock.sendall(name.ljust(HEADER).encode("ascii"))

    def recv_array(self, count: int, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        return np.frombuffer(self.recvall(count * dtype.itemsize), dtype=dtype).copy()

    def recv_int(self) -> int:
        return int(self.recv_array(1, np.int32)[0])


def connect(unix: str | None = None, host: str | None = None, port: int | None = None) -> socket.socket:
    try:
        if unix:
            path = unix if "/" in unix else f"/tmp/ipi_{unix}"
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
        else:
            sock = socket.create_connection((host or "127.0.0.1", int(port)))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as err:
        where = unix or f"{host}:{port}"
        raise DeeppotError(f"cannot connect to i-PI at {where}: {err.strerror or err}") from None
    return sock


class IPIDriver:
    """Answers i-PI's requests with a :class:`~deeppot.potentials.base.Potential`."""

    def __init__(self, potential, atype: torch.Tensor | None, periodic: bool = True):
        """``atype`` None: a single-species potential, all atoms type 0."""
        self.potential = potential
        self.atype = atype
        self.periodic = periodic
        self.calls = 0

    def evaluate(self, cell_h_bohr: np.ndarray, pos_bohr: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Energy (Ha), forces (Ha/Bohr), virial (Ha, i-PI layout) for one configuration."""
        cell = torch.as_tensor(cell_h_bohr.T * BOHR_A) if self.periodic else None  # rows = lattice vectors
        pos = torch.as_tensor(pos_bohr.reshape(-1, 3) * BOHR_A)
        atype = torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device) if self.atype is None else self.atype
        if pos.shape[0] != len(atype):
            raise DeeppotError(f"i-PI sent {pos.shape[0]} atoms but the template structure has {len(atype)}")
        out = self.potential.compute(pos, cell, atype)
        self.calls += 1
        energy = float(out["energy"]) / HARTREE_EV
        forces = out["force"].detach().numpy() / (HARTREE_EV / BOHR_A)
        virial = out["virial"].detach().numpy().T / HARTREE_EV
        return energy, forces, virial

    def serve(self, sock: socket.socket) -> int:
        proto = IPIProtocol(sock)
        initialised, result = False, None
        while True:
            header = proto.recv_header()
            if header == "STATUS":
                proto.send_header("NEEDINIT" if not initialised else "HAVEDATA" if result else "READY")
            elif header == "INIT":
                proto.recv_int()  # bead id
                proto.recvall(proto.recv_int())  # parameters string
                initialised = True
            elif header == "POSDATA":
                cell = proto.recv_array(9, np.float64).reshape(3, 3)
                proto.recv_array(9, np.float64)  # inverse cell, unused
                nat = proto.recv_int()
                pos = proto.recv_array(3 * nat, np.float64)
                result = self.evaluate(cell, pos)
            elif header == "GETFORCE":
                energy, forces, virial = result
                proto.send_header("FORCEREADY")
                sock.sendall(struct.pack("d", energy) + struct.pack("i", forces.shape[0])
                             + np.ascontiguousarray(forces, dtype=np.float64).tobytes()
                             + np.ascontiguousarray(virial, dtype=np.float64).tobytes() + struct.pack("i", 0))
                result = None
            elif header == "EXIT":
                log.info("i-PI sent EXIT after %d force evaluations", self.calls)
                return 0
            else:
                raise DeeppotError(f"unexpected i-PI message {header!r}")
