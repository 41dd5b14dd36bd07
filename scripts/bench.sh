#!/usr/bin/env bash
# Prints the sync benchmark figures quoted in the README (see src/test/java/.../bench/SyncBenchmark.java).
#   scripts/bench.sh [ENVIRONMENTS [all|many|webhook|peer]]   default 200 all; "many" runs only the many-environments
#   part, "webhook" only the webhook-to-applied latencies, "peer" the many-environments part beside Flux's
#   source-controller and kustomize-controller (built once per machine by scripts/flux-peer.sh), "flux" Flux alone
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/test-env.sh up
flux=""
case "${2:-all}" in peer|flux) flux="$(scripts/flux-peer.sh)" ;; esac
mvn -B -q test-compile
mvn -B -q exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.langconnect.gitops.bench.SyncBenchmark \
  -Dexec.args="${1:-200} ${2:-all}" -DLOG_LEVEL=WARN -Dflux.dir="$flux"
