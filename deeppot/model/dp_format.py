"""DeePMD-kit's backend-independent model file (``.dp``): read and write.

The file is HDF5: attribute ``json`` on the root holds the model description (DeePMD-kit's
``serialize()`` dicts), and every array is a dataset ``variable_NNNN`` referenced from the
JSON by the string ``"/variable_NNNN"``. ``dp convert-backend model.pth model.dp`` writes it;
``dp convert-backend model.dp model.pth`` reads it. Nothing in the file is executed: we parse
JSON and read numeric datasets, so loading an untrusted model cannot run code.

Each descriptor's section is written and read by its own class (``serialize`` /
``deserialize``, :mod:`deeppot.core.descriptor`); deeppot-only descriptors (``loc_frame``)
use the same container with their own ``type``.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from deeppot import __version__
from deeppot.core.descriptor import Descriptor, descriptor_class, descriptor_types
from deeppot.core.fitting import EnergyFitting
from deeppot.core.network_io import as_numpy, dtype_of, fitting_net_to_dict, load_nets, precision_name
from deeppot.errors import ModelFileError
from deeppot.fileio import atomic_path
from deeppot.model.energy_model import EnergyModel
from deeppot.model.limits import check_dp_json
from deeppot.model.shape_check import check_array_shapes

# ----------------------------------------------------------------------------------------
# reading
#: the JSON attribute is at most this long (DeePMD-kit's own models: tens of kB)
MAX_JSON_BYTES = 16 << 20
#: HDF5 filters that only decode data (deflate, shuffle, fletcher32, szip, nbit, scaleoffset, and
#: h5py's built-in lzf); anything else would make HDF5 look for a plugin library to load
SAFE_FILTERS = {1, 2, 3, 4, 5, 6, 32000}
_REF = re.compile(r"/[A-Za-z0-9_.-]{1,64}")


def _dataset(h5: h5py.File, ref: str, expected: tuple[int, ...] | int, path: Path) -> np.ndarray:
    """Read one referenced dataset after checking, from its header only, that it is safe and sized as declared.

    Only a hard link directly under the root is followed: soft and external links, virtual
    datasets and external raw storage could read other files or block on a FIFO.
    """
    where = f"{path}: dataset {ref}"
    if not _REF.fullmatch(ref):
        raise ModelFileError(f"{where}: not a plain dataset name")
    link = h5.get(ref, getlink=True)
    if link is None:
        raise ModelFileError(f"{where}: missing")
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(f"{where}: is a {type(link).__name__}, only plain datasets are read")
    ds = h5[ref]
    if not isinstance(ds, h5py.Dataset):
        raise ModelFileError(f"{where}: not a dataset")
    if ds.is_virtual or ds.external:
        raise ModelFileError(f"{where}: stored outside the file (virtual or external), refused")
    if ds.dtype.kind not in "fiub" or ds.dtype.names or ds.dtype.subdtype is not None:
        raise ModelFileError(f"{where}: has type {ds.dtype}, not numeric")
    plist = ds.id.get_create_plist()
    for k in range(plist.get_nfilters()):
        code = plist.get_filter(k)[0]
        if code not in SAFE_FILTERS:
            raise ModelFileError(f"{where}: uses HDF5 filter {code}, refused (only built-in filters)")
    shape = tuple(int(n) for n in ds.shape)
    size = math.prod(shape)
    if isinstance(expected, tuple):
        if math.prod(expected) != size or len(shape) > 3:
            raise ModelFileError(f"{where}: has shape {shape}, the model description declares {expected}")
    elif size > expected:
        raise ModelFileError(f"{where}: has {size} values, more than the {expected} the model description allows")
    if ds.chunks and math.prod(ds.chunks) > max(size, 1 << 16):
        raise ModelFileError(f"{where}: chunks of {ds.chunks} are larger than the data")
    return np.asarray(ds[()])


def _resolve(node: Any, h5: h5py.File, expected: dict, path: Path) -> Any:
    """Replace "/variable_NNNN" references under '@variables' keys by numpy arrays."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "@variables" and isinstance(value, dict):
                out[key] = {k: (_dataset(h5, v, expected.get(v, 1), path) if isinstance(v, str) else v)
                            for k, v in value.items()}
            else:
                out[key] = _resolve(value, h5, expected, path)
        return out
    if isinstance(node, list):
        return [_resolve(v, h5, expected, path) for v in node]
    return node


