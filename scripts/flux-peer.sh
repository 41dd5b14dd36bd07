#!/usr/bin/env bash
# The benchmark's peer: Flux's source-controller and kustomize-controller, built from their Go modules at the
# versions test-support/flux-source and test-support/flux-kustomize pin, with their CRDs, once per machine. Only
# scripts/bench.sh calls it (the test suite never runs Flux). Prints the directory that holds
#   source-controller  kustomize-controller  crds/*.yaml
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LANGCONNECT_GITOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/langconnect-gitops}"

version_of() { # version_of MODULE DIR: the version DIR's go.mod requires of MODULE
  awk -v m="$1" '($1 == "require" && $2 == m) {print $3; exit} ($1 == m && $2 ~ /^v/) {print $2; exit}' "$2/go.mod"
}

SOURCE_DIR="$ROOT/test-support/flux-source"
KUSTOMIZE_DIR="$ROOT/test-support/flux-kustomize"
SOURCE_VERSION="$(version_of github.com/fluxcd/source-controller "$SOURCE_DIR")"
KUSTOMIZE_VERSION="$(version_of github.com/fluxcd/kustomize-controller "$KUSTOMIZE_DIR")"
OUT="$CACHE/flux-source-$SOURCE_VERSION-kustomize-$KUSTOMIZE_VERSION"

build() { # build MODULE_DIR MODULE BINARY
  local dir=$1 module=$2 binary=$3
  [ -x "$OUT/$binary" ] && return
  printf '[flux-peer] building %s from its Go module (once per machine, several minutes)\n' "$module" >&2
  mkdir -p "$OUT/crds"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/$binary.partial" "$module")
  cp "$(cd "$dir" && go list -m -f '{{.Dir}}' "$module")"/config/crd/bases/*.yaml "$OUT/crds/"
  mv "$OUT/$binary.partial" "$OUT/$binary"
}

build "$SOURCE_DIR" github.com/fluxcd/source-controller source-controller
build "$KUSTOMIZE_DIR" github.com/fluxcd/kustomize-controller kustomize-controller
chmod -R u+w "$OUT/crds"
echo "$OUT"
