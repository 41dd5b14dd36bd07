# Sourced by scripts/test-env.sh: CloudNativePG for the cloudnative-pg engine's tests. The operator (its manager
# binary, which it also copies into every PostgreSQL pod as the instance manager) is built from its Go module at the
# version test-support/cnpg/go.mod pins; its CRDs, RBAC and webhooks come from the release manifest in the same
# module, with the image names pointed at the images built here from Debian packages:
#   cnpg-operator    the manager binary alone (static), laid out as upstream's distroless image holds it
#   cnpg-postgres    Debian trixie's PostgreSQL 17 + pgvector + barman-cli-cloud, uid 26 as CloudNativePG expects,
#                    no entrypoint (the operator runs its instance manager)
# Test infrastructure only; never shipped.

CNPG_VERSION="$(module_version github.com/cloudnative-pg/cloudnative-pg "$ROOT/test-support/cnpg/go.mod")"
CNPG_BIN="$CACHE/cnpg-$CNPG_VERSION"
CNPG_NAMESPACE=cnpg-system

build_cnpg() {
  [ -x "$CNPG_BIN/manager" ] && return 0
  command -v go >/dev/null || die "Go is needed once to build CloudNativePG; install Go 1.26 or newer"
  log "building CloudNativePG $CNPG_VERSION's operator from Go modules (a few minutes, once per machine)"
  mkdir -p "$CNPG_BIN.partial"
  (cd "$ROOT/test-support/cnpg" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w \
    -X github.com/cloudnative-pg/cloudnative-pg/pkg/versions.buildVersion=${CNPG_VERSION#v}" \
    -o "$CNPG_BIN.partial/manager" github.com/cloudnative-pg/cloudnative-pg/cmd/manager)
  cp "$(cd "$ROOT/test-support/cnpg" && go env GOMODCACHE)/github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION/releases/cnpg-${CNPG_VERSION#v}.yaml" \
    "$CNPG_BIN.partial/operator.yaml"
  rm -rf "$CNPG_BIN" && mv "$CNPG_BIN.partial" "$CNPG_BIN"
}

build_cnpg_operator_image() {
  local hash; hash="$(recipe_hash build_cnpg_operator_image "$CNPG_BIN/manager")"
  local out="$IMAGES/cnpg-operator-$hash.tar"
  CNPG_OPERATOR_IMAGE="langconnect-test/cnpg-operator:${CNPG_VERSION#v}-$hash"
  CNPG_OPERATOR_ARCHIVE="$out"
  [ -f "$out" ] && return 0
  local root; root="$(mktemp -d)"
  # As upstream's image: the operator finds the architectures it can hand to instances as /operator/manager_<arch>.
  install -D -m 0755 "$CNPG_BIN/manager" "$root/operator/manager_amd64"
  ln -s operator/manager_amd64 "$root/manager"
  docker_archive "$root" "$CNPG_OPERATOR_IMAGE" "$out" '{"Entrypoint":["/manager"],"User":"10001:10001"}'
  rm -rf "$root"
  keep_only "$out"
}

build_cnpg_postgres_image() {
  local hash; hash="$(recipe_hash build_cnpg_postgres_image)"
  local out="$IMAGES/cnpg-postgres-$hash.tar"
  # CloudNativePG reads the major version from the tag's start.
  CNPG_POSTGRES_IMAGE="langconnect-test/cnpg-postgres:$PG_IMAGE_VERSION-$hash"
  CNPG_POSTGRES_ARCHIVE="$out"
  [ -f "$out" ] && return 0
  log "building CloudNativePG's PostgreSQL $PG_IMAGE_VERSION + pgvector + barman-cloud image from Debian trixie (once per machine)"
  local root="$IMAGES/cnpg-postgres.rootfs"
  # gid 26 is Debian's tape group: it becomes postgres's.
  ROOTFS_PREPARE='groupmod -n postgres "$(getent group 26 | cut -d: -f1)" && useradd -r -u 26 -g 26 -d /var/lib/postgresql -s /bin/sh postgres &&
    mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf' \
    debian_rootfs trixie "$root" "postgresql-$PG_IMAGE_VERSION" "postgresql-$PG_IMAGE_VERSION-pgvector" \
    barman-cli-cloud python3-boto3
  mkdir -p "$root/var/lib/postgresql/data" && chown -R 26:26 "$root/var/lib/postgresql"
  docker_archive "$root" "$CNPG_POSTGRES_IMAGE" "$out" "{\"Env\":[\"PATH=/usr/lib/postgresql/$PG_IMAGE_VERSION/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",
    \"LANG=C.UTF-8\"],\"User\":\"26:26\"}"
  rm -rf "$root"
  keep_only "$out"
}

# The release manifest with the local images (never pulled) and the node's taint tolerated; applied server-side.
start_cnpg() {
  kubectl_admin -n "$CNPG_NAMESPACE" get deployment cnpg-controller-manager > /dev/null 2>&1 && return 0
  local taint_key="${NODE_TAINT%%=*}"
  sed -e "s|ghcr.io/cloudnative-pg/cloudnative-pg:${CNPG_VERSION#v}|$CNPG_OPERATOR_IMAGE|g" \
      -e "s|imagePullPolicy: Always|imagePullPolicy: IfNotPresent|" \
      -e "s|^      serviceAccountName: cnpg-manager$|      serviceAccountName: cnpg-manager\n      tolerations: [{key: $taint_key, operator: Exists, effect: NoSchedule}]|" \
      "$CNPG_BIN/operator.yaml" > "$STATE/cnpg-operator.yaml"
  kubectl_admin apply --server-side --force-conflicts -f "$STATE/cnpg-operator.yaml" > "$STATE/cnpg-apply.log" 2>&1 \
    || die "installing CloudNativePG failed (log: $STATE/cnpg-apply.log)"
  kubectl_admin -n "$CNPG_NAMESPACE" rollout status deployment/cnpg-controller-manager --timeout=180s \
    > "$STATE/cnpg-rollout.log" 2>&1 || die "CloudNativePG's operator did not become ready (log: $STATE/cnpg-rollout.log;"\
" kubectl -n $CNPG_NAMESPACE logs deployment/cnpg-controller-manager)"
}
