// What the kubelet asks the runtime for, per container, beyond resources (those formulas live in
// src/sandbox/kubelet.ts): the effective security context, no_new_privs, the seccomp profile,
// masked and read-only /proc paths, and the mounts it adds (volumes, /etc/hosts, the
// termination-message file, the service-account token). Pure functions; the kubelet source
// each rule comes from is cited in docs/compare.md.

import type {ContainerSpec, PodManifest, SeccompProfileType} from '../sandbox/manifest.js'

/** API defaulting of terminationMessagePath. */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log'
/** Where the ServiceAccount admission plugin mounts the projected token volume. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount'

/** Masked by every kubelet since ProcMount existed (pkg/securitycontext, defaultMaskedPaths). */
export const KUBELET_MASKED_PATHS = [
  '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
]
/** Added to that list by later kubelet releases: accepted when masked, not required. */
export const KUBELET_MASKED_PATHS_LATER = ['/proc/asound', '/proc/interrupts', '/sys/devices/virtual/powercap']
/** defaultReadonlyPaths */
export const KUBELET_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

/** The securityContext the kubelet acts on: the container's fields over the pod's. */
export interface EffectiveSecurity {
  runAsUser: number | null
  privileged: boolean
  allowPrivilegeEscalation: boolean | null
  readOnlyRootFilesystem: boolean
  capabilities: {add: string[]; drop: string[]} | null
  procMount: string | null
  seccomp: {profile: SeccompProfileType; why: string}
}

/**
 * The seccomp profile the kubelet sends: the container's seccompProfile, else the pod's, else
 * RuntimeDefault with --seccomp-default (seccompDefault in the kubelet config), else Unconfined.
 */
export function seccompProfile(pod: Pick<PodManifest, 'security'>, c: Pick<ContainerSpec, 'security'>, seccompDefault: SeccompDefault): {profile: SeccompProfileType; why: string} {
  const own = c.security?.seccompProfile
  const pods = pod.security?.seccompProfile
  if (own) return {profile: own, why: `the container's seccompProfile is ${own}`}
  if (pods) return {profile: pods, why: `the pod's seccompProfile is ${pods}`}
  return {profile: seccompDefault.value ? 'RuntimeDefault' : 'Unconfined', why: `no seccompProfile; ${seccompDefault.why}`}
}

/** Whether the kubelet runs with --seccomp-default, and how nodedoc knows. */
export interface SeccompDefault {
  value: boolean
  why: string
}

export function effectiveSecurity(pod: Pick<PodManifest, 'security'>, c: Pick<ContainerSpec, 'security' | 'runAsUser'>, seccompDefault: SeccompDefault): EffectiveSecurity {
  return {
    runAsUser: c.runAsUser ?? pod.security?.runAsUser ?? null,
    privileged: c.security?.privileged === true,
    allowPrivilegeEscalation: c.security?.allowPrivilegeEscalation ?? null,
    readOnlyRootFilesystem: c.security?.readOnlyRootFilesystem === true,
    capabilities: c.security?.capabilities ?? null,
    procMount: c.security?.procMount ?? null,
    seccomp: seccompProfile(pod, c, seccompDefault),
  }
}

/** The kubelet sets no_new_privs only when allowPrivilegeEscalation is false (AddNoNewPrivileges). */
export function noNewPrivs(s: Pick<EffectiveSecurity, 'allowPrivilegeEscalation'>): {value: boolean; why: string} {
  if (s.allowPrivilegeEscalation === false) return {value: true, why: 'allowPrivilegeEscalation: false'}
  return {value: false, why: `the kubelet sets it only for allowPrivilegeEscalation: false (here ${s.allowPrivilegeEscalation === null ? 'unset' : 'true'})`}
}

/** Masked and read-only paths the kubelet sends: its defaults, none for procMount Unmasked. */
export function procPathsAsked(s: Pick<EffectiveSecurity, 'procMount'>): boolean {
  return s.procMount !== 'Unmasked'
}

export function terminationMessagePath(c: Pick<ContainerSpec, 'terminationMessagePath'>): string {
  return c.terminationMessagePath || DEFAULT_TERMINATION_MESSAGE_PATH
}

/** Each volumeMount: read-only when asked, and always for API-data volumes (their mounter says so). */
export function volumeMounts(pod: Pick<PodManifest, 'volumes'>, c: Pick<ContainerSpec, 'volumeMounts'>): KubeletMount[] {
  const volumes = new Map(pod.volumes.map((v) => [v.name, v]))
  return c.volumeMounts.map((m): KubeletMount => {
    const source = volumes.get(m.name)?.source
    const kind = source ? (source.kind === 'apiData' || source.kind === 'other' ? source.type : source.kind) : 'volume'
    if (source?.kind === 'apiData') return {destination: m.mountPath, mode: 'ro', why: `volume ${m.name} (${kind}): the kubelet mounts API data read-only`}
    return {destination: m.mountPath, mode: m.readOnly ? 'ro' : 'rw', why: `volume ${m.name} (${kind})${m.readOnly ? ', readOnly: true' : ''}`}
  })
}

export interface KubeletMount {
  destination: string
  mode: 'ro' | 'rw'
  why: string
  /** set when the mount may rightly be absent, with the reason */
  optional?: string
}

/**
 * The mounts the kubelet puts in the CRI request: each volumeMount (read-only when asked, and
 * always for API-data volumes), /etc/hosts, the termination-message file, and the service-account
 * token when the manifest does not list it itself (admission adds it on the API server).
 */
export function kubeletMounts(pod: Pick<PodManifest, 'volumes' | 'automountServiceAccountToken'>, c: Pick<ContainerSpec, 'volumeMounts' | 'terminationMessagePath'>): KubeletMount[] {
  const out = volumeMounts(pod, c)
  if (!out.some((m) => m.destination === '/etc/hosts')) out.push({destination: '/etc/hosts', mode: 'rw', why: "the kubelet's etc-hosts file"})
  out.push({destination: terminationMessagePath(c), mode: 'rw', why: `the kubelet's termination-message file (terminationMessagePath${c.terminationMessagePath ? '' : ', default'})`})
  if (!out.some((m) => m.destination === SERVICE_ACCOUNT_MOUNT) && pod.automountServiceAccountToken !== false) {
    out.push({
      destination: SERVICE_ACCOUNT_MOUNT,
      mode: 'ro',
      why: 'the service-account token the API server adds (automountServiceAccountToken not false)',
      optional: 'the ServiceAccount itself may set automountServiceAccountToken: false',
    })
  }
  return out
}
