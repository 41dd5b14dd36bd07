#!/usr/bin/env bash
# The local control plane for tests and the demo, as plain processes on this machine:
#   etcd + kube-apiserver (Node and RBAC authorization) + kube-controller-manager + kube-scheduler, built from Go
#   modules under test-support/; one real node (scripts/node.sh: containerd, runc, CNI, kubelet, kube-proxy,
#   CoreDNS, local-path provisioner, images built from Debian packages by scripts/node-images.sh);
#   a second cluster (etcd + kube-apiserver + kube-controller-manager, no node; its own CA, tokens, ports and
#   audit log) for the tests that put environments on more than one cluster;
#   PostgreSQL 15 with pgvector built from Debian's source package; a git daemon; sops (Go modules) and age (Debian)
#   for the tests that encrypt values files; versitygw (Go modules), an S3-compatible server the backups upload to;
#   Gitea (Go module, scripts/forge.sh), the forge of the webhook and commit-status tests.
#
#   scripts/test-env.sh up                    install what is missing, build once per machine, start, write target/test-env/env
#   scripts/test-env.sh down                  stop everything and remove what it made (containers, mounts, links, rules)
#   scripts/test-env.sh status                say what runs, exit 1 when something is not up
#   scripts/test-env.sh controller-image JAR  put the controller's image, made from JAR, on the node; print its name
#
# Idempotent: `up` when everything already runs returns in about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/target/test-env"
REMOTE="$STATE/remote"
CACHE="${LANGCONNECT_GITOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/langconnect-gitops}"

# module_version MODULE GO_MOD: the version GO_MOD requires of MODULE.
module_version() {
  awk -v m="$1" '($1 == "require" && $2 == m) {print $3; exit} ($1 == m && $2 ~ /^v/) {print $2; exit}' "$2"
}

KUBE_VERSION="$(module_version k8s.io/kubernetes "$ROOT/test-support/kube/go.mod")"
ETCD_VERSION="$(awk '/go.etcd.io\/etcd\/server\/v3 v/{print $NF; exit}' "$ROOT/test-support/etcd/go.mod")"
KUBE_BIN="$CACHE/kubernetes-$KUBE_VERSION"
ETCD_BIN="$CACHE/etcd-$ETCD_VERSION"
SOPS_VERSION="$(module_version github.com/getsops/sops/v3 "$ROOT/test-support/sops/go.mod")"
SOPS_BIN="$CACHE/sops-$SOPS_VERSION"
VERSITYGW_VERSION="$(module_version github.com/versity/versitygw "$ROOT/test-support/versitygw/go.mod")"
VERSITYGW_BIN="$CACHE/versitygw-$VERSITYGW_VERSION"
HELM_VERSION="$(module_version helm.sh/helm/v4 "$ROOT/test-support/helm/go.mod")"
HELM_BIN="$CACHE/helm-$HELM_VERSION"
S3_ACCESS_KEY_ID=langconnect-test
S3_BUCKET=langconnect-backups
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"

