#!/usr/bin/env bash
# The soak (issue 29): the controller installed with its chart on the test node (two replicas), MINUTES of mixed
# faults from a seeded driver over ENVIRONMENTS environments, the invariants checked the whole time, then a table
# (also in target/soak-report.txt). SOAK_SEED replays a run's faults in the same order; SOAK_FAULTS="kind,kind"
# injects only the kinds named (as the table names them). Starts the test env when it
# is not up (as test.sh does) and leaves it running. A 3-minute run is part of scripts/test.sh (SoakIT).
#   scripts/soak.sh [MINUTES] [ENVIRONMENTS]     defaults: 30 and 20
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

minutes="${1:-30}"
environments="${2:-20}"
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: MINUTES must be a positive whole number, got '$minutes'" >&2; exit 2; }
[[ "$environments" =~ ^[1-9][0-9]*$ && "$environments" -ge 2 ]] \
  || { echo "soak.sh: ENVIRONMENTS must be a whole number of at least 2 (prod and staging), got '$environments'" >&2; exit 2; }

scripts/test-env.sh up
exec mvn -B verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=SoakIT \
  -Dsoak.minutes="$minutes" -Dsoak.environments="$environments" -Dsoak.seed="${SOAK_SEED:-$RANDOM$RANDOM}" \
  -Dsoak.faults="${SOAK_FAULTS:-}"
