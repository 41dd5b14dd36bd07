# Sourced by scripts/test-env.sh: one real node for the local control plane. containerd and runc (Debian's), the
# CNI plugins (Debian's bridge, host-local, loopback, portmap), a kubelet built from Go modules, kube-proxy in
# iptables mode, CoreDNS, and the local-path provisioner with a default StorageClass. Pods reach each other and
# this machine only: no masquerade, and forwarding out of the pod network is dropped. Everything it makes
# (processes, mounts, network namespaces, links, iptables rules, cgroups) lives under $STATE or is listed here and
# removed by node_down. Test infrastructure only; never shipped.

NODE_NAME=langconnect-test-node
NODE_IP=10.200.0.1            # on a link of its own: the kubelet, CoreDNS and the API server for pods
NODE_LINK=lgtest0
POD_CIDR=10.88.0.0/16
POD_BRIDGE=lgtest-cni0
SERVICE_CIDR=10.96.0.0/16     # test-env.sh's --service-cluster-ip-range
CLUSTER_DNS=$NODE_IP
# Only pods that tolerate this run on the node (the end-to-end tests, the demo); the other tests' pods stay
# unscheduled, as on a control plane without nodes, so that their fake readiness is never overwritten.
NODE_TAINT_KEY=langconnect-test/node
NODE_TAINT="$NODE_TAINT_KEY=e2e:NoSchedule"
NODE_CHAIN=LGTEST-NODE         # our filter rules: pod traffic stays on this machine; the API port stays local
KUBELET_VERSION="$(module_version k8s.io/kubernetes "$ROOT/test-support/kubelet/go.mod")"
KUBELET_BIN="$CACHE/kubelet-$KUBELET_VERSION"
COREDNS_VERSION="$(module_version github.com/coredns/coredns "$ROOT/test-support/coredns/go.mod")"
COREDNS_BIN="$CACHE/coredns-$COREDNS_VERSION"
LOCAL_PATH_VERSION="$(module_version github.com/rancher/local-path-provisioner "$ROOT/test-support/local-path/go.mod")"
LOCAL_PATH_BIN="$CACHE/local-path-provisioner-$LOCAL_PATH_VERSION"
CONTROLLER_IMAGE=langconnect-test/langconnect-gitops:test
CONTAINERD_SOCK="$STATE/containerd/containerd.sock"

# ---------------------------------------------------------------------------------------------------------
# Installing and building

go_build() { # go_build MODULE_DIR OUT_DIR LDFLAGS PACKAGE...
  local dir=$1 out=$2 ldflags=$3; shift 3
  command -v go >/dev/null || die "Go is needed once to build the test node; install Go 1.26 or newer"
  mkdir -p "$out.partial"
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.partial/" "$@")
  rm -rf "$out" && mv "$out.partial" "$out"
}

version_ldflags() { # version_ldflags vX.Y.Z
  local minor="${1#v1.}"; minor="${minor%%.*}"
  echo "-X k8s.io/component-base/version.gitVersion=$1 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
}

# The node's own programs, from Go modules (the Debian packages and images are install_all's).
build_node_binaries() {
  if [ ! -x "$KUBELET_BIN/kubelet" ]; then
    log "building kubelet $KUBELET_VERSION from Go modules (several minutes, once per machine)"
    go_build "$ROOT/test-support/kubelet" "$KUBELET_BIN" "$(version_ldflags "$KUBELET_VERSION")" k8s.io/kubernetes/cmd/kubelet
  fi
  if [ ! -x "$COREDNS_BIN/coredns" ]; then
    log "building CoreDNS $COREDNS_VERSION from Go modules (a few minutes, once per machine)"
    go_build "$ROOT/test-support/coredns" "$COREDNS_BIN" "" github.com/coredns/coredns
  fi
  if [ ! -x "$LOCAL_PATH_BIN/local-path-provisioner" ]; then
    log "building local-path-provisioner $LOCAL_PATH_VERSION from Go modules (about a minute, once per machine)"
    go_build "$ROOT/test-support/local-path" "$LOCAL_PATH_BIN" "" github.com/rancher/local-path-provisioner
  fi
}

# Debian's packages the node runs (containerd, runc, CNI plugins) and builds its images with.
NODE_PACKAGES="containerd runc containernetworking-plugins iptables iproute2 debootstrap gcc libc6-dev"

# ---------------------------------------------------------------------------------------------------------
# Certificates and credentials of the node

