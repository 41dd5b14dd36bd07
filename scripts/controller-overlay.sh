#!/usr/bin/env bash
# Writes DIR/kustomization.yaml: manifests/ as a user installs it, on the test node. DIR holds controller.yaml
# (the controller's config) and api-token; the overlay sets the node's controller image, replaces the config,
# makes the API token Secret and tolerates the node's taint. Used by scripts/demo.sh and the end-to-end tests.
#
#   scripts/controller-overlay.sh DIR      then: kubectl apply -k DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(cd "${1:?usage: $0 DIR}" && pwd)"
for file in controller.yaml api-token; do
  [ -f "$DIR/$file" ] || { echo "$0: $DIR/$file is missing" >&2; exit 2; }
done
# shellcheck disable=SC1091
. "$ROOT/target/test-env/env"
# kustomize takes a base only as a relative path.
base="$(realpath --relative-to="$DIR" "$ROOT/manifests")"
cat > "$DIR/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $base
images:
  - name: registry.example.com/langconnect-gitops
    newName: ${NODE_CONTROLLER_IMAGE%:*}
    newTag: "${NODE_CONTROLLER_IMAGE##*:}"
configMapGenerator:
  - name: langconnect-gitops
    namespace: langconnect-gitops
    behavior: replace
    files: [controller.yaml]
    options: {disableNameSuffixHash: true}
secretGenerator:
  - name: langconnect-gitops-api
    namespace: langconnect-gitops
    files: [token=api-token]
    options: {disableNameSuffixHash: true}
patches:
  - target: {kind: Deployment, name: langconnect-gitops}
    patch: |-
      - op: add
        path: /spec/template/spec/tolerations
        value: [{key: ${NODE_TAINT%%=*}, operator: Exists, effect: NoSchedule}]
YAML
