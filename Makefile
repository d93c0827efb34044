# Set-up and everyday commands. `make demo` and `make test` are the two commands in the README.
SWIFT ?= swift
RELEASE_TESTING = -c release -Xswiftc -enable-testing

.PHONY: setup assets build demo test bench clean

setup:
	./scripts/setup.sh

# Pinned pretrained weights and datasets into .assets/ (sha256-checked; cheap when present).
assets:
	./scripts/fetch-assets.sh
	./scripts/fetch-data.sh

build: setup
	$(SWIFT) build -c release

# The main job on a default that needs no user data.
demo: setup
	$(SWIFT) run -c release mona-bench engine --quick

# Numeric tests run on an optimised build: debug builds are far too slow for them.
test: setup
	$(SWIFT) build $(RELEASE_TESTING) --build-tests
	$(SWIFT) test $(RELEASE_TESTING) --skip-build

bench: setup
	$(SWIFT) run -c release mona-bench engine

clean:
	rm -rf .build
