# The README's two commands: `make run` and `make test`. Every target bootstraps first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
ZE := $(VENV)/bin/ze
SAMPLE := examples/update-sample.hex

.PHONY: run test bootstrap lint unit arch fuzz bench bench-io clean bench-bpf bench-rib bench-plugins bench-ingest interop deb test-deb bench-convergence

bootstrap:
	@scripts/bootstrap

# The live lab (ze/lab): BIRD announces routes to ze over MD5 + GTSM eBGP in network namespaces,
# a sender sends traffic through ze's namespace; Ctrl-C tears it all down. Needs root.
run: bootstrap
	@$(ZE) lab run

lint: bootstrap
	$(VENV)/bin/ruff check ze tests bench
	$(VENV)/bin/ruff format --check ze tests bench

arch: bootstrap
	$(PY) -m pytest tests/arch

test: bootstrap lint
	$(PY) -m pytest tests

interop: bootstrap
	$(PY) -m pytest tests/interop -rsx

bench: bootstrap
	$(PY) bench/wire.py

bench-io: bootstrap
	$(PY) bench/io.py

bench-ingest: bootstrap
	$(PY) bench/ingest.py

bench-convergence: bootstrap
	$(PY) bench/convergence.py

bench-bpf: bootstrap
	$(PY) bench/bpf.py

# The Debian package (packaging/): dist/ze_<version>_<arch>.deb, and its tests (build, lintian,
# install on this machine, service start as user ze, removal).
deb: bootstrap
	@packaging/build-deb

test-deb: bootstrap
	ZE_TEST_DEB=1 $(PY) -m pytest tests/packaging

bench-rib: bootstrap
	$(PY) bench/rib.py

bench-plugins: bootstrap
	$(PY) bench/plugins.py

clean:
	rm -rf $(VENV) build dist *.egg-info

.PHONY: bench-fib
bench-fib: bootstrap
	$(PY) bench/fib.py -n 100000,1000000
