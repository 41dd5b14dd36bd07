# Sourced by scripts/test-env.sh: a real forge for the tests of the Gitea webhook and of commit statuses. Gitea is
# built from its Go module at the version pinned here (its own go.mod and go.sum, so every dependency is the one its
# release names; no web assets: the tests use its API and git over HTTP), on the test env's PostgreSQL, on loopback.
# up makes an admin and a token for it, named in target/test-env/env as FORGE_URL and FORGE_TOKEN; each test makes
# its own repositories. Test infrastructure only; never shipped.

FORGE_VERSION=v1.27.3
FORGE_BIN="$CACHE/gitea-$FORGE_VERSION"
FORGE_ADMIN=forge-admin

build_forge() {
  [ -x "$FORGE_BIN/gitea" ] && return 0
  command -v go >/dev/null || die "Go is needed once to build Gitea; install Go 1.26 or newer"
  log "building Gitea $FORGE_VERSION from its Go module (several minutes, once per machine)"
  local source
  source="$(cd "$CACHE" && go mod download -json "code.gitea.io/gitea@$FORGE_VERSION" | awk -F'"' '$2=="Dir"{print $4}')"
  [ -d "$source" ] || die "go mod download code.gitea.io/gitea@$FORGE_VERSION gave no source tree"
  mkdir -p "$FORGE_BIN.partial"
  # Its templates and locales are read from the module's folder at run time (STATIC_ROOT_PATH), not embedded.
  (cd "$source" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${FORGE_VERSION#v}" \
    -o "$FORGE_BIN.partial/gitea" .)
  echo "$source" > "$FORGE_BIN.partial/source"
  rm -rf "$FORGE_BIN" && mv "$FORGE_BIN.partial" "$FORGE_BIN"
}

forge_cmd() { # forge_cmd SUBCOMMAND... : gitea with the test env's app.ini
  HOME="$STATE/forge" "$FORGE_BIN/gitea" "$@" --config "$STATE/forge/app.ini"
}

forge_api() { # forge_api METHOD PATH [JSON]
  curl -sf -X "$1" -H "Authorization: token $(cat "$STATE/forge/token")" -H "Content-Type: application/json" \
    ${3:+--data "$3"} "http://127.0.0.1:$(cat "$STATE/forge.port")/api/v1$2"
}

start_forge() {
  alive forge && return 0
  local dir="$STATE/forge" port; port="$(free_port)"
  echo "$port" > "$STATE/forge.port"
  mkdir -p "$dir"
  # Made once per test env (a forge restarted after a crash keeps them: Gitea encrypts with the secret key).
  [ -f "$dir/secret-key" ] || openssl rand -hex 32 > "$dir/secret-key"
  [ -f "$dir/internal-token" ] || openssl rand -hex 48 > "$dir/internal-token"
  pg_run "$PG_BIN/psql" -q -h 127.0.0.1 -p "$(cat "$STATE/postgres.port")" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'forge'" | grep -q 1 \
    || pg_run "$PG_BIN/createdb" -h 127.0.0.1 -p "$(cat "$STATE/postgres.port")" -U postgres forge
  # Gitea refuses root unless told: the test env runs as root (as its kubelet and containerd do), the forge only on
  # loopback, and the binary and its templates are in root's cache.
  cat > "$dir/app.ini" <<EOF
APP_NAME = langconnect-gitops test forge
RUN_MODE = prod
WORK_PATH = $dir
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = $([ "$(id -u)" = 0 ] && echo true || echo false)
[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = $port
ROOT_URL = http://127.0.0.1:$port/
DISABLE_SSH = true
OFFLINE_MODE = true
STATIC_ROOT_PATH = $(cat "$FORGE_BIN/source")
APP_DATA_PATH = $dir/data
[database]
DB_TYPE = postgres
HOST = 127.0.0.1:$(cat "$STATE/postgres.port")
NAME = forge
USER = postgres
SSL_MODE = disable
[repository]
ROOT = $dir/repositories
DEFAULT_BRANCH = main
[security]
INSTALL_LOCK = true
SECRET_KEY = $(cat "$dir/secret-key")
INTERNAL_TOKEN = $(cat "$dir/internal-token")
[oauth2]
ENABLED = false
[service]
DISABLE_REGISTRATION = true
[webhook]
; The controller under test listens on loopback.
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 10
[indexer]
ISSUE_INDEXER_TYPE = db
[cron]
ENABLED = false
[cron.update_checker]
ENABLED = false
[log]
MODE = file
LEVEL = Warn
ROOT_PATH = $dir/log
EOF
  forge_cmd migrate > "$STATE/forge-migrate.log" 2>&1 \
    || die "Gitea could not prepare its database (log: $STATE/forge-migrate.log)"
  HOME="$dir" "$FORGE_BIN/gitea" web --config "$dir/app.ini" > "$STATE/forge.log" 2>&1 &
  echo $! > "$STATE/forge.pid"
  wait_for 60 Gitea curl -sf "http://127.0.0.1:$port/api/healthz"
  [ -f "$dir/made" ] && return 0 # the admin and its token were made by an earlier up
  local password; password="$(openssl rand -hex 16)"
  forge_cmd admin user create --admin --username "$FORGE_ADMIN" \
    --password "$password" --email "$FORGE_ADMIN@example.com" --must-change-password=false >/dev/null 2>&1 \
    || die "Gitea made no admin (log: $STATE/forge.log)"
  forge_cmd admin user generate-access-token --username "$FORGE_ADMIN" \
    --token-name test-env --scopes all --raw > "$dir/token.partial" 2>/dev/null || die "Gitea made no token for $FORGE_ADMIN"
  mv "$dir/token.partial" "$dir/token"
  touch "$dir/made"
}

forge_env() {
  printf 'FORGE_URL=http://127.0.0.1:%s\nFORGE_TOKEN=%s\n' "$(cat "$STATE/forge.port")" "$(cat "$STATE/forge/token")"
}
