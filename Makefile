# The README's two commands: `make run` and `make test`. Every target bootstraps first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
ZE := $(VENV)/bin/ze
SAMPLE := examples/update-sample.hex

.PHONY: run test bootstrap lint unit arch fuzz bench bench-io clean bench-bpf bench-rib bench-plugins bench-ingest bench-convergence

bootstrap:
	@scripts/bootstrap

run: bootstrap
	@echo "== ze bgp decode $(SAMPLE)"
	@$(ZE) bgp decode --json - < $(SAMPLE)

lint: bootstrap
	$(VENV)/bin/ruff check ze tests bench
	$(VENV)/bin/ruff format --check ze tests bench

arch: bootstrap
	$(PY) -m pytest tests/arch

test: bootstrap lint
	$(PY) -m pytest tests

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

bench-rib: bootstrap
	$(PY) bench/rib.py

bench-plugins: bootstrap
	$(PY) bench/plugins.py

clean:
	rm -rf $(VENV) build *.egg-info

.PHONY: bench-fib
bench-fib: bootstrap
	$(PY) bench/fib.py -n 100000,1000000
