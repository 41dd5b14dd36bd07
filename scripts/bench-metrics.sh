#!/usr/bin/env bash
# Prints the metrics benchmark figures quoted in the README (src/test/java/.../bench/ObserveBenchmark.java):
# /metrics latency next to prometheus-postgres-exporter on the same database, and the collector's cost.
#   scripts/bench-metrics.sh [EMBEDDINGS]   default 1000000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/test-env.sh up
mvn -B -q test-compile
mvn -B -q exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.langconnect.gitops.bench.ObserveBenchmark \
  -Dexec.args="${1:-1000000}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
