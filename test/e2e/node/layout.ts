// Where the test node keeps its own files, and the containerd and CNI configuration it writes.
// containerd's root and state stay at the stock /var/lib/containerd and /run/containerd so the
// node looks like a real one to nodedoc (task bundles, sandbox files, the default socket).

export const NODE_DIR = '/run/nodedoc-node'
export const STATE_FILE = `${NODE_DIR}/state.json`
/** who uses the node now: one PID; beside NODE_DIR so teardown can remove the folder whole */
export const NODE_LOCK = '/run/nodedoc-node.lock'
export const CONTAINERD_CONFIG = `${NODE_DIR}/containerd.toml`
export const CONTAINERD_LOG = `${NODE_DIR}/containerd.log`
export const CNI_CONF_DIR = `${NODE_DIR}/net.d`
export const CNI_IPAM_DIR = `${NODE_DIR}/ipam`
export const CNI_BIN_DIR = '/usr/lib/cni'
export const IMAGE_DIR = `${NODE_DIR}/images`

export const CONTAINERD_ROOT = '/var/lib/containerd'
export const CONTAINERD_STATE = '/run/containerd'
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock'
export const CNI_STATE_DIR = '/var/lib/cni'

export const NETWORK_NAME = 'nodedoc-e2e'
export const BRIDGE = 'cni0'
export const POD_SUBNET = '10.88.0.0/16'

export const PAUSE_IMAGE = 'nodedoc.local/pause:3.9'
export const BUSYBOX_IMAGE = 'nodedoc.local/busybox:1.35'

export const KUBELET_DIR = '/var/lib/kubelet'
export const KUBELET_PODS = '/var/lib/kubelet/pods'
export const POD_LOGS = '/var/log/pods'
export const CONTAINER_LOGS = '/var/log/containers'

export const APT_PACKAGES = ['containerd', 'runc', 'containernetworking-plugins', 'iptables', 'busybox-static', 'gcc', 'libc6-dev']

export function containerdConfig(): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"'
  return `version = 2
root = "${CONTAINERD_ROOT}"
state = "${CONTAINERD_STATE}"
# snapshotters this node cannot use only slow the start down
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${CONTAINERD_SOCKET}"

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # no CAP_SYS_RESOURCE here: a negative oom_score_adj (Guaranteed pods, the pause process)
  # must be clamped rather than fail every sandbox
  restrict_oom_score_adj = true
  enable_selinux = false
  max_container_log_line_size = 16384

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "${CNI_CONF_DIR}"
  max_conf_num = 1
`
}

/** A bridge with host-local addresses, private to this node: no masquerade, no port maps. */
export function cniConflist(): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: CNI_IPAM_DIR,
          ranges: [[{subnet: POD_SUBNET}]],
          routes: [{dst: '0.0.0.0/0'}],
        },
      },
    ],
  }, null, 2) + '\n'
}
