// `nodedoc report` on what three "nodes" printed: each node is a real snapshot of this machine
// whose kube-proxy rules are swapped for that node's, read back with `svc -A` and `ps` (and
// `doctor` once it exists), the way the DaemonSet in deploy/ collects them.
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO, nodedoc} from './helpers.js'

/** kube-proxy's nat and filter rules for kube-dns:dns-tcp with these endpoints (REJECT with none). */
function kubeProxyRules(endpoints: string[]): string {
  const svc = 'KUBE-SVC-ERIFXISQEP7F7OF4'
  const sep = (i: number) => `KUBE-SEP-NODEDOCTEST${String(i).padStart(4, '0')}`
  const nat = ['*nat', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-POSTROUTING - [0:0]']
  if (endpoints.length) nat.push(`:${svc} - [0:0]`, ...endpoints.map((_, i) => `:${sep(i)} - [0:0]`))
  nat.push(
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
  )
  if (endpoints.length) {
    nat.push(`-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j ${svc}`)
    endpoints.forEach((ep, i) => {
      const left = endpoints.length - i
      const split = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : ''
      nat.push(`-A ${svc} -m comment --comment "kube-system/kube-dns:dns-tcp -> ${ep}:53"${split} -j ${sep(i)}`)
    })
    endpoints.forEach((ep, i) => nat.push(
      `-A ${sep(i)} -s ${ep}/32 -m comment --comment "kube-system/kube-dns:dns-tcp" -j KUBE-MARK-MASQ`,
      `-A ${sep(i)} -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp" -m tcp -j DNAT --to-destination ${ep}:53`,
    ))
  }
  const filter = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]']
  for (const chain of ['INPUT', 'FORWARD', 'OUTPUT']) filter.push(`-A ${chain} -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`)
  if (!endpoints.length) filter.push('-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp has no endpoints" -m tcp --dport 53 -j REJECT --reject-with icmp-port-unreachable')
  return [...nat, 'COMMIT', ...filter, 'COMMIT', ''].join('\n')
}

const NODES: Record<string, string[]> = {
  'node-a': ['10.244.1.5', '10.244.2.7'],
  'node-b': ['10.244.1.5', '10.244.2.7'],
  'node-c': [],
}

let dir: string
let reports: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-report-'))
  reports = join(dir, 'reports')
  mkdirSync(reports)
  const base = join(dir, 'base')
  const taken = await nodedoc(['snapshot', '-o', base])
  expect(taken.exitCode, taken.stderr).toBe(0)
  const {COMMANDS} = await import(join(REPO, 'dist', 'commands', 'index.js'))
  for (const [node, endpoints] of Object.entries(NODES)) {
    const snap = join(dir, node)
    cpSync(base, snap, {recursive: true, verbatimSymlinks: true})
    const meta = JSON.parse(readFileSync(join(snap, 'meta.json'), 'utf8'))
    writeFileSync(join(snap, 'meta.json'), JSON.stringify({...meta, hostname: node}))
    // this node's kube-proxy rules, in the nft backend (the one with a hint chain wins)
    writeFileSync(join(snap, 'cmd', 'iptables-nft-save.out'), kubeProxyRules(endpoints).replace('*nat\n', '*nat\n:KUBE-IPTABLES-HINT - [0:0]\n'))
    for (const other of ['iptables-legacy-save', 'ip6tables-nft-save', 'ip6tables-legacy-save']) writeFileSync(join(snap, 'cmd', `${other}.out`), '')
    const runs: Array<[string, string[]]> = [['svc', ['svc', '-A']], ['ps', ['ps', '-A']]]
    if (COMMANDS.doctor) runs.push(['doctor', ['doctor']])
    for (const [name, args] of runs) {
      const result = await nodedoc([...args, '--from', snap, '-o', 'json'])
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBeLessThanOrEqual(1)
      writeFileSync(join(reports, `${node}.${name}.json`), result.stdout)
    }
  }
  writeFileSync(join(reports, 'notes.json'), JSON.stringify({hello: 'world'}))
}, 180_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('nodedoc report', () => {
  it('merges every node into one table and says which node cannot reach which endpoint', async () => {
    const result = await nodedoc(['report', reports])
    expect(result.exitCode, result.stderr).toBe(0)
    const table = result.stdout
    for (const node of Object.keys(NODES)) expect(table).toMatch(new RegExp(`^${node}\\s`, 'm'))
    expect(table).toMatch(/^kube-system\/kube-dns:dns-tcp\s+10\.244\.1\.5:53\s+2\s+node-c$/m)
    expect(table).toMatch(/^kube-system\/kube-dns:dns-tcp\s+10\.244\.2\.7:53\s+2\s+node-c$/m)
    expect(result.stderr).toMatch(/^warning: .*notes\.json: not doctor, svc, pod or ps JSON \(an object with keys hello\), skipped$/m)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('gives the same answer as JSON, with the reason per node', async () => {
    const result = await nodedoc(['report', reports, '-o', 'json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const merged = JSON.parse(result.stdout)
    expect(merged.nodes.map((n: {node: string}) => n.node)).toEqual(['node-a', 'node-b', 'node-c'])
    const endpoints = merged.endpoints.filter((e: {service: string}) => e.service === 'kube-system/kube-dns:dns-tcp')
    expect(endpoints.map((e: {endpoint: string; reachFrom: string[]}) => [e.endpoint, e.reachFrom])).toEqual([
      ['10.244.1.5:53', ['node-a', 'node-b']],
      ['10.244.2.7:53', ['node-a', 'node-b']],
    ])
    expect(endpoints[0].cannotReach['node-c']).toMatch(/REJECT/)
    const svc = merged.services.find((s: {service: string}) => s.service === 'kube-system/kube-dns:dns-tcp')
    expect(Object.keys(svc.problems)).toEqual(['node-c'])
    // doctor, once it exists: every node's checks are read, each check names every node once
    const {COMMANDS} = await import(join(REPO, 'dist', 'commands', 'index.js'))
    if (COMMANDS.doctor) {
      expect(merged.nodes.every((n: {checks: unknown}) => n.checks !== null)).toBe(true)
      expect(merged.checks.length).toBeGreaterThan(0)
      for (const c of merged.checks) expect([...c.fail, ...c.warn, ...c.pass, ...c.skip].sort()).toEqual(Object.keys(NODES))
    }
    // ps rows count the pods of each node: the same snapshot under every name
    const pods = new Set(merged.nodes.map((n: {pods: number | null}) => n.pods))
    expect(pods.size).toBe(1)
  })

  it('fails in one line on a path that does not exist, and when nothing is readable', async () => {
    const missing = await nodedoc(['report', join(dir, 'nope')])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr.trim()).toBe(`error: ${join(dir, 'nope')}: no such file or folder`)
    const junk = await nodedoc(['report', join(reports, 'notes.json')])
    expect(junk.exitCode).toBe(1)
    expect(junk.stderr).toMatch(/^error: no nodedoc JSON among the files given/m)
  })
})
