#!/usr/bin/env bash
# The stack running for real on this machine's test node: starts the local control plane and its node
# (scripts/test-env.sh), makes a values repository from config/ (served by the local git daemon), installs the
# controller in the cluster with `kubectl apply -k` over manifests/, waits for staging and prod to come up
# through their probes, prints their metrics and takes a backup of prod.
#
#   scripts/demo.sh          idempotent; edit, commit and push target/demo/values to watch the stack change
#   scripts/demo.sh down     removes the controller and both environments (the node keeps running;
#                            `scripts/test-env.sh down` stops everything)
#
# The node runs only images built here, so the demo's values differ from config/ in two places: the images
# (the test node's PostgreSQL + pgvector and a LangConnect stand-in, not LangConnect) and a toleration for the
# node's taint.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DEMO="$ROOT/target/demo"

scripts/test-env.sh up
# shellcheck disable=SC1091
set -a; . target/test-env/env; set +a
kubectl() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }
say() { printf '\n== %s\n' "$*"; }

if [ "${1:-}" = down ]; then
  [ -d "$DEMO/overlay" ] && kubectl delete -k "$DEMO/overlay" --ignore-not-found --timeout=5m
  kubectl delete namespace langconnect-staging langconnect-prod --ignore-not-found --timeout=5m
  exit 0
fi

[ -f target/langconnect-gitops.jar ] || mvn -B -q package -DskipTests
cli() { java -jar target/langconnect-gitops.jar "$@"; }
scripts/test-env.sh controller-image target/langconnect-gitops.jar > /dev/null
taint_key="${NODE_TAINT%%=*}"

say "the values repository: config/ with the node's images"
REPO="$GIT_DAEMON_ROOT/demo-values.git"
if [ ! -d "$REPO" ]; then
  rm -rf "$DEMO/values" && mkdir -p "$DEMO/values"
  git init -q --bare --initial-branch=main "$REPO"
  git init -q --initial-branch=main "$DEMO/values"
  cp config/values-staging.yaml config/values-prod.yaml "$DEMO/values/"
  toleration="  tolerations: [{key: $taint_key, operator: Exists, effect: NoSchedule}]"
  sed -e "s|repository: registry.example.com/langconnect|repository: ${NODE_LANGCONNECT_IMAGE%:*}|" \
      -e "s|tag: \"0.1.0\"|tag: \"${NODE_LANGCONNECT_IMAGE##*:}\"|" \
      -e "s|repository: pgvector/pgvector|repository: ${NODE_POSTGRES_IMAGE%:*}|" \
      -e "s|tag: pg16|tag: \"${NODE_POSTGRES_IMAGE##*:}\"|" \
      -e "/^langconnect:$/a\\$toleration" -e "/^postgres:$/a\\$toleration" config/values.yaml > "$DEMO/values/values.yaml"
  git -C "$DEMO/values" add . > /dev/null
  git -C "$DEMO/values" -c user.name=demo -c user.email=demo@example.com commit -qm "values from config/, on the test node"
  git -C "$DEMO/values" remote add origin "$GIT_DAEMON_URL/demo-values.git"
  git -C "$DEMO/values" push -q origin main
fi
cli validate --values "$DEMO/values"

say "prod's database password, in a Secret as config/values-prod.yaml asks"
kubectl wait --for=delete namespace/langconnect-prod --timeout=5m 2> /dev/null || true # a `down` still running
kubectl get namespace langconnect-prod > /dev/null 2>&1 || kubectl create namespace langconnect-prod
kubectl -n langconnect-prod get secret langconnect-postgres-auth > /dev/null 2>&1 \
  || kubectl -n langconnect-prod create secret generic langconnect-postgres-auth \
       --from-literal=postgres-password="$(head -c 18 /dev/urandom | base64)"

say "the controller: kubectl apply -k over manifests/"
mkdir -p "$DEMO/overlay"
[ -f "$DEMO/overlay/api-token" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$DEMO/overlay/api-token"
cat > "$DEMO/overlay/controller.yaml" <<YAML
git:
  url: $GIT_DAEMON_NODE_URL/demo-values.git
  interval: 5s
  workDir: /var/lib/langconnect-gitops/repo
kubernetes:
  stateNamespace: langconnect-gitops
http:
  port: 8080
  apiTokenFile: /etc/langconnect-gitops/api/token
observe:
  interval: 5s
  countInterval: 10s
YAML
scripts/controller-overlay.sh "$DEMO/overlay"
# The ServiceMonitor and PrometheusRule need the Prometheus Operator's CRDs; the node has none of its own.
kubectl apply --server-side -f src/test/resources/crds/monitoring-minimal.yaml > /dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s > /dev/null
kubectl apply -k "$DEMO/overlay"
kubectl -n langconnect-gitops rollout status deployment/langconnect-gitops --timeout=5m

say "staging and prod coming up through their probes"
for ns in langconnect-staging langconnect-prod; do
  for deployment in langconnect-postgres langconnect-langconnect; do
    until kubectl -n "$ns" get deployment "$deployment" > /dev/null 2>&1; do sleep 1; done
    kubectl -n "$ns" rollout status "deployment/$deployment" --timeout=5m
  done
done
kubectl get pods,pvc -A -l app.kubernetes.io/managed-by=langconnect-gitops -o wide

controller="http://$(kubectl -n langconnect-gitops get service langconnect-gitops -o jsonpath='{.spec.clusterIP}'):8080"
say "three documents written to prod through LangConnect (the stand-in), which creates the vector tables"
app="http://$(kubectl -n langconnect-prod get service langconnect-langconnect -o jsonpath='{.spec.clusterIP}'):8080"
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"texts": ["alpha", "beta", "gamma"], "owner": "demo"}' \
  "$app/collections/handbook/documents"; echo

say "metrics from the controller's in-cluster discovery ($controller/metrics)"
# Each replica observes on its own: one scrape, read whole, once it shows the collection.
for _ in $(seq 60); do
  scrape="$(curl -fsS "$controller/metrics")"
  grep -q '^langconnect_vector_collection_embeddings{.*namespace="langconnect-prod"' <<< "$scrape" && break
  sleep 2
done
grep -E '^langconnect_(postgres_up|api_up|database_size_bytes|pgvector_info|vector_collection_embeddings)\{' <<< "$scrape"

say "a backup of prod, taken now"
job="$(cli backup --env prod --values "$DEMO/values" --kubeconfig "$KUBECONFIG")"
kubectl -n langconnect-prod wait --for=condition=complete "job/$job" --timeout=5m > /dev/null
kubectl -n langconnect-prod logs "job/$job"
kubectl -n langconnect-prod get jobs

cat <<TEXT

  The stack runs on node $NODE_NAME. The controller syncs $GIT_DAEMON_NODE_URL/demo-values.git every 5 s.

  Status:   curl -s -H "Authorization: Bearer \$(cat $DEMO/overlay/api-token)" $controller/api/v1/environments
  Metrics:  curl -s $controller/metrics | grep ^langconnect_
  Cluster:  $KUBECTL --kubeconfig $KUBECONFIG get pods -A -l app.kubernetes.io/managed-by=langconnect-gitops
  Change:   cd $DEMO/values && \$EDITOR values-staging.yaml && git commit -qam "my change" && git push -q origin main
  Backups:  java -jar target/langconnect-gitops.jar backup --env prod --values $DEMO/values --kubeconfig $KUBECONFIG
  Remove:   scripts/demo.sh down

TEXT
