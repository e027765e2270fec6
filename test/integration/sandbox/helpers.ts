// Shared by the sandbox integration tests: the built CLI, unique names, and a picture of the
// host parts a sandbox touches, to compare before and after.

import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {execa, execaSync} from 'execa'
import {afterAll} from 'vitest'
import {IPAM_ROOT, hostVethName} from '../../../src/sandbox/service.js'
import {tempFolder} from '../../helpers/temp-folder.js'

export const ROOT = resolve(__dirname, '../../..')
export const IS_ROOT = process.getuid?.() === 0

/** The CLI must be built: integration tests run the real binary (and the shim it starts). */
export function ensureBuilt(): void {
  if (!existsSync(join(ROOT, 'dist/src/write/sandbox-shim.js')) || !existsSync(join(ROOT, 'dist/commands/sandbox/create.js'))) {
    execaSync('npx', ['tsc', '-p', '.'], {cwd: ROOT, reject: false})
  }
}

/**
 * The tsc output, not the esbuild bundle: other suites rebuild the bundle while these run, and a
 * half-written bundle is not what is under test here.
 */
export const CLI_ENV = {NO_COLOR: '1', NODEDOC_BUNDLE: '0'}

export function cli(args: string[], options: {env?: Record<string, string>; timeout?: number} = {}) {
  return execa(process.execPath, [join(ROOT, 'bin/run.js'), ...args], {cwd: ROOT, reject: false, env: {...CLI_ENV, ...options.env}, timeout: options.timeout ?? 60_000})
}

export const suffix = () => randomBytes(3).toString('hex')

/** A /24 no real cluster uses, different per test file so parallel runs cannot meet. */
export function testCidr(): string {
  return `10.250.${100 + Math.floor(Math.random() * 150)}.0/24`
}

const manifestDirs: string[] = []
// each test file that writes manifests removes them when it ends
afterAll(() => {
  for (const dir of manifestDirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

/** Writes a Pod manifest to a temp file (removed when the test file ends). */
export function manifestFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nd-sbx-'))
  manifestDirs.push(dir)
  const file = join(dir, 'pod.yaml')
  writeFileSync(file, yaml)
  return file
}

/** A Pod manifest named while tests are collected: written before the suite's tests, removed after them (tempFolder). */
export function suiteManifestFile(yaml: string): string {
  return join(tempFolder('nd-sbx-', (dir) => writeFileSync(join(dir, 'pod.yaml'), yaml)), 'pod.yaml')
}

export function podYaml(name: string, namespace: string, containers: string, extra = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n${extra}  containers:\n${containers}`
}

const CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids']

function tree(dir: string, out: string[] = []): string[] {
  let entries
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch {
    return out
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue
    out.push(join(dir, e.name))
    tree(join(dir, e.name), out)
  }
  return out
}

/**
 * Pod UIDs for one test run: the first 8 hex digits are the run's, so everything a run makes
 * (cgroups, veth names, marked processes, kubelet dirs) can be told from what another run of the
 * same suite, started at the same moment by someone else, makes.
 */
export class RunIds {
  readonly prefix = randomBytes(4).toString('hex')
  private next = 0
  uid(): string {
    return `${this.prefix}-0000-4000-8000-${(this.next++).toString(16).padStart(12, '0')}`
  }
  /** every veth name a UID of this run can get */
  veths(): Set<string> {
    return new Set([...Array(Math.max(this.next, 1)).keys()].map((i) => hostVethName(`${this.prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`)))
  }
}

/**
 * What a sandbox may touch on the host, as text, limited to what this run's sandboxes could
 * have made (other suites, and other runs of this one, share the kernel): mounts under our
 * state dirs, cgroup dirs of our pod UIDs (cgroupfs and systemd names), our veths, processes
 * marked with our UIDs, our log namespace, state dirs, kubelet pod dirs, named netns with our
 * names; the iptables rules are taken whole.
 */
export function hostPicture(namespace: string, names: string[], run: RunIds): Record<string, string> {
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => names.some((n) => l.includes(`/run/nodedoc/sandboxes/${n}`))).join('\n')
  const cgroups = CONTROLLERS.flatMap((c) => [...tree(`/sys/fs/cgroup/${c}/kubepods`), ...tree(`/sys/fs/cgroup/${c}/kubepods.slice`)])
    .filter((d) => d.includes(`pod${run.prefix}`)).sort().join('\n')
  const veths = run.veths()
  const links = String(execaSync('ip', ['-o', 'link', 'show'], {reject: false}).stdout).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]).filter((n) => n && veths.has(n)).sort().join('\n')
  const netns = String(execaSync('ip', ['netns', 'list'], {reject: false}).stdout).split('\n').filter((l) => names.some((n) => l.includes(n)) || l.includes(namespace)).join('\n')
  const iptables = String(execaSync('iptables-save', [], {reject: false}).stdout).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n')
  const logs = (existsSync('/var/log/pods') ? readdirSync('/var/log/pods') : []).filter((d) => d.startsWith(`${namespace}_`)).join('\n')
  const logLinks = (existsSync('/var/log/containers') ? readdirSync('/var/log/containers') : []).filter((d) => d.includes(`_${namespace}_`)).join('\n')
  const state = (existsSync('/run/nodedoc/sandboxes') ? readdirSync('/run/nodedoc/sandboxes') : []).filter((d) => names.some((n) => d.startsWith(n))).join('\n')
  const kubelet = (existsSync('/var/lib/kubelet/pods') ? readdirSync('/var/lib/kubelet/pods') : []).filter((uid) => uid.startsWith(run.prefix)).join('\n')
  const marked = markedProcesses(run.prefix).join(' ')
  // a pod's hostname set through a pause not yet in its own UTS namespace lands on the host
  const hostname = readFileSync('/proc/sys/kernel/hostname', 'utf8')
  return {mountinfo, cgroups, links, netns, iptables, logs, logLinks, state, kubelet, marked, hostname}
}

/** Processes still carrying a sandbox mark (pause, shim) of a pod UID starting with prefix. */
export function markedProcesses(prefix: string): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`NODEDOC_SANDBOX_UID=${prefix}-`)) out.push(pid)
    } catch {}
  }
  return out
}

/** The folders nodedoc makes on this machine for every sandbox, whatever its state root: the IP leases of a range and their parents. */
export function machineFolders(cidr: string): string[] {
  return [`${IPAM_ROOT}/${cidr.replace('/', '_')}`, IPAM_ROOT, dirname(IPAM_ROOT)]
}

/**
 * Of paths, the folders that exist and stay empty for forMs: left behind. Another suite's
 * sandbox may pass through the same folders meanwhile, but a create fills a folder it makes at
 * once and the last remove takes an emptied one at once; only a leak stays empty.
 */
export async function leftEmpty(paths: string[], forMs = 2000): Promise<string[]> {
  const empty = (p: string) => {
    try {
      return readdirSync(p).length === 0
    } catch {
      return false
    }
  }
  let left = paths.filter(empty)
  const end = Date.now() + forMs
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100))
    left = left.filter(empty)
  }
  return left
}