make_node_credentials() {
  local pki="$STATE/pki"
  [ -f "$pki/kubelet.crt" ] && return 0
  # The kubelet's serving certificate, and the API server's client certificate for it (logs, exec).
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$NODE_NAME" -keyout "$pki/kubelet.key" -out "$pki/kubelet.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\n' "$NODE_IP" "$NODE_NAME" > "$pki/kubelet.cnf"
  openssl x509 -req -in "$pki/kubelet.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile "$pki/kubelet.cnf" -out "$pki/kubelet.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    -keyout "$pki/apiserver-kubelet.key" -out "$pki/apiserver-kubelet.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$pki/client.cnf"
  openssl x509 -req -in "$pki/apiserver-kubelet.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile "$pki/client.cnf" -out "$pki/apiserver-kubelet.crt" 2>/dev/null
  chmod 600 "$pki"/*.key
}

# ---------------------------------------------------------------------------------------------------------
# Network: a dummy link for the node's address, forwarding for the pod bridge, and rules that keep pods here

node_link_up() {
  if ! ip link show "$NODE_LINK" >/dev/null 2>&1; then
    ip link add "$NODE_LINK" type bridge # an address of its own (this kernel has no dummy links)
    ip addr add "$NODE_IP/32" dev "$NODE_LINK"
    ip link set "$NODE_LINK" up
  fi
  # Service addresses kube-proxy does not translate (no such Service) stay on this machine instead of taking the
  # default route: tests that reach Services from the host send nothing out. Goes with the link on down.
  ip route replace "$SERVICE_CIDR" dev "$NODE_LINK"
  # Remember what the machine had, to put it back on down.
  [ -f "$STATE/sysctl.saved" ] || printf 'net.ipv4.ip_forward=%s\nnet.bridge.bridge-nf-call-iptables=%s\n' \
    "$(cat /proc/sys/net/ipv4/ip_forward)" "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables)" > "$STATE/sysctl.saved"
  sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  mkdir -p "$STATE/cni/net.d"
  cat > "$STATE/cni/net.d/10-langconnect-test.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "langconnect-test",
  "plugins": [
    {"type": "bridge", "bridge": "$POD_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$STATE/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
}

node_rules_up() {
  if ! iptables -w -n -L "$NODE_CHAIN" >/dev/null 2>&1; then
    iptables -w -N "$NODE_CHAIN"
    # Out of the pod network only to the pod network itself (Services are translated before this).
    iptables -w -A "$NODE_CHAIN" -s "$POD_CIDR" -d "$POD_CIDR" -j RETURN
    iptables -w -A "$NODE_CHAIN" -s "$POD_CIDR" -j DROP
    iptables -w -I FORWARD 1 -j "$NODE_CHAIN"
    # The API server listens for pods too; from anywhere but this machine and its pods, its port is closed.
    iptables -w -N "$NODE_CHAIN-IN"
    iptables -w -A "$NODE_CHAIN-IN" -i lo -j RETURN
    iptables -w -A "$NODE_CHAIN-IN" -s "$POD_CIDR" -j RETURN
    iptables -w -A "$NODE_CHAIN-IN" -p tcp --dport "$(cat "$STATE/kube-apiserver.port")" -j DROP
    iptables -w -I INPUT 1 -j "$NODE_CHAIN-IN"
  fi
}

# remove_chains TOOL TABLE REGEX: the rules that jump to matching chains, then the chains.
remove_chains() {
  local tool=$1 table=$2 pattern=$3 chains
  chains="$("$tool" -w -t "$table" -S 2>/dev/null | awk -v p="$pattern" '$1 == "-N" && $2 ~ p {print $2}')"
  [ -n "$chains" ] || return 0
  "$tool" -w -t "$table" -S 2>/dev/null | awk -v p="$pattern" '$1 == "-A" && $0 ~ ("-j " substr(p, 2)) {sub("^-A", "-D"); print}' |
    while read -r rule; do eval "$tool" -w -t "$table" "$rule" 2>/dev/null || true; done
  for chain in $chains; do "$tool" -w -t "$table" -F "$chain" 2>/dev/null || true; done
  for chain in $chains; do "$tool" -w -t "$table" -X "$chain" 2>/dev/null || true; done
}

node_network_down() {
  if iptables -w -n -L "$NODE_CHAIN" >/dev/null 2>&1; then
    iptables -w -D FORWARD -j "$NODE_CHAIN" 2>/dev/null || true
    iptables -w -F "$NODE_CHAIN" && iptables -w -X "$NODE_CHAIN"
  fi
  if iptables -w -n -L "$NODE_CHAIN-IN" >/dev/null 2>&1; then
    iptables -w -D INPUT -j "$NODE_CHAIN-IN" 2>/dev/null || true
    iptables -w -F "$NODE_CHAIN-IN" && iptables -w -X "$NODE_CHAIN-IN"
  fi
  # What the kubelet (KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...), kube-proxy and portmap (CNI-...) left, in every table.
  for tool in iptables ip6tables; do
    for table in filter nat mangle; do remove_chains "$tool" "$table" '^(KUBE|CNI)-'; done
  done
  ip link del "$POD_BRIDGE" 2>/dev/null || true
  ip link del "$NODE_LINK" 2>/dev/null || true
  if [ -f "$STATE/sysctl.saved" ]; then sysctl -q -p "$STATE/sysctl.saved" >/dev/null 2>&1 || true; fi
}

# ---------------------------------------------------------------------------------------------------------
# Processes

start_containerd() {
  alive containerd && return 0
  mkdir -p "$STATE/containerd"
  cat > "$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This kernel refuses negative oom_score_adj (the sandbox gets -998): keep every container at or above ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$STATE/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  touch "$STATE/containerd.started"
  containerd --config "$STATE/containerd/config.toml" > "$STATE/containerd.log" 2>&1 &
  echo $! > "$STATE/containerd.pid"
  wait_for 30 containerd ctr -a "$CONTAINERD_SOCK" version
}

ctr_k8s() { ctr -a "$CONTAINERD_SOCK" -n k8s.io "$@"; }

import_image() { # import_image ARCHIVE REF
  ctr_k8s images ls -q | grep -qx "docker.io/$2" && return 0
  ctr_k8s images import --no-unpack "$1" > /dev/null || die "containerd could not import $1"
}

import_images() {
  import_image "$PAUSE_ARCHIVE" "$PAUSE_IMAGE"
  import_image "$POSTGRES_ARCHIVE" "$POSTGRES_IMAGE"
  import_image "$LANGCONNECT_ARCHIVE" "$LANGCONNECT_IMAGE"
  import_image "$UPLOADER_ARCHIVE" "$UPLOADER_IMAGE"
  import_image "$POSTGRES_CLIENT_ARCHIVE" "$POSTGRES_CLIENT_IMAGE"
  import_image "$CNPG_OPERATOR_ARCHIVE" "$CNPG_OPERATOR_IMAGE"
  import_image "$CNPG_POSTGRES_ARCHIVE" "$CNPG_POSTGRES_IMAGE"
}

# The controller's image, from a built jar; imported again each time (same reference, new content).
controller_image() { # controller_image JAR
  local archive; archive="$(controller_image_archive "$1")"
  ctr_k8s images import --no-unpack "$archive" > /dev/null || die "containerd could not import the controller's image"
  rm -f "$archive"
  echo "$CONTROLLER_IMAGE"
}

start_kubelet() {
  alive kubelet && return 0
  mkdir -p "$STATE/kubelet" "$STATE/pod-logs"
  write_kubeconfig "$STATE/node.kubeconfig" "https://$NODE_IP:$(cat "$STATE/kube-apiserver.port")" "$(token_of "system:node:$NODE_NAME")"
  cat > "$STATE/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
address: $NODE_IP
port: $(free_port)
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(free_port)
tlsCertFile: $STATE/pki/kubelet.crt
tlsPrivateKeyFile: $STATE/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
podLogsDir: $STATE/pod-logs
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
serializeImagePulls: false
registerWithTaints: [{key: "$NODE_TAINT_KEY", value: e2e, effect: NoSchedule}]
EOF
  "$KUBELET_BIN/kubelet" --config "$STATE/kubelet-config.yaml" --kubeconfig "$STATE/node.kubeconfig" \
    --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet/pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --v=1 > "$STATE/kubelet.log" 2>&1 &
  echo $! > "$STATE/kubelet.pid"
}

start_kube_proxy() {
  alive kube-proxy && return 0
  "$KUBE_BIN/kube-proxy" --kubeconfig "$STATE/admin.kubeconfig" --proxy-mode iptables --cluster-cidr "$POD_CIDR" \
    --hostname-override "$NODE_NAME" --bind-address "$NODE_IP" --healthz-bind-address "127.0.0.1:$(free_port)" \
    --metrics-bind-address "127.0.0.1:$(free_port)" --conntrack-max-per-core 0 --v=1 > "$STATE/kube-proxy.log" 2>&1 &
  echo $! > "$STATE/kube-proxy.pid"
}

start_scheduler() {
  alive kube-scheduler && return 0
  "$KUBE_BIN/kube-scheduler" --kubeconfig "$STATE/admin.kubeconfig" --authentication-kubeconfig "$STATE/admin.kubeconfig" \
    --authorization-kubeconfig "$STATE/admin.kubeconfig" --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --v=1 > "$STATE/kube-scheduler.log" 2>&1 &
  echo $! > "$STATE/kube-scheduler.pid"
}

# Cluster DNS: names of Services and pods resolve; nothing beyond the cluster does (pods need no outside names).
start_coredns() {
  alive coredns && return 0
  cat > "$STATE/Corefile" <<EOF
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
  bind $NODE_IP
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $STATE/admin.kubeconfig
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
  }
  errors
}
.:53 {
  bind $NODE_IP
  template ANY ANY {
    rcode NXDOMAIN
  }
}
EOF
  "$COREDNS_BIN/coredns" -conf "$STATE/Corefile" > "$STATE/coredns.log" 2>&1 &
  echo $! > "$STATE/coredns.pid"
}

# PersistentVolumes: local-path provisions a folder under $STATE per claim, made by a helper pod on the node.
start_local_path() {
  alive local-path-provisioner && return 0
  mkdir -p "$STATE/local-path"
  kubectl_admin apply -f - > /dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: local-path-storage}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: local-path-provisioner, namespace: local-path-storage}
automountServiceAccountToken: false
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
EOF
  # The helper pod makes each claim's folder, writable by the non-root databases that use it, and removes it.
  kubectl_admin apply -f - > /dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: local-path-config, namespace: local-path-storage}
data:
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "\$VOL_DIR"
EOF
  printf '{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["%s"]}]}\n' "$STATE/local-path" \
    > "$STATE/local-path.json"
  cat > "$STATE/local-path-helper.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: helper-pod}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsUser: 0}
  containers:
  - name: helper-pod
    image: $POSTGRES_IMAGE
    imagePullPolicy: IfNotPresent
EOF
  "$LOCAL_PATH_BIN/local-path-provisioner" start --kubeconfig "$STATE/admin.kubeconfig" --namespace local-path-storage \
    --service-account-name local-path-provisioner --provisioner-name rancher.io/local-path \
    --helper-image "$POSTGRES_IMAGE" --config "$STATE/local-path.json" --helper-pod-file "$STATE/local-path-helper.yaml" \
    > "$STATE/local-path-provisioner.log" 2>&1 &
  echo $! > "$STATE/local-path-provisioner.pid"
}

kubectl_admin() { "$KUBE_BIN/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

node_ready() {
  kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

node_up() {
  node_rules_up
  start_containerd
  import_images
  start_scheduler
  start_kube_proxy
  start_coredns
  start_kubelet
  wait_for 120 "the node $NODE_NAME" node_ready
  start_local_path
}

# Stops everything the node started and removes everything it made, in the order that lets each part clean up.
node_down() {
  if alive kubelet && [ -f "$STATE/admin.kubeconfig" ] && alive kube-apiserver; then
    # Pods go through the kubelet, which stops their containers and tears down their networks; the scheduler goes
    # first, so the replacements their controllers make are never placed (they kept the node busy past this wait).
    stop_process kube-scheduler
    kubectl_admin delete pods --all --all-namespaces --grace-period=1 --wait=false > /dev/null 2>&1 || true
    for _ in $(seq 100); do
      [ -z "$(ctr_k8s tasks ls -q 2>/dev/null)" ] && break
      sleep 0.3
    done
  fi
  local name files=()
  for name in local-path-provisioner kubelet coredns kube-scheduler kube-proxy; do files+=("$STATE/$name.pid"); done
  stop_processes "${files[@]}"
  if alive containerd; then
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true; done
    sleep 0.5
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true; done
  fi
  stop_process containerd
  pkill -9 -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
  [ -x "$KUBE_BIN/kube-proxy" ] && "$KUBE_BIN/kube-proxy" --cleanup > /dev/null 2>&1 || true
  # Mounts under the state folder (container root filesystems, pod volumes, network namespaces), deepest first.
  awk -v s="$STATE" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r | while read -r mount; do
    umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || true
  done
  # Network namespaces of pods that did not go away cleanly (made by our containerd, so newer than its start).
  if [ -f "$STATE/containerd.started" ]; then
    find /var/run/netns -maxdepth 1 -name 'cni-*' -newer "$STATE/containerd.started" 2>/dev/null | while read -r ns; do
      ip netns del "$(basename "$ns")" 2>/dev/null || true
    done
  fi
  # The pod cgroups the kubelet made in every hierarchy.
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "$hierarchy/kubepods" ] && find "$hierarchy/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  node_network_down
}