def _read_json(h5: h5py.File, path: Path) -> Any:
    if "json" not in h5.attrs:
        raise ModelFileError(f"{path}: not a DeePMD-kit .dp model (no 'json' attribute)")
    attr = h5.attrs.get_id("json")
    if attr.get_storage_size() > MAX_JSON_BYTES:
        raise ModelFileError(f"{path}: model description of {attr.get_storage_size()} bytes, refused")
    if attr.dtype.kind not in "SUO" or attr.shape not in ((), None):
        raise ModelFileError(f"{path}: 'json' attribute is not a string")
    text = h5.attrs["json"]
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise ModelFileError(f"{path}: 'json' attribute is not a string")

    def no_constant(name):
        raise ValueError(f"non-finite number {name} in the model description")

    return json.loads(text, parse_constant=no_constant)


def read_dp(path: str | Path) -> dict:
    """The full serialised dict of a ``.dp`` file, arrays included.

    The JSON is type- and range-checked (:func:`deeppot.model.limits.check_dp_json`) and each
    dataset's header compared with the shape the JSON implies before any array is read.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: not a regular file")
    try:
        with h5py.File(path, "r") as h5:
            data = _read_json(h5, path)
            expected = check_dp_json(data, str(path))
            return _resolve(data, h5, expected, path)
    except OSError as err:
        raise ModelFileError(f"{path}: not a readable HDF5 .dp model file ({err})") from None
    except (ValueError, RecursionError) as err:
        raise ModelFileError(f"{path}: malformed model description ({err})") from None


def descriptor_from_dict(d: dict, ntypes: int, where: str = "") -> Descriptor:
    """The descriptor of a checked ``model.descriptor`` section, built by its registered class."""
    cls = descriptor_class(d.get("type"))
    if cls is None:
        raise ModelFileError(f"{where}: descriptor type {d.get('type')!r} is not supported "
                             f"(supported: {', '.join(descriptor_types())})")
    if d.get("exclude_types"):
        raise ModelFileError(f"{where}: exclude_types is not supported yet")
    return cls.deserialize(d, ntypes, where)


def model_from_dict(data: dict, where: str = "") -> EnergyModel:
    """Build an :class:`EnergyModel` from DeePMD-kit's serialised dict (``data['model']``)."""
    m = data.get("model", data)
    if m.get("type", "standard") != "standard" or m["fitting"].get("type") != "ener":
        raise ModelFileError(f"{where}: only standard energy models are supported "
                             f"(model type {m.get('type')!r}, fitting {m['fitting'].get('type')!r})")
    type_map = list(m["type_map"])
    ntypes = len(type_map)
    desc = descriptor_from_dict(m["descriptor"], ntypes, where)
    fd = m["fitting"]
    if fd["dim_descrpt"] != desc.dim_out:
        raise ModelFileError(f"{where}: fitting.dim_descrpt {fd['dim_descrpt']} does not match the "
                             f"descriptor's {desc.dim_out} outputs")
    if fd.get("numb_fparam", 0) or fd.get("numb_aparam", 0) or fd.get("mixed_types", False):
        raise ModelFileError(f"{where}: fparam/aparam/mixed-type fittings are not supported")
    fit_dtype = dtype_of(fd.get("precision"))
    fitting = EnergyFitting(ntypes, fd["dim_descrpt"], fd["neuron"], fd.get("resnet_dt", True),
                            fd.get("activation_function", "tanh"), dtype=fit_dtype)
    load_nets(fd["nets"], fitting.nets, fit_dtype, where)
    dtype = torch.float64  # bias_atom_e, out_bias, out_std: float64 whatever the precision (as DeePMD-kit)
    with torch.no_grad():
        bias = fd["@variables"].get("bias_atom_e")
        if bias is not None:
            fitting.bias_atom_e.copy_(torch.as_tensor(bias, dtype=dtype).reshape(ntypes, 1))
    model = EnergyModel(desc, fitting, type_map)
    var = m.get("@variables", {})
    with torch.no_grad():
        if var.get("out_bias") is not None:
            model.out_bias.copy_(torch.as_tensor(var["out_bias"], dtype=dtype).reshape(-1, ntypes)[0])
        if var.get("out_std") is not None:
            model.out_std.copy_(torch.as_tensor(var["out_std"], dtype=dtype).reshape(-1, ntypes)[0])
    top = data.get("@variables", {})
    if top.get("min_nbor_dist") is not None:
        model.min_nbor_dist = float(np.asarray(top["min_nbor_dist"]).reshape(-1)[0])
    model.model_def_script = data.get("model_def_script")
    if "deeppot_compress" in data:
        from deeppot.model.compress import load_compress_section

        load_compress_section(model, data["deeppot_compress"])
    model.eval()
    return model


