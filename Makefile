# The two commands a newcomer needs: `make demo` and `make test`. Each installs what is missing.
SWIFT ?= swift
BIN_PATH = $(shell $(SWIFT) build --show-bin-path 2>/dev/null)
export UPSHIFT_BIN = $(BIN_PATH)/upshift

.PHONY: setup build test test-swift test-python demo bench format clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

# One test at a time: the suites start real servers and time real networks on 2 cores.
test: build
	$(SWIFT) test --no-parallel
	python3 -m pytest -q Tests/conformance

demo: build
	@bash scripts/demo.sh

bench: build
	UPSHIFT_SETUP_BENCH=1 bash scripts/setup.sh
	$(SWIFT) build -c release
	bash Benchmarks/run.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build demo-out
