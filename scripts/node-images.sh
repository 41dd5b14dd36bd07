# Sourced by scripts/test-env.sh: the test node's container images, built from Debian packages with debootstrap
# (no registry is reachable, so nothing is pulled) and written as docker-archive tarballs that containerd imports.
# Each image is cached under $CACHE/images by a hash of its recipe, so it is built once per machine.
#   pause            the pod sandbox: Kubernetes' own pause.c, compiled statically
#   postgres         Debian trixie's PostgreSQL 17 + pgvector, entrypoint as the official image's (uid 999)
#   langconnect-app  a LangConnect stand-in made with langchain-postgres (test-support/images/langconnect-app)
#   jre              Debian bookworm's Java 17 runtime: the controller's image is this plus the built jar
#   backup-uploader  Debian bookworm's rclone: uploads backups to the S3 server, as the upstream rclone image does
#   postgres-client  Debian bookworm's PostgreSQL 15 client tools: pg_dump and friends of the test environment's own
#                    server's major version, for the environment whose database is that server (engine external)
# Test infrastructure only; never shipped.

IMAGES="$CACHE/images"
PG_IMAGE_VERSION=17
LANGCHAIN_PIN="langchain-postgres==0.0.19 psycopg[binary]==3.3.9" # as the test environment's venv

# The mirror this machine's own apt sources name, so no host is written in the project.
debian_mirror() {
  local mirror
  mirror="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
  [ -n "$mirror" ] || mirror="$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$mirror" ] || die "cannot find a Debian mirror in /etc/apt sources"
  echo "$mirror"
}

