# eagerflow's tasks. Quick start: `make demo`, then `make test`.
#
# Everything runs in ./.venv (made on first use). Each install step leaves a stamp file in .venv
# that depends on the pyproject files, so a second `make test` installs nothing and a changed
# pyproject reinstalls. `make clean-venv` starts over.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q
# Every package of the repository, installed editable.
PACKAGES := -e '.[test]' -e backends/numpy_backend -e backends/cuda_backend
PYPROJECTS := pyproject.toml backends/numpy_backend/pyproject.toml \
              backends/cuda_backend/pyproject.toml
# The lent GPU machine has no network: its python gets the packages without dependencies.
GPU_PY ?= python3

.PHONY: help setup demo test pytest doctest cuda-check docs ops-ref bench gpu-check clean \
        clean-venv

help:
	@echo "make demo        run docs/examples/eager_basics.py, gradients.py, then train_digits.py"
	@echo "                 (trains a convnet on scikit-learn's digits; creates .venv on first use)"
	@echo "make test        the whole test suite: tests, backend tests, doctests, examples, nvcc check"
	@echo "make docs        build the documentation site into site/ (mkdocs --strict)"
	@echo "make bench       run benchmarks/bench_*.py against NumPy and PyTorch (CPU)"
	@echo "make cuda-check  compile the CUDA C kernels with NVRTC and nvcc (no GPU needed)"
	@echo "make gpu-check   on the GPU machine: CUDA tests, conformance, doctests, bench_cuda.py"

# -- environment ---------------------------------------------------------------------------

$(PY):
	python3 -m venv $(VENV)

$(VENV)/.stamp-install: $(PYPROJECTS) | $(PY)
	$(PIP) install $(PACKAGES)
	@touch $@

# The tests also run a second, genuinely different kernel library: the PyTorch example
# plugin (examples/plugins/eagerflow_torch, registered in-process by its tests). torch==2.13.0
# is the CPU wheel this machine keeps locally; never ask for a plain `torch`.
# The NumPy backend's [jit] extra (numba) too: ef.function's fusion tests run its numba groups.
$(VENV)/.stamp-test: $(VENV)/.stamp-install
	$(PIP) install 'pytest>=7' 'hypothesis>=6.80' torch==2.13.0 'array-api-compat>=1.9' \
	    -e 'backends/numpy_backend[jit]'
	@touch $@

# The distributed tests launch `mpirun -n 2` and `-n 3`: Debian's Open MPI (installed with
# apt-get only where mpirun is missing; as root, else through sudo) and the `mpi` extra (mpi4py).
$(VENV)/.stamp-mpi: pyproject.toml | $(VENV)/.stamp-install
	@command -v mpirun >/dev/null || { \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo -n); \
	    export DEBIAN_FRONTEND=noninteractive; \
	    $$SUDO apt-get update -qq && \
	    $$SUDO apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev \
	        >/dev/null; }
	$(PIP) install -e '.[mpi]'
	@touch $@

# The digits demo (docs/examples/train_digits.py): scikit-learn, whose wheel ships the 8x8
# digits (no download), tqdm and matplotlib, the `demo` extra. The tests run the demo too.
$(VENV)/.stamp-demo: pyproject.toml | $(VENV)/.stamp-install
	$(PIP) install -e '.[demo]'
	@touch $@

$(VENV)/.stamp-docs: $(VENV)/.stamp-install
	$(PIP) install 'mkdocs>=1.5' 'mkdocs-material>=9'
	@touch $@

# NVRTC for the CUDA compile check (no GPU needed). Pinned to 13.0: a newer NVRTC emits PTX
# that the GPU machines' CUDA 13.0 driver cannot load, and the check must use the compiler the
# backend runs with there.
$(VENV)/.stamp-cuda-check: $(VENV)/.stamp-install
	$(PIP) install 'cuda-toolkit[nvrtc]==13.0.*'
	@touch $@

# torch==2.13.0 is the CPU wheel this machine keeps locally; never ask for a plain `torch`.
# bench_function.py compares ef.function with JAX's jit (CPU wheels 0.10.2, the newest served
# here) and uses the NumPy backend's fusion (the [jit] extra: numba).
$(VENV)/.stamp-bench: $(VENV)/.stamp-install
	$(PIP) install torch==2.13.0 jax==0.10.2 jaxlib==0.10.2 -e 'backends/numpy_backend[jit]'
	@touch $@

setup: $(VENV)/.stamp-install

# -- tasks ---------------------------------------------------------------------------------

demo: $(VENV)/.stamp-install $(VENV)/.stamp-demo
	$(PY) docs/examples/eager_basics.py
	$(PY) docs/examples/gradients.py
	$(PY) docs/examples/train_digits.py

# The CUDA compile check first, then one pytest run of everything - the tests, the backend
# tests, the packages' docstring examples and the guide pages' `>>>` examples - so that
# `make test` ends on one summary that counts them all.
DOCTESTS := --doctest-modules eagerflow_core backends/numpy_backend/eagerflow_numpy \
            backends/cuda_backend/eagerflow_cuda --doctest-glob='*.md' docs --ignore=docs/examples
test: cuda-check pytest

pytest: $(VENV)/.stamp-test $(VENV)/.stamp-cuda-check $(VENV)/.stamp-mpi $(VENV)/.stamp-demo
	$(PY) -m pytest -q tests backends $(DOCTESTS)

# Only the docstring examples of the packages and the `>>>` examples of the guide pages.
doctest: $(VENV)/.stamp-test $(VENV)/.stamp-mpi
	$(PY) -m pytest -q $(DOCTESTS)

# Compiles backends/cuda_backend/eagerflow_cuda/csrc/*.cu for sm_90 and sm_80 with NVRTC (the
# backend's run-time compiler, required) and nvcc (where it exists; register spills fail), with
# the backend's own options. No GPU needed; passing results are cached by content.
cuda-check: $(VENV)/.stamp-cuda-check
	$(PY) -m eagerflow_cuda.build --check --require-nvrtc

ops-ref: $(VENV)/.stamp-install
	$(PY) docs/gen_ops.py

# mkdocs.yml's hook regenerates docs/reference/ops.md before each build.
docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

bench: $(VENV)/.stamp-bench $(VENV)/.stamp-mpi $(VENV)/.stamp-demo
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) "$$b" || exit 1; done

# On a lent GPU machine (no network; Python, torch cu130 and cupy-cuda13x preinstalled): the
# compile check, eagerflow info, the backend's tests and the cross-backend suite with
# EAGERFLOW_REQUIRE_GPU=1 (a skip fails), the conformance kit on cuda, the doctests on the CPU,
# then benchmarks/bench_cuda.py. Every step runs; a summary table ends it (under 8 minutes).
gpu-check:
	PIP_BREAK_SYSTEM_PACKAGES=1 $(GPU_PY) -m pip install -q --no-deps --no-build-isolation $(PACKAGES)
	$(GPU_PY) -m eagerflow_cuda.gpu_check --python $(GPU_PY)

clean:
	rm -rf site build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

clean-venv:
	rm -rf $(VENV)
