// What each nodedoc command needs from the kernel, in Linux capabilities: the one table that the
// debug pod, deploy/ and docs/privileges.md follow. nodedoc runs as UID 0 on the node (files the
// kubelet and the runtime make are root's), so what limits it is its capability set.

import type {SecurityContext} from 'kubernetes-types/core/v1.js'

export type Capability = 'SYS_PTRACE' | 'DAC_READ_SEARCH' | 'NET_ADMIN' | 'NET_RAW' | 'SYSLOG' | 'SYS_ADMIN'

/** Why an inspection needs each capability it asks for. */
export const CAPABILITY_REASONS: Record<Capability, string> = {
  SYS_PTRACE: "read other processes' /proc/<pid>/ns/*, root, mountinfo, fd and net links: the kernel checks ptrace read access for each, and the runtime's and pods' processes hold capabilities nodedoc would otherwise lack",
  DAC_READ_SEARCH: 'read files and folders that pods, the kubelet or the runtime made with other owners and tight modes (volumes with fsGroup, log folders, runtime state)',
  NET_ADMIN: 'dump netfilter state over netlink: iptables-save (both backends), nft list, ipvsadm -Ln and conntrack -L are refused without it',
  NET_RAW: 'iptables-legacy-save opens a raw socket to ask the kernel for its tables ("Cannot initialize: Permission denied (you must be root)" without it)',
  SYSLOG: 'read the kernel log (/dev/kmsg) for the OOM killer\'s lines, where kernel.dmesg_restrict is 1',
  SYS_ADMIN: 'enter namespaces (setns), mount, and make cgroups: only the commands that act',
}

/** The capabilities every read-only command runs with. */
export const INSPECTION_CAPABILITIES: Capability[] = ['SYS_PTRACE', 'DAC_READ_SEARCH', 'NET_ADMIN', 'NET_RAW', 'SYSLOG']

/**
 * Commands that write to the node or enter a pod's namespaces (sandbox builds pods, probe and
 * trace add rules and send packets, enter runs a program in a pod's namespaces): they run
 * privileged, as `kubectl debug --profile=sysadmin` does.
 */
export function actsOnNode(command: string[]): boolean {
  return ['sandbox', 'trace', 'enter'].includes(command[0] ?? '') || command.includes('--probe')
}

/** Commands that read no node state at all: a snapshot or other nodes' reports. */
export function readsNoNode(command: string[]): boolean {
  return command[0] === 'report' || command.some((a) => /^--from(=|$)/.test(a))
}

/** The securityContext of the container that runs `nodedoc COMMAND` on a node. */
export function securityContextFor(command: string[]): SecurityContext {
  if (actsOnNode(command)) return {privileged: true}
  const common: SecurityContext = {privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}
  if (readsNoNode(command)) return {...common, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true, capabilities: {drop: ['ALL']}}
  return {...common, runAsUser: 0, runAsNonRoot: false, capabilities: {drop: ['ALL'], add: [...INSPECTION_CAPABILITIES]}}
}

/** setpriv(1)'s --bounding-set argument that leaves a root process only these capabilities. */
export function boundingSet(capabilities: Capability[]): string {
  return ['-all', ...capabilities.map((c) => `+${c.toLowerCase()}`)].join(',')
}