# recipe_hash FUNCTION [FILE...]: what an image is built from: its build function (and the ones it calls) and files.
recipe_hash() {
  local fn=$1; shift
  { declare -f "$fn" docker_archive debian_rootfs; [ $# -eq 0 ] || cat "$@"; } | sha256sum | cut -c1-12
}

# keep_only OUT: removes the older builds of the same image once OUT is written.
keep_only() {
  local out=$1 prefix="${1%-*}"
  for old in "$prefix"-*; do [ "$old" = "$out" ] || rm -rf "$old"; done
}

# docker_archive ROOTFS REF OUT CONFIG [BASE_LAYER_TAR]: one layer (or a base layer plus ROOTFS) as a docker archive.
docker_archive() {
  local rootfs=$1 ref=$2 out=$3 config=$4 base=${5:-}
  local work; work="$(mktemp -d)"
  local layers=() diffs=()
  if [ -n "$base" ]; then
    cp "$base" "$work/base.tar"
    layers+=("base.tar"); diffs+=("\"sha256:$(sha256sum "$work/base.tar" | cut -d' ' -f1)\"")
  fi
  tar --numeric-owner --xattrs -C "$rootfs" -cf "$work/layer.tar" .
  layers+=("layer.tar"); diffs+=("\"sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)\"")
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$config" "$(IFS=,; echo "${diffs[*]}")" > "$work/config.json"
  local digest; digest="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
  mv "$work/config.json" "$work/$digest.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$digest" "$ref" \
    "$(printf '"%s",' "${layers[@]}" | sed 's/,$//')" > "$work/manifest.json"
  tar -C "$work" -cf "$out.partial" manifest.json "$digest.json" "${layers[@]}"
  mv "$out.partial" "$out"
  rm -rf "$work"
}

# debian_rootfs SUITE DIR PACKAGES...: a minimal Debian with the packages, without docs, caches or services started.
debian_rootfs() {
  local suite=$1 dir=$2; shift 2
  rm -rf "$dir" && mkdir -p "$dir"
  debootstrap --variant=minbase "$suite" "$dir" "$(debian_mirror)" > "$dir.debootstrap.log" 2>&1 \
    || die "debootstrap $suite failed (log: $dir.debootstrap.log)"
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d" && chmod +x "$dir/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mount -t proc proc "$dir/proc"
  local status=0
  if [ $# -gt 0 ]; then
    chroot "$dir" sh -c "$ROOTFS_PREPARE" >> "$dir.debootstrap.log" 2>&1 || status=$?
    [ $status -eq 0 ] && { DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get install -y -qq --no-install-recommends "$@" \
      >> "$dir.debootstrap.log" 2>&1 || status=$?; }
  fi
  umount "$dir/proc"
  [ $status -eq 0 ] || die "installing $* into the $suite image failed (log: $dir.debootstrap.log)"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir/usr/sbin/policy-rc.d"
  : > "$dir/etc/resolv.conf"
}

build_pause_image() {
  local src; src="$(cd "$ROOT/test-support/kube" && go env GOMODCACHE)/k8s.io/kubernetes@$KUBE_VERSION/build/pause/linux/pause.c"
  [ -f "$src" ] || (cd "$ROOT/test-support/kube" && go mod download k8s.io/kubernetes)
  local out="$IMAGES/pause-$(recipe_hash build_pause_image "$src").tar"
  PAUSE_IMAGE="langconnect-test/pause:$(basename "$out" .tar | sed 's/^pause-//')"
  PAUSE_ARCHIVE="$out"
  [ -f "$out" ] && return 0
  log "building the pause image"
  local root; root="$(mktemp -d)"
  gcc -Os -static -o "$root/pause" -DVERSION="$KUBE_VERSION" "$src"
  docker_archive "$root" "$PAUSE_IMAGE" "$out" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  rm -rf "$root"
  keep_only "$out"
}

build_postgres_image() {
  local entry="$ROOT/test-support/images/postgres/docker-entrypoint.sh"
  local hash; hash="$(recipe_hash build_postgres_image "$entry")"
  local out="$IMAGES/postgres-$hash.tar"
  POSTGRES_IMAGE="langconnect-test/postgres:$PG_IMAGE_VERSION-$hash"
  POSTGRES_ARCHIVE="$out"
  [ -f "$out" ] && return 0
  log "building the PostgreSQL $PG_IMAGE_VERSION + pgvector image from Debian trixie (once per machine)"
  local root="$IMAGES/postgres.rootfs"
  # uid 999 as in the official image; no cluster is created at install time.
  ROOTFS_PREPARE='groupadd -r -g 999 postgres && useradd -r -u 999 -g 999 -d /var/lib/postgresql -s /bin/sh postgres &&
    mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf' \
    debian_rootfs trixie "$root" "postgresql-$PG_IMAGE_VERSION" "postgresql-$PG_IMAGE_VERSION-pgvector"
  install -m 0755 "$entry" "$root/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$root/var/run/postgresql" "$root/var/lib/postgresql/data"
  chown -R 999:999 "$root/var/run/postgresql" "$root/var/lib/postgresql"
  docker_archive "$root" "$POSTGRES_IMAGE" "$out" "{\"Entrypoint\":[\"/usr/local/bin/docker-entrypoint.sh\"],\"Cmd\":[\"postgres\"],
    \"Env\":[\"PATH=/usr/lib/postgresql/$PG_IMAGE_VERSION/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",
    \"PGDATA=/var/lib/postgresql/data\",\"LANG=C.UTF-8\"],\"User\":\"999:999\",\"ExposedPorts\":{\"5432/tcp\":{}},
    \"StopSignal\":\"SIGINT\"}"
  rm -rf "$root"
  keep_only "$out"
}

build_langconnect_image() {
  local app="$ROOT/test-support/images/langconnect-app/app.py"
  local hash; hash="$(recipe_hash build_langconnect_image "$app")"
  local out="$IMAGES/langconnect-app-$hash.tar"
  LANGCONNECT_IMAGE="langconnect-test/langconnect-app:$hash"
  LANGCONNECT_ARCHIVE="$out"
  [ -f "$out" ] && return 0
  log "building the LangConnect stand-in image (Debian trixie, langchain-postgres from PyPI; once per machine)"
  local root="$IMAGES/langconnect-app.rootfs"
  ROOTFS_PREPARE='true' debian_rootfs trixie "$root" python3 python3-venv ca-certificates
  # The wheels come through this machine's own pip (its index and CA settings), for the image's Python 3.13.
  local wheels="$root/tmp/wheels"
  mkdir -p "$wheels"
  python3 -m pip download -q --dest "$wheels" --only-binary=:all: --python-version 3.13 --implementation cp \
    --abi cp313 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any $LANGCHAIN_PIN > "$root.pip.log" 2>&1 || die "downloading wheels failed (log: $root.pip.log)"
  chroot "$root" sh -c "python3 -m venv /opt/venv && /opt/venv/bin/pip install -q --no-index --find-links /tmp/wheels \
    $LANGCHAIN_PIN" >> "$root.pip.log" 2>&1 || die "installing into the LangConnect stand-in failed (log: $root.pip.log)"
  rm -rf "$wheels"
  install -D -m 0644 "$app" "$root/opt/app/app.py"
  docker_archive "$root" "$LANGCONNECT_IMAGE" "$out" '{"Entrypoint":["/opt/venv/bin/python","/opt/app/app.py"],
    "Env":["PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin","PYTHONUNBUFFERED=1"],"User":"1000:1000",
    "ExposedPorts":{"8080/tcp":{}}}'
  rm -rf "$root"
  keep_only "$out"
}

# The backup Jobs' uploader: rclone, as in the upstream image the values default to, from Debian's package.
build_uploader_image() {
  local hash; hash="$(recipe_hash build_uploader_image)"
  local out="$IMAGES/backup-uploader-$hash.tar"
  UPLOADER_IMAGE="langconnect-test/backup-uploader:$hash"
  UPLOADER_ARCHIVE="$out"
  [ -f "$out" ] && return 0
  log "building the backup uploader image (Debian bookworm's rclone; once per machine)"
  local root="$IMAGES/backup-uploader.rootfs"
  ROOTFS_PREPARE='true' debian_rootfs bookworm "$root" rclone ca-certificates
  docker_archive "$root" "$UPLOADER_IMAGE" "$out" '{"Entrypoint":["rclone"],
    "Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"User":"999:999"}'
  rm -rf "$root"
  keep_only "$out"
}

# The client tools of the test environment's own PostgreSQL major version (pg_restore of a newer major writes
# settings an older server refuses): the tools image of an environment whose external database is that server.
build_postgres_client_image() {
  local hash; hash="$(recipe_hash build_postgres_client_image)"
  local out="$IMAGES/postgres-client-$hash.tar"
  POSTGRES_CLIENT_IMAGE="langconnect-test/postgres-client:$PG_VERSION-$hash"
  POSTGRES_CLIENT_ARCHIVE="$out"
  [ -f "$out" ] && return 0
  log "building the PostgreSQL $PG_VERSION client tools image from Debian bookworm (once per machine)"
  local root="$IMAGES/postgres-client.rootfs"
  ROOTFS_PREPARE='true' debian_rootfs bookworm "$root" "postgresql-client-$PG_VERSION"
  docker_archive "$root" "$POSTGRES_CLIENT_IMAGE" "$out" "{\"Env\":[\"PATH=/usr/lib/postgresql/$PG_VERSION/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",
    \"LANG=C.UTF-8\"],\"User\":\"999:999\"}"
  rm -rf "$root"
  keep_only "$out"
}

# The controller's image follows the Dockerfile's layout: a Java 17 runtime, the jar at
# /opt/langconnect-gitops/langconnect-gitops.jar, user 10001. The runtime layer is built once; the jar is added
# as a second layer whenever the controller image is asked for.
build_jre_layer() {
  JRE_LAYER="$IMAGES/jre-$(recipe_hash build_jre_layer).layer.tar"
  [ -f "$JRE_LAYER" ] && return 0
  log "building the Java 17 runtime layer of the controller's image from Debian bookworm (once per machine)"
  local root="$IMAGES/jre.rootfs"
  ROOTFS_PREPARE='true' debian_rootfs bookworm "$root" openjdk-17-jre-headless
  chroot "$root" useradd --system --uid 10001 --home-dir /var/lib/langconnect-gitops langconnect-gitops
  tar --numeric-owner --xattrs -C "$root" -cf "$JRE_LAYER.partial" . && mv "$JRE_LAYER.partial" "$JRE_LAYER"
  rm -rf "$root"
  keep_only "$JRE_LAYER"
}

# controller_image JAR: writes the controller's image for JAR and prints the archive's path.
controller_image_archive() {
  local jar=$1
  build_jre_layer
  local root; root="$(mktemp -d)"
  install -D -m 0644 "$jar" "$root/opt/langconnect-gitops/langconnect-gitops.jar"
  local out="$STATE/controller-image.tar"
  docker_archive "$root" "$CONTROLLER_IMAGE" "$out" '{"Entrypoint":["java","-XX:MaxRAMPercentage=75","-Djava.io.tmpdir=/tmp","-jar","/opt/langconnect-gitops/langconnect-gitops.jar"],
    "Cmd":["serve","--config","/etc/langconnect-gitops/config/controller.yaml"],
    "Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"User":"10001:10001",
    "ExposedPorts":{"8080/tcp":{}}}' "$JRE_LAYER"
  rm -rf "$root"
  echo "$out"
}

build_images() {
  mkdir -p "$IMAGES"
  apt_install debootstrap gcc libc6-dev
  build_pause_image
  build_postgres_image
  build_langconnect_image
  build_uploader_image
  build_postgres_client_image
  build_jre_layer
}
