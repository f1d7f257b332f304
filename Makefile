# Switchboard: the targets a newcomer would guess.
GO ?= go
BIN := bin

.PHONY: run test test-under-load test-cpp-sanitize fault fuzz lint build bench token clean

## run: Switchboard on its embedded default (NATS, worker and edge in one process), built into bin/edge first
# Built, then exec'd rather than `go run`: no go command stands between make
# and the server, so the recipe's exit status is the server's (0 after a
# clean stop) and the first line says what a first build is busy with.
run:
	@echo "building $(BIN)/edge (a first build downloads the modules it needs, which takes a minute or two)"
	@$(GO) build -o $(BIN)/edge ./cmd/edge
	@SB_API_LISTEN="$${SB_API_LISTEN-127.0.0.1:7402}" exec $(BIN)/edge

## test: the whole test suite, with the race detector, and the memory bounds without it (what CI runs);
## installs the C++ SDK's Debian packages and Chromium (the demo page's browser test) first when they are missing
test:
	@.ci/install-cpp-deps
	@.ci/install-browser
	$(GO) test -race -count=1 -timeout 15m ./...
	$(GO) test -count=1 -timeout 5m -run 'Bounded' ./hostile/

## test-under-load: with two CPU-bound processes beside it, make test TEST_RUNS times (5), then .ci/run CI_RUNS times (3); fails if any run fails
TEST_RUNS ?= 5
CI_RUNS ?= 3
test-under-load:
	TEST_RUNS=$(TEST_RUNS) CI_RUNS=$(CI_RUNS) MAKE="$(MAKE)" .ci/under-load

## test-cpp-sanitize: the C++ SDK's suite under ASan+UBSan+LSan and under TSan (CI runs it)
test-cpp-sanitize:
	@.ci/install-cpp-deps
	SB_CPP_SANITIZE=1 $(GO) test -count=1 -timeout 20m -run TestCpp -v ./sdk/cpp/

## fault: the fault suite: 3 NATS servers, 2 edges, 2 workers, 100 clients; kills and drains (CI runs it)
fault:
	SB_FAULT=1 $(GO) test -count=1 -timeout 15m -v -run TestFault ./fault/

## fuzz: the connection state machine fuzzed on real edges and a worker, for FUZZTIME (CI runs it)
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzConnection -fuzztime=$(FUZZTIME) ./hostile/

## lint: formatting, vet and staticcheck; the browser SDK's classic build and declarations (tsc)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@[ -d sdk/js/node_modules ] || npm ci --prefix sdk/js --no-audit --no-fund
	node sdk/js/tools/build.mjs --check
	sdk/js/node_modules/.bin/tsc --noEmit -p sdk/js

## build: the binaries, into bin/
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## bench: a short standard load run (a minute or two) on a Switchboard it starts; docs/benchmarks.md
bench:
	$(GO) build -o $(BIN)/ ./cmd/sigbench
	$(BIN)/sigbench standard

## token: print a token (APP=… ACCOUNT=…, certificate in SB_APP_CERTIFICATE)
token:
	$(GO) run ./cmd/sbtoken -app "$(APP)" -account "$(ACCOUNT)"

clean:
	rm -rf $(BIN)