log() { printf '[test-env] %s\n' "$*" >&2; }
die() { printf '[test-env] error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what did not come up within ${seconds}s (logs in $STATE/*.log)"
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------------------
# Installing and building (once per machine; every step checks first)

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

KUBE_COMMANDS="kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl"

build_kubernetes() {
  local missing=0
  for command in $KUBE_COMMANDS; do [ -x "$KUBE_BIN/$command" ] || missing=1; done
  [ $missing = 0 ] && return 0
  log "building $KUBE_COMMANDS $KUBE_VERSION from Go modules (several minutes, once per machine)"
  go_build "$ROOT/test-support/kube" "$KUBE_BIN" "$(version_ldflags "$KUBE_VERSION")" \
    $(for command in $KUBE_COMMANDS; do echo "k8s.io/kubernetes/cmd/$command"; done)
}

build_etcd() {
  [ -x "$ETCD_BIN/etcd" ] && return 0
  command -v go >/dev/null || die "Go is needed once to build etcd; install Go 1.26 or newer"
  log "building etcd $ETCD_VERSION from Go modules (about a minute, once per machine)"
  mkdir -p "$ETCD_BIN.partial"
  (cd "$ROOT/test-support/etcd" && go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.partial/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$ETCD_BIN" && mv "$ETCD_BIN.partial" "$ETCD_BIN"
}

# The tests encrypt values files with the real tools, as users do: age from Debian's packages, sops from Go modules.
install_sops() {
  apt_install age
  [ -x "$SOPS_BIN/sops" ] && return 0
  command -v go >/dev/null || die "Go is needed once to build sops; install Go 1.26 or newer"
  log "building sops $SOPS_VERSION from Go modules (a few minutes, once per machine)"
  mkdir -p "$SOPS_BIN.partial"
  (cd "$ROOT/test-support/sops" && go build -trimpath -ldflags "-s -w" -o "$SOPS_BIN.partial/sops" github.com/getsops/sops/v3/cmd/sops)
  rm -rf "$SOPS_BIN" && mv "$SOPS_BIN.partial" "$SOPS_BIN"
}

# pgvector is built from Debian's trixie source package against PostgreSQL 15's server headers. The
# deb-src entry reuses the mirror this machine's own apt sources name, so no host is written here.
install_pgvector() {
  [ -f "/usr/share/postgresql/$PG_VERSION/extension/vector.control" ] && return 0
  apt_install postgresql-server-dev-$PG_VERSION dpkg-dev build-essential
  local mirror
  mirror="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
  [ -n "$mirror" ] || mirror="$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$mirror" ] || die "cannot find a Debian mirror in /etc/apt sources to fetch pgvector's source package"
  local list=/etc/apt/sources.list.d/langconnect-gitops-trixie-src.sources
  if [ ! -f "$list" ]; then
    printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" | as_root tee "$list" >/dev/null
  fi
  as_root apt-get update -qq
  local src="$CACHE/pgvector-src"
  rm -rf "$src" && mkdir -p "$src"
  log "building pgvector from Debian's source package (trixie) against PostgreSQL $PG_VERSION"
  (cd "$src" && apt-get source -qq -t trixie pgvector >/dev/null 2>&1 || apt-get source -qq pgvector/trixie >/dev/null)
  local dir; dir="$(find "$src" -maxdepth 1 -mindepth 1 -type d -name 'pgvector-*' | head -1)"
  [ -n "$dir" ] || die "apt-get source pgvector gave no source tree"
  make -s -C "$dir" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS="" >/dev/null
  as_root make -s -C "$dir" PG_CONFIG="$PG_BIN/pg_config" install >/dev/null
}

# LangChain's own PGVector store makes the vector tables for the metrics tests, exactly as LangConnect does.
install_langchain() {
  local venv="$CACHE/langchain-venv"
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import langchain_postgres, psycopg' 2>/dev/null && return 0
  apt_install python3-venv
  log "installing langchain-postgres into $venv (once per machine)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "langchain-postgres==0.0.19" "psycopg[binary]==3.3.9"
}

# The object store the backups go to: versitygw over a plain folder, built from its Go module.
install_versitygw() {
  [ -x "$VERSITYGW_BIN/versitygw" ] && return 0
  command -v go >/dev/null || die "Go is needed once to build versitygw; install Go 1.26 or newer"
  log "building versitygw $VERSITYGW_VERSION from Go modules (a minute or two, once per machine)"
  mkdir -p "$VERSITYGW_BIN.partial"
  (cd "$ROOT/test-support/versitygw" && go build -trimpath -ldflags "-s -w" -o "$VERSITYGW_BIN.partial/versitygw" \
    github.com/versity/versitygw/cmd/versitygw)
  rm -rf "$VERSITYGW_BIN" && mv "$VERSITYGW_BIN.partial" "$VERSITYGW_BIN"
}

# Helm, for the chart's tests (lint, template, and the node e2e's install).
build_helm() {
  [ -x "$HELM_BIN/helm" ] && return 0
  log "building Helm $HELM_VERSION from Go modules (a few minutes, once per machine)"
  mkdir -p "$HELM_BIN.partial"
  (cd "$ROOT/test-support/helm" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" -o "$HELM_BIN.partial/helm" helm.sh/helm/v4/cmd/helm)
  rm -rf "$HELM_BIN" && mv "$HELM_BIN.partial" "$HELM_BIN"
}

# Every program built from Go modules, one after another (each build takes both cores by itself).
build_go_programs() {
  build_etcd
  install_sops
  install_versitygw
  build_kubernetes
  build_node_binaries
  build_cnpg
  build_forge
  build_helm
}

install_all() {
  mkdir -p "$CACHE"
  # Every Debian package first, in one apt run: what follows runs side by side, and apt runs one at a time.
  # promtool checks the metrics output; prometheus-postgres-exporter is the benchmark's yardstick.
  apt_install postgresql-$PG_VERSION postgresql-client-$PG_VERSION postgresql-server-dev-$PG_VERSION dpkg-dev \
    build-essential python3-venv openssl git curl prometheus prometheus-postgres-exporter age $NODE_PACKAGES
  # On a new machine the Go builds take the cores for most of `up`, while the Debian images, pgvector and
  # LangChain mostly wait on the network and the disk: the two run side by side.
  build_go_programs &
  local go_builds=$!
  install_langchain
  install_pgvector
  build_images
  build_cnpg_postgres_image
  wait "$go_builds" || die "a build from Go modules failed (its output is above)"
  build_cnpg_operator_image
}

# ---------------------------------------------------------------------------------------------------------
# Certificates, keys and tokens for the API server

make_credentials() {
  local pki="$STATE/pki"
  [ -f "$pki/apiserver.crt" ] && return 0
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=langconnect-gitops-test-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  # Reached on loopback by the tests, on the node's address and the Service 10.96.0.1 by pods.
  printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' \
    "$NODE_IP" > "$pki/ext.cnf"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile "$pki/ext.cnf" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  local admin nobody node
  admin="$(openssl rand -hex 24)"; nobody="$(openssl rand -hex 24)"; node="$(openssl rand -hex 24)"
  # token,user,uid,"group1,group2": the admin is in system:masters; "nobody" has no RBAC grants at all; the
  # kubelet is its node, authorized by the Node authorizer.
  printf '%s,admin,admin,"system:masters"\n%s,nobody,nobody\n%s,system:node:%s,%s,"system:nodes"\n' \
    "$admin" "$nobody" "$node" "$NODE_NAME" "$NODE_NAME" > "$pki/tokens.csv"
  chmod 600 "$pki/tokens.csv" "$pki"/*.key
  # Requests made as the controller's ServiceAccount go to the audit log: the RBAC test reads which verbs it used.
  printf '%s\n' 'apiVersion: audit.k8s.io/v1' 'kind: Policy' 'omitStages: ["RequestReceived"]' 'rules:' \
    '- level: Metadata' '  userGroups: ["system:serviceaccounts:langconnect-gitops"]' '- level: None' \
    > "$STATE/audit-policy.yaml"
}

token_of() { awk -F, -v user="$1" '$2==user{print $1}' "$STATE/pki/tokens.csv"; }

write_kubeconfig() { # write_kubeconfig FILE URL TOKEN
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $2
    certificate-authority: $STATE/pki/ca.crt
users:
- name: user
  user:
    token: $3
contexts:
- name: local
  context: {cluster: local, user: user}
current-context: local
EOF
  chmod 600 "$1"
}

# ---------------------------------------------------------------------------------------------------------
# Starting

start_etcd() {
  alive etcd && return 0
  local port peer; port="$(free_port)"; peer="$(free_port)"
  echo "$port" > "$STATE/etcd.port"
  "$ETCD_BIN/etcd" --name test --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "test=http://127.0.0.1:$peer" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level warn \
    > "$STATE/etcd.log" 2>&1 &
  echo $! > "$STATE/etcd.pid"
  wait_for 30 etcd curl -sf "http://127.0.0.1:$port/health"
}

start_apiserver() {
  alive kube-apiserver && return 0
  local port; port="${KEEP_PORT:-$(free_port)}"
  echo "$port" > "$STATE/kube-apiserver.port"
  "$KUBE_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$(cat "$STATE/etcd.port")" \
    --bind-address 0.0.0.0 --advertise-address "$NODE_IP" --secure-port "$port" \
    --tls-cert-file "$STATE/pki/apiserver.crt" --tls-private-key-file "$STATE/pki/apiserver.key" \
    --client-ca-file "$STATE/pki/ca.crt" \
    --token-auth-file "$STATE/pki/tokens.csv" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --kubelet-client-certificate "$STATE/pki/apiserver-kubelet.crt" --kubelet-client-key "$STATE/pki/apiserver-kubelet.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$STATE/pki/sa.pub" --service-account-signing-key-file "$STATE/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --api-audiences https://kubernetes.default.svc.cluster.local \
    --audit-policy-file "$STATE/audit-policy.yaml" --audit-log-path "$STATE/audit.log" --audit-log-maxsize 200 \
    --profiling=false --v=1 \
    > "$STATE/kube-apiserver.log" 2>&1 &
  echo $! > "$STATE/kube-apiserver.pid"
  write_kubeconfig "$STATE/admin.kubeconfig" "https://127.0.0.1:$port" "$(token_of admin)"
  write_kubeconfig "$STATE/nobody.kubeconfig" "https://127.0.0.1:$port" "$(token_of nobody)"
  wait_for 90 kube-apiserver curl -sf --cacert "$STATE/pki/ca.crt" -H "Authorization: Bearer $(token_of admin)" \
    "https://127.0.0.1:$port/readyz"
}

# Deployments get ReplicaSets and Pods, CronJobs get Jobs, claims get volumes, namespaces get their default
# ServiceAccount, as in a real cluster.
start_controller_manager() {
  alive kube-controller-manager && return 0
  "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig "$STATE/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 \
    --leader-elect=false \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller' \
    --service-account-private-key-file "$STATE/pki/sa.key" --root-ca-file "$STATE/pki/ca.crt" \
    --use-service-account-credentials=false --v=1 \
    > "$STATE/kube-controller-manager.log" 2>&1 &
  echo $! > "$STATE/kube-controller-manager.pid"
}

# The second cluster: the same functions with their state (pids, ports, certificates, data, logs) under $REMOTE.
remote() { STATE="$REMOTE" "$@"; }

start_remote_cluster() {
  mkdir -p "$REMOTE"
  remote make_credentials
  remote make_node_credentials
  remote start_etcd
  remote start_apiserver
  remote start_controller_manager
}

# PostgreSQL refuses to run as root, so under root it runs as the packages' postgres user.
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# On loopback for the tests (trust), and on the node's address for pods (password: the external-engine tests).
start_postgres() {
  if alive postgres; then
    "$PG_BIN/pg_isready" -q -h "$NODE_IP" -p "$(cat "$STATE/postgres.port")" && return 0
    stop_postgres # started before it listened for pods
  fi
  local data="$STATE/pg"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
    pg_run "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 --locale C >/dev/null
  fi
  local port; port="$(free_port)"
  echo "$port" > "$STATE/postgres.port"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE" 2>/dev/null || true
  printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust" \
    "host all all $POD_CIDR scram-sha-256" > "$STATE/pg_hba.conf"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE/pg_hba.conf"
  pg_run "$PG_BIN/postgres" -D "$data" -c "listen_addresses=127.0.0.1,$NODE_IP" -c "port=$port" \
    -c "hba_file=$STATE/pg_hba.conf" \
    -c "unix_socket_directories=$data" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=200 -c log_min_messages=warning \
    > "$STATE/postgres.log" 2>&1 &
  echo $! > "$STATE/postgres.pid"
  wait_for 30 PostgreSQL "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port" -U postgres
}

# The pid file names the shell that started runuser, not the server: stop the server itself (fast: clients are
# disconnected), then what is left of its wrapper.
stop_postgres() {
  if alive postgres && [ -f "$STATE/pg/postmaster.pid" ]; then
    pg_run "$PG_BIN/pg_ctl" -D "$STATE/pg" stop -m fast -w -t 30 >/dev/null 2>&1 || true
  fi
  stop_process postgres
}

start_git_daemon() {
  alive git-daemon && return 0
  local port; port="${KEEP_PORT:-$(free_port)}"
  echo "$port" > "$STATE/git-daemon.port"
  mkdir -p "$STATE/git"
  # On loopback for the tests, on the node's address for the controller running in a pod.
  git daemon --reuseaddr --listen=127.0.0.1 --listen="$NODE_IP" --port="$port" --base-path="$STATE/git" --export-all \
    --enable=receive-pack "$STATE/git" > "$STATE/git-daemon.log" 2>&1 &
  echo $! > "$STATE/git-daemon.pid"
  wait_for 10 "git daemon" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

# On loopback for the tests, on the node's address for the backup Jobs' pods; the bucket made through the S3 API.
start_object_store() {
  alive versitygw && return 0
  local port; port="$(free_port)"
  echo "$port" > "$STATE/versitygw.port"
  [ -f "$STATE/s3.secret" ] || openssl rand -hex 24 > "$STATE/s3.secret"
  mkdir -p "$STATE/s3"
  ROOT_ACCESS_KEY="$S3_ACCESS_KEY_ID" ROOT_SECRET_KEY="$(cat "$STATE/s3.secret")" "$VERSITYGW_BIN/versitygw" \
    --port "127.0.0.1:$port" --port "$NODE_IP:$port" posix "$STATE/s3" > "$STATE/versitygw.log" 2>&1 &
  echo $! > "$STATE/versitygw.pid"
  wait_for 10 "versitygw" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  [ -d "$STATE/s3/$S3_BUCKET" ] && return 0
  # SigV4 as any S3 client signs it (curl's own), the empty body's SHA-256 as the header S3 asks for.
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY_ID:$(cat "$STATE/s3.secret")" -X PUT \
    -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" "http://127.0.0.1:$port/$S3_BUCKET" > /dev/null \
    || die "versitygw did not create bucket $S3_BUCKET (log: $STATE/versitygw.log)"
}

write_env() {
  cat > "$STATE/env" <<EOF
# Written by scripts/test-env.sh up; read by the Java tests' TestEnvironment extension.
KUBECONFIG=$STATE/admin.kubeconfig
KUBE_API_URL=https://127.0.0.1:$(cat "$STATE/kube-apiserver.port")
KUBE_CA_FILE=$STATE/pki/ca.crt
KUBE_ADMIN_TOKEN=$(token_of admin)
KUBE_UNPRIVILEGED_TOKEN=$(token_of nobody)
KUBE_VERSION=$KUBE_VERSION
KUBE_AUDIT_LOG=$STATE/audit.log
ETCD_URL=http://127.0.0.1:$(cat "$STATE/etcd.port")
PGHOST=127.0.0.1
PGPORT=$(cat "$STATE/postgres.port")
PGUSER=postgres
GIT_DAEMON_URL=git://127.0.0.1:$(cat "$STATE/git-daemon.port")
LANGCHAIN_PYTHON=$CACHE/langchain-venv/bin/python
PROMTOOL=$(command -v promtool)
SOPS=$SOPS_BIN/sops
AGE_KEYGEN=$(command -v age-keygen)
GIT_DAEMON_ROOT=$STATE/git
GIT_DAEMON_NODE_URL=git://$NODE_IP:$(cat "$STATE/git-daemon.port")
KUBECTL=$KUBE_BIN/kubectl
REMOTE_KUBECONFIG=$REMOTE/admin.kubeconfig
REMOTE_KUBE_API_URL=https://127.0.0.1:$(cat "$REMOTE/kube-apiserver.port")
REMOTE_KUBE_CA_FILE=$REMOTE/pki/ca.crt
REMOTE_KUBE_ADMIN_TOKEN=$(remote token_of admin)
REMOTE_KUBE_AUDIT_LOG=$REMOTE/audit.log
NODE_NAME=$NODE_NAME
NODE_IP=$NODE_IP
NODE_TAINT=$NODE_TAINT
NODE_POSTGRES_IMAGE=$POSTGRES_IMAGE
NODE_LANGCONNECT_IMAGE=$LANGCONNECT_IMAGE
NODE_CONTROLLER_IMAGE=$CONTROLLER_IMAGE
NODE_BACKUP_UPLOADER_IMAGE=$UPLOADER_IMAGE
NODE_POSTGRES_CLIENT_IMAGE=$POSTGRES_CLIENT_IMAGE
CNPG_VERSION=$CNPG_VERSION
NODE_CNPG_OPERATOR_IMAGE=$CNPG_OPERATOR_IMAGE
NODE_CNPG_POSTGRES_IMAGE=$CNPG_POSTGRES_IMAGE
S3_ENDPOINT=http://$NODE_IP:$(cat "$STATE/versitygw.port")
S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID
S3_SECRET_ACCESS_KEY=$(cat "$STATE/s3.secret")
S3_BUCKET=$S3_BUCKET
S3_ROOT=$STATE/s3
HELM=$HELM_BIN/helm
$(forge_env)
EOF
}

up() {
  local started=$SECONDS
  install_all
  mkdir -p "$STATE"
  make_credentials
  make_node_credentials
  node_link_up
  start_etcd
  start_apiserver
  start_controller_manager
  start_remote_cluster
  start_postgres
  start_git_daemon
  start_forge
  node_up
  start_object_store
  start_cnpg
  write_env
  log "up in $((SECONDS - started))s: API $(grep "^KUBE_API_URL=" "$STATE/env" | cut -d= -f2), second cluster $(grep "^REMOTE_KUBE_API_URL=" "$STATE/env" | cut -d= -f2), PostgreSQL 127.0.0.1:$(cat "$STATE/postgres.port"); env in $STATE/env"
}

stop_processes() { # stop_processes PIDFILE...: TERM to all at once, then KILL what is left after 5 s
  local file pids=()
  for file in "$@"; do
    [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null && pids+=("$(cat "$file")")
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
      local pid left=""
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
      [ -n "$left" ] || break
      sleep 0.1
    done
    kill -9 "${pids[@]}" 2>/dev/null || true
  fi
  rm -f "$@"
}

stop_process() { stop_processes "$STATE/$1.pid"; } # stop_process NAME

# Faults the soak injects into a running test env (scripts/soak.sh); each one ends by itself. A restarted server keeps
# its port, as a restarted one in a cluster keeps its address.
fault() {
  alive kube-apiserver || die "the test env is not up; run $0 up first"
  case "${1:-}" in
    restart-apiserver) stop_process kube-apiserver; KEEP_PORT="$(cat "$STATE/kube-apiserver.port")" start_apiserver ;;
    pause-etcd)
      PAUSED_PID="$(cat "$STATE/etcd.pid")"
      trap 'kill -CONT "$PAUSED_PID"' EXIT # continued however this ends
      kill -STOP "$PAUSED_PID"; sleep "${2:-5}" ;;
    stop-git) stop_process git-daemon ;;
    start-git) KEEP_PORT="$(cat "$STATE/git-daemon.port")" start_git_daemon ;;
    kill-container) [ -n "${2:-}" ] || die "usage: $0 fault kill-container CONTAINER_ID"; ctr_k8s task kill -s SIGKILL "$2" ;;
    container-pid) [ -n "${2:-}" ] || die "usage: $0 fault container-pid CONTAINER_ID"
      ctr_k8s task ls | awk -v id="$2" '$1 == id {print $2}' ;;
    *) die "usage: $0 fault restart-apiserver|pause-etcd SECONDS|stop-git|start-git|kill-container ID|container-pid ID" ;;
  esac
}

down() {
  node_down
  # Everything is thrown away with its state, so no order is needed: all at once (one at a time took ~20 s).
  local name files=()
  for name in kube-controller-manager kube-apiserver etcd; do files+=("$REMOTE/$name.pid"); done
  for name in forge versitygw git-daemon kube-controller-manager kube-apiserver etcd; do files+=("$STATE/$name.pid"); done
  stop_processes "${files[@]}"
  stop_postgres
  rm -rf "$STATE"
  log "down"
}

status() {
  local ok=0
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler postgres git-daemon forge versitygw containerd kubelet \
      kube-proxy coredns local-path-provisioner; do
    if alive "$name"; then printf '%-24s running (pid %s)\n' "$name" "$(cat "$STATE/$name.pid")"
    else printf '%-24s stopped\n' "$name"; ok=1; fi
  done
  for name in etcd kube-apiserver kube-controller-manager; do
    if remote alive "$name"; then printf '%-24s running (pid %s)\n' "remote $name" "$(cat "$REMOTE/$name.pid")"
    else printf '%-24s stopped\n' "remote $name"; ok=1; fi
  done
  return $ok
}

source "$ROOT/scripts/node-images.sh"
source "$ROOT/scripts/node.sh"
source "$ROOT/scripts/cnpg.sh"
source "$ROOT/scripts/forge.sh"

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  controller-image)
    [ -f "${2:-}" ] || { echo "usage: $0 controller-image JAR" >&2; exit 2; }
    alive containerd || die "the test node is not up; run $0 up first"
    controller_image "$2" ;;
  fault) shift; fault "$@" ;;
  *) echo "usage: $0 up|down|status|controller-image JAR|fault KIND" >&2; exit 2 ;;
esac
