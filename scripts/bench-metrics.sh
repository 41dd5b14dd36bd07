#!/usr/bin/env bash
# Prints the metrics benchmark figures quoted in the README (src/test/java/.../bench/ObserveBenchmark.java):
# GET /metrics of the controller running as its own process, with 10 environments of 100 LangChain collections,
# next to prometheus-postgres-exporter on the same database; with --baseline, an earlier revision's build too,
# measured in the same run (scrapes interleaved).
#   scripts/bench-metrics.sh [--baseline REV] [EMBEDDINGS]   default 100000 embeddings
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

baseline=""
rows=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) baseline="$2"; shift 2 ;;
    *) rows="$1"; shift ;;
  esac
done

scripts/test-env.sh up
mvn -B -q -DskipTests package
jars=("current=target/langconnect-gitops.jar")
if [ -n "$baseline" ]; then
  rev="$(git rev-parse --short "$baseline")"
  dir="target/bench-baseline/$rev"
  if [ ! -f "$dir/langconnect-gitops.jar" ]; then
    echo "building $rev for comparison" >&2
    rm -rf "$dir" && mkdir -p "$dir/src"
    git archive "$rev" | tar -x -C "$dir/src"
    (cd "$dir/src" && mvn -B -q -DskipTests package)
    cp "$dir/src/target/langconnect-gitops.jar" "$dir/langconnect-gitops.jar"
  fi
  jars+=("$rev=$dir/langconnect-gitops.jar")
fi
mvn -B -q test-compile
mvn -B -q exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.langconnect.gitops.bench.ObserveBenchmark \
  -Dexec.args="$rows ${jars[*]}" -DLOG_LEVEL=WARN
