# uno's build, demo and tests. Quick start: `make demo`, `make test`.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN      := bin/uno
# Async preemption off: see cmd/uno/main.go. -s -w: a smaller binary, nothing lost for users.
LDFLAGS  := -s -w -X=runtime.godebugDefault=asyncpreemptoff=1 \
            -X=github.com/uno-init/uno/internal/signals.preemptOffLinked=1 \
            -X=github.com/uno-init/uno/internal/cli.version=$(VERSION)
export CGO_ENABLED = 0
export GOFLAGS    += -buildvcs=false

# Debian packages the tests run against: real OCI runtimes and a busybox for the rootfs.
TEST_PACKAGES := runc crun busybox-static python3 python3-yaml bash util-linux gcc libc6-dev docker.io docker-compose podman uidmap \
                 tini dumb-init catatonit jq tzdata prometheus cron

# Fuzz targets run briefly on every `make test`; their corpora are under testdata/fuzz.
# The budget is a count of executions, not a duration: with a duration, Go 1.26's fuzz
# coordinator can report a spurious "context deadline exceeded" as the time runs out on a
# loaded machine (go.dev/issue/75804, fixed in Go 1.27). FuzzLoad is ~15x slower per input.
FUZZ_TARGETS := config:FuzzLoad:10000 config:FuzzParseDotenv config:FuzzParseProcfile config:FuzzSplitCommand \
                config:FuzzExpand control:FuzzReadMessage control:FuzzCheckHTTPAddr signals:FuzzParse \
                privs:FuzzParseSize privs:FuzzParseLimit privs:FuzzParseCap privs:FuzzShimArgs privs:FuzzShimDecode \
                logmux:FuzzPassthrough jsonwire:FuzzUnmarshal cron:FuzzParse config:FuzzParseCrontab
FUZZ_EXECS   ?= 100000

# The peers `make bench` measures uno against, from Debian's packages.
BENCH_PACKAGES := tini dumb-init catatonit supervisor s6 util-linux
# supercronic, from the Go module proxy: the cron part of make bench compares uno -C with it, and
# a test runs it beside uno (test/e2e/cron_peer_test.go).
SUPERCRONIC_VERSION := v0.2.48

.PHONY: all build test test-deps vet vulncheck fuzz race soak e2e-engines e2e-kube kube-deps demo bench bench-deps clean

all: build

build: $(BIN)

$(BIN): FORCE
	@mkdir -p bin
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/uno

FORCE:

test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@test -x bin/tools/supercronic || GOBIN=$(CURDIR)/bin/tools $(GO) install github.com/aptible/supercronic@$(SUPERCRONIC_VERSION)

# staticcheck comes through the Go module proxy, pinned, into bin/tools.
STATICCHECK := bin/tools/staticcheck

$(STATICCHECK):
	GOBIN=$(CURDIR)/bin/tools $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

# govulncheck, with the vulnerability database built offline from a pinned golang.org/x/vulndb
# (these machines reach the Go module proxy, not vuln.go.dev).
GOVULNCHECK    := bin/tools/govulncheck
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB         := bin/vulndb

$(GOVULNCHECK):
	GOBIN=$(CURDIR)/bin/tools $(GO) install golang.org/x/vuln/cmd/govulncheck@v1.9.0

$(VULNDB)/index/db.json:
	@tmp=$$(mktemp -d) && cd $$tmp && $(GO) mod init vulndb-fetch >/dev/null 2>&1 && \
	src=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/.*"Dir": "\(.*\)",/\1/p') && \
	cd $$src && GOFLAGS=-mod=mod $(GO) run ./cmd/indexdb -vulns data/osv -out $(CURDIR)/$(VULNDB) && rm -rf $$tmp

vulncheck: $(GOVULNCHECK) $(VULNDB)/index/db.json
	$(GOVULNCHECK) -db file://$(CURDIR)/$(VULNDB) ./...

vet: $(STATICCHECK)
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(STATICCHECK) ./...

test: test-deps vet vulncheck build
	UNO_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory race
	$(MAKE) --no-print-directory fuzz

# uno under a real Docker engine the tests start themselves (part of make test too).
e2e-engines: test-deps build
	UNO_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m -v ./test/engines

# uno under a real Kubernetes node (test/kube): a standalone kubelet running the static pods of
# examples/kubernetes over containerd's CRI and runc, all started by the tests on private paths.
# The kubelet is built from the k8s.io/kubernetes module (test/kube/build-kubelet.sh says how)
# into bin/, where it stays between runs: about 6 minutes cold on 2 cores, nothing when cached.
KUBE_VERSION  := v1.34.4
KUBELET       := bin/kubelet-$(KUBE_VERSION)
KUBE_PACKAGES := containerd runc busybox-static util-linux catatonit

kube-deps:
	@missing=""; for p in $(KUBE_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(KUBELET):
	@mkdir -p bin
	KUBE_VERSION=$(KUBE_VERSION) GO=$(GO) test/kube/build-kubelet.sh $(CURDIR)/$@

e2e-kube: kube-deps build $(KUBELET)
	UNO_BIN=$(CURDIR)/$(BIN) KUBELET=$(CURDIR)/$(KUBELET) $(GO) test -count=1 -timeout 20m -v ./test/kube

# The race detector over every test that runs uno's code in-process (the black-box tests of the
# binary would only check the test harness). It needs cgo, hence gcc in TEST_PACKAGES.
race:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m ./internal/...

fuzz:
	@for spec in $(FUZZ_TARGETS); do \
		pkg=$${spec%%:*}; rest=$${spec#*:}; target=$${rest%%:*}; \
		execs=$${rest#$$target}; execs=$${execs#:}; \
		echo "fuzz $$pkg $$target for $${execs:-$(FUZZ_EXECS)} inputs"; \
		out=$$($(GO) test ./internal/$$pkg -run '^$$' -fuzz "^$$target\$$" -fuzztime $${execs:-$(FUZZ_EXECS)}x 2>&1) || { echo "$$out"; exit 1; }; \
	done

# The supervisor's randomized model-based test (internal/supervisor/model_test.go) for as long as
# asked: `make soak SOAK=30m`. `make test` runs it briefly. A failure prints its seed (UNO_SEED=N
# replays it) and the shrunk sequence as a Go literal for the test's regression table. No go test
# timeout: each sequence bounds its own waits.
SOAK ?= 10m

soak:
	UNO_SOAK=$(SOAK) $(GO) test -count=1 -timeout 0 -run '^TestModel$$' -v ./internal/supervisor

bench-deps:
	@missing=""; for p in $(BENCH_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@test -x bin/tools/supercronic || GOBIN=$(CURDIR)/bin/tools $(GO) install github.com/aptible/supercronic@$(SUPERCRONIC_VERSION)

# Writes docs/benchmarks.md and docs/benchmarks.svg (as root: the reaping benchmark makes PID
# namespaces). BENCH_FLAGS passes options to the harness, e.g. BENCH_FLAGS="-rounds 3 -idle 10s".
bench: bench-deps build
	$(GO) build -trimpath -ldflags '-X=runtime.godebugDefault=asyncpreemptoff=1' -o bin/bench ./bench
	$(GO) build -trimpath -ldflags '-s -w -X=runtime.godebugDefault=asyncpreemptoff=1' -o bin/gofloor ./bench/gofloor
	bin/bench -uno $(BIN) -gofloor bin/gofloor $(BENCH_FLAGS)

demo: build
	@./demo/demo.sh $(CURDIR)/$(BIN)

clean:
	rm -rf bin