def load_model(path: str | Path) -> EnergyModel:
    """Load a ``.dp`` model file (DeePMD-kit's or deeppot's)."""
    data = read_dp(path)
    try:
        check_array_shapes(data, str(path))
        return model_from_dict(data, where=str(path))
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ModelFileError(f"{path}: malformed or unsupported model description ({err!r})") from None


# ----------------------------------------------------------------------------------------
# writing
def model_to_dict(model: EnergyModel) -> dict:
    """DeePMD-kit's serialised layout of ``model`` (arrays as numpy)."""
    desc = model.descriptor
    originals = getattr(model, "uncompressed_embeddings", None)
    d = desc.serialize(model.type_map) if originals is None else desc.serialize(model.type_map, originals)
    return _assemble(model, d)


def _assemble(model: EnergyModel, d: dict) -> dict:
    fit, ntypes = model.fitting, model.ntypes
    fitting = {
        "@class": "Fitting", "@version": 4, "var_name": "energy", "ntypes": ntypes,
        "dim_descrpt": fit.dim_descrpt, "neuron": fit.neuron, "resnet_dt": fit.resnet_dt, "numb_fparam": 0,
        "numb_aparam": 0, "dim_case_embd": 0, "default_fparam": None,
        "activation_function": fit.activation_function, "precision": precision_name(fit.dtype),
        "mixed_types": False,
        "nets": {"@class": "NetworkCollection", "@version": 1, "ndim": 1, "ntypes": ntypes,
                 "network_type": "fitting_network",
                 "networks": [fitting_net_to_dict(n, fit.neuron, fit.activation_function, fit.resnet_dt)
                              for n in fit.nets]},
        "rcond": None, "exclude_types": [],
        "@variables": {"bias_atom_e": as_numpy(fit.bias_atom_e), "case_embd": None, "fparam_avg": None,
                       "fparam_inv_std": None, "aparam_avg": None, "aparam_inv_std": None},
        "type_map": model.type_map, "tot_ener_zero": False, "trainable": [True] * (len(fit.neuron) + 1),
        "layer_name": None, "use_aparam_as_mask": False, "spin": None, "type": "ener", "dim_out": 1,
        "atom_ener": [],
    }
    body = {
        "type_map": model.type_map, "atom_exclude_types": [], "pair_exclude_types": [], "rcond": None,
        "preset_out_bias": None,
        "@variables": {"out_bias": as_numpy(model.out_bias).reshape(1, ntypes, 1),
                       "out_std": as_numpy(model.out_std).reshape(1, ntypes, 1)},
        "@class": "Model", "@version": 2, "type": "standard", "descriptor": d, "fitting": fitting,
    }
    out = {"software": "deeppot", "version": __version__,
           "time": str(datetime.datetime.now(datetime.timezone.utc)), "backend": "deeppot", "model": body,
           "model_def_script": getattr(model, "model_def_script", None) or {}}
    if model.min_nbor_dist is not None:
        out["@variables"] = {"min_nbor_dist": np.asarray(model.min_nbor_dist, dtype=np.float64)}
    if getattr(model, "compression", None):
        from deeppot.model.compress import compress_section

        out["deeppot_compress"] = compress_section(model)
    return out


def _externalize(node: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "@variables" and isinstance(value, dict):
                refs = {}
                for k, v in value.items():
                    if isinstance(v, np.ndarray):
                        refs[k] = f"/variable_{len(arrays):04d}"
                        arrays.append(v)
                    else:
                        refs[k] = v
                out[key] = refs
            else:
                out[key] = _externalize(value, arrays)
        return out
    if isinstance(node, list):
        return [_externalize(v, arrays) for v in node]
    return node


def write_dp(data: dict, path: str | Path) -> None:
    """Write a serialised dict as a ``.dp`` file, atomically."""
    arrays: list[np.ndarray] = []
    described = _externalize(data, arrays)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for k, arr in enumerate(arrays):
                h5.create_dataset(f"variable_{k:04d}", data=arr)
            h5.attrs["json"] = json.dumps(described)


def save_model(model: EnergyModel, path: str | Path) -> None:
    """Save ``model`` as a DeePMD-kit-compatible ``.dp`` file."""
    write_dp(model_to_dict(model), path)
