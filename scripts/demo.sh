#!/usr/bin/env bash
# Runs the controller for real on this machine: starts the local control plane (scripts/test-env.sh),
# makes a git repository from config/ (served by the local git daemon), and runs `serve` against both.
# Edit, commit and push a values file in target/demo/values and watch the objects change.
#
#   scripts/demo.sh            PORT=8080 by default; Ctrl-C stops the controller (the control plane keeps running;
#                              `scripts/test-env.sh down` stops it)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-8080}"

scripts/test-env.sh up
# shellcheck disable=SC1091
set -a; . target/test-env/env; set +a

[ -f target/langconnect-gitops.jar ] || mvn -B -q package -DskipTests

DEMO="$ROOT/target/demo"
REPO="$GIT_DAEMON_ROOT/demo-values.git"
if [ ! -d "$REPO" ]; then
  rm -rf "$DEMO" && mkdir -p "$DEMO"
  git init -q --bare --initial-branch=main "$REPO"
  git init -q --initial-branch=main "$DEMO/values"
  cp config/values*.yaml "$DEMO/values/"
  git -C "$DEMO/values" add . >/dev/null
  git -C "$DEMO/values" -c user.name=demo -c user.email=demo@example.com commit -qm "values from config/"
  git -C "$DEMO/values" remote add origin "$GIT_DAEMON_URL/demo-values.git"
  git -C "$DEMO/values" push -q origin main
fi

# No kubelet runs here, so no pod ever starts: do not wait for PostgreSQL to be available before LangConnect.
cat > "$DEMO/controller.yaml" <<YAML
git:
  url: $GIT_DAEMON_URL/demo-values.git
  interval: 5s
  workDir: $DEMO/clone
kubernetes:
  kubeconfig: $KUBECONFIG
  leaderElection: false
sync:
  databaseReadyTimeout: 0s
  driftInterval: 1m
http:
  port: $PORT
  host: 127.0.0.1
YAML

cat <<TEXT

  The controller is starting; it syncs $GIT_DAEMON_URL/demo-values.git every 5 s.

  Status:   curl -s http://127.0.0.1:$PORT/api/v1/environments
  Metrics:  curl -s http://127.0.0.1:$PORT/metrics | grep ^langconnect_
  Cluster:  KUBECONFIG=$KUBECONFIG kubectl get deploy,svc,secret,pvc -A -l app.kubernetes.io/managed-by=langconnect-gitops
  Change:   cd $DEMO/values && \$EDITOR values-staging.yaml && git commit -qam "my change" && git push -q origin main

TEXT
exec java -jar target/langconnect-gitops.jar serve --config "$DEMO/controller.yaml"
