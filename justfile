# factory-monitor tasks. `npx just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Install npm packages (better-sqlite3 built from source) and build the Rust addon.
install:
    npm run setup

# Start the broker, gateway and HTTP API in one process (compiled to dist/ first: no TypeScript loader at run time).
run:
    npm run build --silent
    node --max-semi-space-size=8 dist/gateway/main.js

# Every test: TypeScript typecheck, vitest (unit, integration, e2e) and cargo tests.
test:
    npx tsc --noEmit
    tests/e2e/ensure-chromium.sh
    mkdir -p target
    npx vitest run --reporter=default --reporter=json --outputFile=target/vitest-report.json
    cargo test --workspace --release 2>&1 | tee target/cargo-test.log
    node tests/ci-summary.mjs target/vitest-report.json target/cargo-test.log

# Format TypeScript and Rust sources in place.
fmt:
    npx biome check --write .
    cargo fmt --all

# Check formatting and lints without changing files.
lint:
    npx biome check .
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --release -- -D warnings

# Remove build outputs and local data.
clean:
    rm -rf target node_modules data crates/factory_compute/index.node

# Run the benchmarks and print their figures (recorded in docs/benchmarks.md).
bench:
    cargo build --release -p factory_cli
    node --import tsx tests/bench/validator-bench.ts
    node --import tsx tests/bench/analytics-bench.ts
    node --import tsx tests/bench/ingest-bench.ts
    node --import tsx tests/bench/multi-row-bench.ts
    {{just_executable()}} bench-ingest

# Regenerate docs/api.md from the OpenAPI document.
docs-api:
    node --import tsx api/write-api-docs.ts

# Build a large seeded database (options: just seed --hours 28 --active-sensors 10000 --data-dir ./data-seed).
seed *ARGS:
    node --import tsx db/seeds/seed.ts {{ARGS}}

# Storage benchmark: seeds ~100M readings, then measures size, queries, ingest and write amplification.
bench-storage:
    BENCH_HOURS=${BENCH_HOURS:-3} node --import tsx tests/bench/storage-bench.ts

# Run the device simulators: provision a demo factory (or --credentials FILE) and publish telemetry.
# Options after the recipe name, e.g. `just simulate --machines 10 --duration-s 60`; see docs/simulators.md.
simulate *ARGS:
    node --import tsx simulators/main.ts {{ARGS}}

# Long fuzz runs: hostile MQTT frames against a live broker (FUZZ_SEED picks the seed), then validator inputs.
fuzz frames="2000000" messages="20000000":
    FUZZ_FRAMES={{frames}} node --import tsx tests/fuzz/run-fuzz.ts
    FUZZ_VALIDATOR_MESSAGES={{messages}} npx vitest run tests/fuzz/validator-fuzz.test.ts

# Dashboard soak: 1,000 sensors and 10 live charts in headless Chromium for 10 minutes (DASHBOARD_SOAK_MS).
dashboard-soak:
    tests/e2e/ensure-chromium.sh
    node --import tsx tests/bench/dashboard-soak.ts

# Rewrite docs/screenshots/*.png from a simulated plant.
dashboard-screenshots:
    tests/e2e/ensure-chromium.sh
    node --import tsx tests/bench/dashboard-screenshots.ts

# Ingest at the limit vs Mosquitto under one factory_cli flood; writes docs/benchmarks.md and docs/ingest-curve.svg.
bench-ingest *ARGS:
    cargo build --release -p factory_cli
    # Mosquitto is the baseline; install it when missing (the benchmark notes its absence if that fails).
    test -x /usr/sbin/mosquitto -a -x /usr/bin/mosquitto_sub || ( (apt-get update -qq && apt-get install -y mosquitto mosquitto-clients) || echo "mosquitto could not be installed; the comparison will be skipped")
    node --import tsx tests/bench/ingest-limit.ts --write-docs {{ARGS}}
