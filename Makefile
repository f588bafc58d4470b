# intake — the complaint intake gateway. `make test` is the one test command (CI runs it).
GO ?= go
PKGS ?= ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test bench fuzz vet corpus perf clean

run:
	$(GO) run ./cmd/intake serve

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/intake ./cmd/intake

# Installs and starts redis-server (and Dovecot) when missing, runs every test with the race
# detector against them, stops them after. With CI=true a test whose server is missing fails.
test:
	$(GO) vet $(PKGS)
	./scripts/with-services.sh $(GO) test -race -count=1 -timeout 20m $(PKGS)

# Benchmarks against real servers: verify, normalise, publish, IMAP ingest.
bench:
	./scripts/with-services.sh $(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

# Ten minutes of fuzzing on the email path (the committed corpus is replayed by `make test`).
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzEmailNormalize -fuzztime 10m ./channels/email

vet:
	$(GO) vet $(PKGS)

# The normaliser's scorecard against the peers' suites and the Indonesian set, then the
# region finder's precision and recall on normalizer/testdata/regions.jsonl.
corpus:
	@st=0; python3 ../shared/tools/corpus-score || st=1; \
	out=$$($(GO) test -count=1 -run '^TestRegionScores$$' -v ./normalizer/) || st=1; \
	echo "$$out" | grep -E '^region'; exit $$st

# SMS webhook throughput against a naive verify-and-XADD handler.
perf:
	../shared/tools/perf-sms

clean:
	rm -rf bin data
