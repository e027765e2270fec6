// Network namespaces a test makes for itself, and a Host that runs programs inside one.
import {randomBytes} from 'node:crypto'
import {execa} from 'execa'
import {type FileStat, type Host, type RunOptions, type RunResult, Warnings} from '../../../src/host/host.js'

export const IS_ROOT = process.getuid?.() === 0

export async function run(argv: string[], input?: string): Promise<RunResult> {
  const r = await execa(argv[0], argv.slice(1), {reject: false, input, stdin: input === undefined ? 'ignore' : undefined, env: {LC_ALL: 'C'}, timeout: 60_000})
  return {stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? 1}
}

export async function must(argv: string[], input?: string): Promise<string> {
  const r = await run(argv, input)
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (${r.exitCode}): ${r.stderr.trim()}`)
  return r.stdout
}

export async function have(program: string): Promise<boolean> {
  return (await run(['sh', '-c', `command -v ${program}`])).exitCode === 0
}

/** nd-svc-<random>-<role>: unique per test run, so tests running at once cannot collide. */
export function netnsName(role: string, tag = randomBytes(3).toString('hex')): string {
  return `nd-svc-${tag}-${role}`
}

export class Netns {
  private constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await must(['ip', 'netns', 'add', name])
    const ns = new Netns(name)
    await ns.must(['ip', 'link', 'set', 'lo', 'up'])
    return ns
  }

  exec(argv: string[], input?: string): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.name, ...argv], input)
  }

  must(argv: string[], input?: string): Promise<string> {
    return must(['ip', 'netns', 'exec', this.name, ...argv], input)
  }

  async delete(): Promise<void> {
    // programs still inside would keep nothing alive, but would linger: tests stop theirs first
    await run(['ip', 'netns', 'del', this.name])
  }
}

/** A Host whose programs run inside a netns (files are not read through it). */
export class NetnsHost implements Host {
  readonly warnings = new Warnings()
  readonly description: string
  constructor(private readonly ns: Netns) {
    this.description = `netns ${ns.name}`
  }
  async readFile(_path: string): Promise<string | undefined> {
    return undefined
  }
  async readDir() {
    return undefined
  }
  async readLink() {
    return undefined
  }
  async stat(_path: string): Promise<FileStat | undefined> {
    return undefined
  }
  async run(argv: string[], options?: RunOptions): Promise<RunResult | undefined> {
    if (!(await have(argv[0]))) return undefined
    return this.ns.exec(argv, options?.input)
  }
}

/**
 * kube-proxy adds its hooks into the built-in chains with `iptables -A`, outside the restore
 * input: the same jumps, for a dump loaded into an empty namespace.
 */
export const KUBE_PROXY_HOOKS: Array<[string, string, string[]]> = [
  ['nat', 'PREROUTING', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'OUTPUT', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING']],
  ['filter', 'INPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'KUBE-PROXY-FIREWALL']],
  ['filter', 'INPUT', ['-m', 'comment', '--comment', 'kubernetes health check service ports', '-j', 'KUBE-NODEPORTS']],
  ['filter', 'INPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'KUBE-EXTERNAL-SERVICES']],
  ['filter', 'INPUT', ['-j', 'KUBE-FIREWALL']],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'KUBE-PROXY-FIREWALL']],
  ['filter', 'FORWARD', ['-m', 'comment', '--comment', 'kubernetes forwarding rules', '-j', 'KUBE-FORWARD']],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'KUBE-SERVICES']],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'KUBE-EXTERNAL-SERVICES']],
  ['filter', 'OUTPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'KUBE-PROXY-FIREWALL']],
  ['filter', 'OUTPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-j', 'KUBE-SERVICES']],
  ['filter', 'OUTPUT', ['-j', 'KUBE-FIREWALL']],
]
