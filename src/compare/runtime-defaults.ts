// What the runtime adds to every container of a CRI request: its default OCI mounts, its default
// capability set, and how it treats privileged containers. containerd (pkg/oci and its CRI
// plugin) and CRI-O (runtime-tools' default spec plus server/container_create*.go) differ in
// details; docs/compare.md cites each. Pure functions.

import type {Runtime} from '../pods/types.js'

/** containerd's (and docker's) default set: oci.defaultUnixCaps. */
export const CONTAINERD_CAPABILITIES = [
  'chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid', 'setfcap', 'setpcap',
  'net_bind_service', 'sys_chroot', 'kill', 'audit_write',
]
/** CRI-O's default_capabilities (capabilities.Default). */
export const CRIO_CAPABILITIES = ['chown', 'dac_override', 'fsetid', 'fowner', 'setgid', 'setuid', 'setpcap', 'net_bind_service', 'kill']

export function runtimeName(runtime: Runtime): string {
  return runtime === 'unknown' ? 'the runtime' : runtime
}

export function defaultCapabilities(runtime: Runtime): string[] {
  return runtime === 'cri-o' ? CRIO_CAPABILITIES : CONTAINERD_CAPABILITIES
}

export interface RuntimeMount {
  destination: string
  mode: 'ro' | 'rw'
  why: string
}

export interface MountContext {
  privileged: boolean
  readOnlyRootFilesystem: boolean
}

/**
 * The mounts the runtime adds when the CRI request has none at that path. /sys and the cgroup
 * tree are read-only unless privileged; the files the runtime writes per sandbox (/etc/hostname,
 * /etc/resolv.conf, CRI-O's /run/.containerenv) follow readOnlyRootFilesystem.
 */
export function runtimeDefaultMounts(runtime: Runtime, ctx: MountContext): RuntimeMount[] {
  const who = runtime === 'cri-o' ? "CRI-O's default spec" : `${runtime === 'docker' ? 'docker' : 'containerd'}'s default OCI spec`
  const sys: 'ro' | 'rw' = ctx.privileged ? 'rw' : 'ro'
  const files: 'ro' | 'rw' = ctx.readOnlyRootFilesystem ? 'ro' : 'rw'
  const mounts: RuntimeMount[] = [
    {destination: '/proc', mode: 'rw', why: who},
    {destination: '/dev', mode: 'rw', why: who},
    {destination: '/dev/pts', mode: 'rw', why: who},
    {destination: '/dev/mqueue', mode: 'rw', why: who},
    {destination: '/dev/shm', mode: 'rw', why: `${who} (the sandbox's shared /dev/shm)`},
    {destination: '/sys', mode: sys, why: `${who}${ctx.privileged ? ', writable when privileged' : ''}`},
    {destination: '/sys/fs/cgroup', mode: sys, why: `${who}: the cgroup tree${ctx.privileged ? ', writable when privileged' : ', read-only'}`},
    {destination: '/etc/hostname', mode: files, why: `${runtimeName(runtime)}'s sandbox hostname file`},
    {destination: '/etc/resolv.conf', mode: files, why: `${runtimeName(runtime)}'s sandbox resolv.conf`},
  ]
  if (runtime === 'cri-o') mounts.push({destination: '/run/.containerenv', mode: files, why: "CRI-O's .containerenv file"})
  return mounts
}

/** A pod `nodedoc sandbox` made: the sandbox is its runtime, and these are its own choices (src/sandbox/plan.ts). */
export interface SandboxProfile {
  name: string
  isolation: string
}

/** What a sandbox mounts in every container besides its volumes: no mqueue, cgroup tree, token or termination file. */
export function sandboxMounts(sandbox: SandboxProfile, hostNetwork: boolean): RuntimeMount[] {
  const who = `nodedoc sandbox ${sandbox.name}`
  return [
    {destination: '/proc', mode: 'rw', why: who},
    {destination: '/dev', mode: 'rw', why: who},
    {destination: '/dev/pts', mode: 'rw', why: who},
    {destination: '/dev/shm', mode: 'rw', why: `${who} (the pod's shared /dev/shm)`},
    ...(hostNetwork ? [] : [{destination: '/sys', mode: 'ro' as const, why: who}]),
    {destination: '/etc/hosts', mode: 'rw', why: `${who}'s hosts file`},
    {destination: '/etc/hostname', mode: 'rw', why: `${who}'s hostname file`},
    {destination: '/etc/resolv.conf', mode: 'rw', why: `${who}'s resolv.conf`},
  ]
}

/** containerd config.toml: `restrict_oom_score_adj = true` in the CRI plugin section. */
export function containerdRestrictsOomScoreAdj(configToml: string): boolean {
  return /^\s*restrict_oom_score_adj\s*=\s*true\b/m.test(configToml)
}

/** The kubelet's `--seccomp-default` flag or `seccompDefault: true` in its config file. */
export function kubeletSeccompDefault(argv: string[], configYaml: string | undefined): boolean | undefined {
  for (const arg of argv) {
    if (arg === '--seccomp-default' || arg === '--seccomp-default=true') return true
    if (arg === '--seccomp-default=false') return false
  }
  const m = configYaml && /^seccompDefault:\s*(true|false)\s*$/m.exec(configYaml)
  return m ? m[1] === 'true' : undefined
}
