// The runtime's on-disk container config: annotations (containerd, CRI-O) or labels (docker)
// that say which pod and container a container ID is.

export interface RuntimeContainerMeta {
  sandbox: boolean
  sandboxId: string | null
  containerName: string | null
  podName: string | null
  podNamespace: string | null
  podUid: string | null
}

type Annotations = Record<string, string>

function fromContainerd(a: Annotations): RuntimeContainerMeta | undefined {
  const type = a['io.kubernetes.cri.container-type']
  if (!type) return undefined
  return {
    sandbox: type === 'sandbox',
    sandboxId: a['io.kubernetes.cri.sandbox-id'] ?? null,
    containerName: a['io.kubernetes.cri.container-name'] ?? null,
    podName: a['io.kubernetes.cri.sandbox-name'] ?? null,
    podNamespace: a['io.kubernetes.cri.sandbox-namespace'] ?? null,
    podUid: a['io.kubernetes.cri.sandbox-uid'] ?? null,
  }
}

function fromCrio(a: Annotations): RuntimeContainerMeta | undefined {
  const type = a['io.kubernetes.cri-o.ContainerType']
  if (!type) return undefined
  return {
    sandbox: type === 'sandbox',
    sandboxId: a['io.kubernetes.cri-o.SandboxID'] ?? null,
    containerName: a['io.kubernetes.container.name'] ?? (type === 'sandbox' ? 'POD' : null),
    podName: a['io.kubernetes.pod.name'] ?? null,
    podNamespace: a['io.kubernetes.pod.namespace'] ?? null,
    podUid: a['io.kubernetes.pod.uid'] ?? null,
  }
}

function fromDockerLabels(l: Annotations): RuntimeContainerMeta | undefined {
  const type = l['io.kubernetes.docker.type']
  if (!type) return undefined
  return {
    sandbox: type === 'podsandbox',
    sandboxId: l['io.kubernetes.sandbox.id'] ?? null,
    containerName: l['io.kubernetes.container.name'] ?? null,
    podName: l['io.kubernetes.pod.name'] ?? null,
    podNamespace: l['io.kubernetes.pod.namespace'] ?? null,
    podUid: l['io.kubernetes.pod.uid'] ?? null,
  }
}

export interface OciSpecSummary {
  meta: RuntimeContainerMeta | undefined
  args: string[]
  /** /proc/<pid>/ns paths or "" (new) per namespace type; absent = shares the runtime's */
  namespaces: Record<string, string>
  mounts: Array<{destination: string; source: string; type: string; options: string[]}>
  cgroupsPath: string | null
  capabilities: string[]
  noNewPrivileges: boolean
  seccomp: boolean
  /** linux.maskedPaths / linux.readonlyPaths: what the runtime hides or makes read-only in /proc and /sys */
  maskedPaths: string[]
  readonlyPaths: string[]
  /** root.readonly */
  rootReadonly: boolean
  user: {uid: number; gid: number} | null
  oomScoreAdj: number | null
  resources: {memoryLimit: number | null; cpuShares: number | null; cpuQuota: number | null; cpuPeriod: number | null; pidsLimit: number | null}
}

/** An OCI runtime spec (containerd, CRI-O config.json) or docker's config.v2.json. */
export function parseRuntimeConfig(text: string): OciSpecSummary {
  const spec = JSON.parse(text)
  const annotations: Annotations = spec.annotations ?? {}
  const labels: Annotations = spec.Config?.Labels ?? {}
  const linux = spec.linux ?? {}
  const r = linux.resources ?? {}
  return {
    meta: fromContainerd(annotations) ?? fromCrio(annotations) ?? fromDockerLabels(labels),
    args: spec.process?.args ?? spec.Args ?? [],
    namespaces: Object.fromEntries((linux.namespaces ?? []).map((n: {type: string; path?: string}) => [n.type, n.path ?? ''])),
    mounts: (spec.mounts ?? []).map((m: {destination: string; source?: string; type?: string; options?: string[]}) => ({
      destination: m.destination,
      source: m.source ?? '',
      type: m.type ?? '',
      options: m.options ?? [],
    })),
    cgroupsPath: linux.cgroupsPath ?? null,
    capabilities: spec.process?.capabilities?.effective ?? [],
    noNewPrivileges: spec.process?.noNewPrivileges === true,
    seccomp: Boolean(linux.seccomp),
    maskedPaths: Array.isArray(linux.maskedPaths) ? linux.maskedPaths : [],
    readonlyPaths: Array.isArray(linux.readonlyPaths) ? linux.readonlyPaths : [],
    rootReadonly: spec.root?.readonly === true,
    user: spec.process?.user ? {uid: spec.process.user.uid ?? 0, gid: spec.process.user.gid ?? 0} : null,
    oomScoreAdj: spec.process?.oomScoreAdj ?? null,
    resources: {
      memoryLimit: r.memory?.limit ?? null,
      cpuShares: r.cpu?.shares ?? null,
      cpuQuota: r.cpu?.quota ?? null,
      cpuPeriod: r.cpu?.period ?? null,
      pidsLimit: r.pids?.limit ?? null,
    },
  }
}
