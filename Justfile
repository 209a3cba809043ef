# Cosmic Forge Grocery POS — developer targets. Run through ./dev.sh on a fresh machine.
set shell := ["bash", "-euo", "pipefail", "-c"]

default: test

# Install, lint, type-check and run the whole normal test suite (CI runs this): two lanes side by
# side, the stack tests (e2e, faults) beside the rest, one JUnit file (scripts/run_suite.py)
test: lint typecheck
    scripts/ensure-services.sh
    scripts/ensure-browser.sh
    mkdir -p var/test-results && git rev-parse HEAD > var/test-results/commit
    python -m scripts.run_suite --junitxml=var/test-results/junit.xml

# The long soak/chaos/volume tests the normal suite skips (marker `chaos`, CFPOS_CHAOS=1): the
# three-node NATS cluster herds with a node SIGKILLed, the 6 x 400 shared-worker herd
# (docs/performance.md "Test suite: what runs where")
test-chaos *ARGS:
    scripts/ensure-services.sh
    CFPOS_CHAOS=1 python -m pytest -q -p no:cacheprovider -m chaos {{ARGS}} tests

# Unit and service tests only (no browser, no fault stacks) on both cores: the quick loop
test-fast:
    scripts/ensure-services.sh
    python -m pytest -q -n 2 --ignore=tests/e2e --ignore=tests/faults

# Release gate: run the smoke tier (or MODE=full: the whole suite), regenerate the traceability
# matrix with PASS/FAIL/PENDING from the run, read open incidents and audit chains from the hub,
# print GO/NO-GO (exit 1 on NO-GO); the report lands in var/gate/report.json
gate MODE="smoke" *ARGS:
    scripts/ensure-services.sh
    python -m scripts.gate {{MODE}} {{ARGS}}

# Release Governance smoke tier. `just smoke HUB BOX [--artifact NAME --trigger promotion|rollback
# --environment ENV --exercise-risk]`: the five checks over HTTP against a deployed hub + box pair,
# the result stored with the release (scripts/smoke_pair.py); `just smoke` alone: the in-process
# tests marked smoke
smoke HUB="" BOX="" *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -n "{{HUB}}" ]; then
        python -m scripts.smoke_pair "{{HUB}}" "{{BOX}}" {{ARGS}}
    else
        scripts/ensure-services.sh
        python -m pytest -q -m smoke
    fi

# Release artifact cfgp-pos-{YYYY.MM.DD}.{build} in dist/releases/ (wheel + manifest + SHA256SUMS);
# ENV is the environment target (DEV, STAGING or PROD), no default on purpose
build ENV *ARGS:
    python -m scripts.build_release --env {{ENV}} {{ARGS}}

# ruff lint + format check
lint:
    ruff check .
    ruff format --check .

# mypy (strict on posdomain and drivers)
typecheck:
    mypy posdomain appliance hub drivers firmware_config provisioning scripts

# Format the tree
fmt:
    ruff format .
    ruff check --fix .

# Portal catalogs (NFR-007): merge new portal strings into every language's .po, then list
# what is untranslated (docs/ui.md "Languages")
i18n:
    python -m scripts.i18n_catalog update

# Run the product: hub + one demo store box + broker, seeded demo tenant
demo *ARGS:
    python -m scripts.demo {{ARGS}}

# Hub web app under gunicorn (production style); needs CFPOS_HUB_DATABASE_URL.
# Prometheus multiprocess mode: hub/gunicorn_conf.py wipes PROMETHEUS_MULTIPROC_DIR at start.
hub-serve:
    PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-var/prometheus} gunicorn -c hub/gunicorn_conf.py --workers 2 --bind ${CFPOS_HUB_BIND:-127.0.0.1:8000} 'hub.app:create_app()'

# Operations jobs on their schedules: alert rules and delivery, risk scores, backups, drill
scheduler:
    python -m hub scheduler

# Benchmarks (print the numbers; not part of the normal test run)
bench:
    scripts/ensure-services.sh
    python -m scripts.bench
    python -m scripts.bench_hub
    python -m scripts.bench_sync
    python -m scripts.bench_flood
    python -m scripts.bench_catalog_e2e
    python -m scripts.bench_forecast
    python -m scripts.bench_integrations
    python -m scripts.bench_staff

# Report p50/p95 on COPY-generated volume (pass e.g. --lines 10000000) and ingest speed with
# the report hook on and off; figures only
bench-reports *ARGS:
    scripts/ensure-services.sh
    python -m scripts.bench_reports {{ARGS}}

# Box backup under load and the box restore drill (FR-700, NFR-004): figures only
bench-box-ops:
    python -m scripts.bench_box_ops

# Long sync fault runs (thousands of queued sales, repeated broker/hub/box kills), the large
# API fuzz, then the large ingest fuzz and the outside probe; Phase 7 faults (receiver and SMTP
# down, SIGKILL during an export and a purge); loopback only
chaos *ARGS: && chaos-ingest test-chaos
    scripts/ensure-services.sh
    python -m scripts.chaos {{ARGS}}
    python -m scripts.chaos_phase7
    just fuzz-api
    just fuzz-box

# Schemathesis against the hub's generated OpenAPI document: many examples per operation,
# positive and negative, on a throwaway database (the normal suite runs a few)
fuzz-api EXAMPLES="200":
    scripts/ensure-services.sh
    python -m scripts.fuzz_api --examples {{EXAMPLES}} --mode all

# Schemathesis against the box's generated OpenAPI document with a large budget per operation
fuzz-box EXAMPLES="150":
    CFPOS_BOX_FUZZ_EXAMPLES={{EXAMPLES}} python -m pytest -q -p no:cacheprovider tests/appliance/web/test_openapi_fuzz.py

# Hostile ingest: large hypothesis fuzz budget, then the outside mosquitto_pub probe
chaos-ingest examples="5000":
    scripts/ensure-services.sh
    CFPOS_FUZZ_EXAMPLES={{examples}} python -m pytest -q -p no:cacheprovider tests/hub/test_ingest_fuzz.py
    python -m scripts.outside_ingest_probe --rounds 5 --per-round 40

# Three-node nats-server cluster (MQTT interface) on loopback, one node SIGKILLed mid-herd,
# exact reconciliation after (issue 15 item 3): the failover run and the larger single-URL run
# whose boxes wait for their node (both chaos only; `just test-chaos` runs them too)
chaos-cluster:
    scripts/ensure-services.sh
    CFPOS_CHAOS=1 python -m pytest -q -p no:cacheprovider tests/faults/test_nats_cluster.py

# Requirement traceability: which tests name which FR/NFR IDs
trace:
    python -m scripts.trace

# Mutation testing of the domain package (docs/mutation.md): each module against only the
# tests that exercise it (scripts/mutate_module.py, a scratch copy per module under /tmp),
# hypothesis properties under the "mutation" profile. `just mutate` runs only the modules whose
# source, test files or test selection changed since their stored results (incremental);
# `just mutate money` one module anew; `just mutate-all` every module anew
# (some 25 min of CPU-bound wall time on 2 idle cores, hours at load 20: docs/mutation.md).
# Mutation testing, incremental (changed modules only, or the one named), then the scores
mutate module="" children="2":
    python -m scripts.mutate_module {{ if module == "" { "changed" } else { module } }} --max-children {{ children }}
    python -m scripts.mutation_score {{ module }}

# Every module anew, whatever is stored (the full run, docs/mutation.md)
mutate-all children="2":
    python -m scripts.mutate_module all --max-children {{ children }}
    python -m scripts.mutation_score

# Score per module of the mutmut results so far (no run)
mutate-score:
    python -m scripts.mutation_score
