// The launcher's direct path (src/cli/direct.ts): `pod NAME` started without oclif must answer
// exactly as oclif's start does, byte for byte and with the same exit code, for every argv it
// takes, and hand every other argv to oclif untouched. Each argv runs both ways through
// bin/run.js (NODEDOC_DIRECT=0 is oclif's start), and the bundle files each run read show
// which path it took.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {EMPTY_ROOT, directRuns, exampleSnapshots} from './helpers.js'

const snapshot = exampleSnapshots().find((s) => s.endsWith('containerd-node'))
const {run, withRoot, dir: folder, emptyRoot: emptyFolder} = directRuns('nodedoc-direct-')

const S = snapshot ?? ''
const UID = '7602b87f-68c7-4381-ab8f-1b817748861f'
const ROOT = EMPTY_ROOT

/** argv the direct path takes (answers and errors alike), with the environment of the run. */
const TAKEN: Array<[string[], Record<string, string>?]> = [
  [['pod', 'core-k8s', '--from', S]],
  [['pod', 'core-k8s', '-n', 'default', '--from', S]],
  [['pod', '--from', S, 'core-k8s', '--namespace=default']],
  [['pod', 'core-k8s', `--from=${S}`, '-o', 'wide']],
  [['pod', 'core-k8s', '--from', S, '-o', 'json']],
  [['pod', 'core-k8s', '--from', S, '--output', 'yaml']],
  [['pod', 'core-k8s', '--from', S, '-o', 'name']],
  [['pod', 'core-k8s', '--from', S, '-o', 'jsonpath={.name} {.containers[*].name}']],
  [['pod', 'core-k8s', '--from', S, '-o', 'custom-columns=NAME:.name,UID:.uid', '--no-headers']],
  [['pod', 'core-k8s', '--from', S, '-o', 'custom-columns=C:.name', '--sort-by', '.name']],
  [['pod', '--uid', UID, '--from', S]],
  [['pod', 'core-k8s', '--from', S, '-r', 'unix:///nonexistent/cri.sock']],
  [['pod', 'core-k8s', '--from', S], {CONTAINER_RUNTIME_ENDPOINT: ''}],
  // refused by nodedoc, not by the flag parser: the same one line and exit code
  [['pod', 'core-k8s', '--from', S, '-o', 'bogus']],
  [['pod', 'core-k8s', '--from', S, '-o', 'jsonpath={range .x}']],
  [['pod', 'core-k8s', '--from', S, '-o', 'custom-columns=NAME']],
  [['pod', 'no-such-pod', '--from', S]],
  [['pod', 'core-k8s', '-n', 'elsewhere', '--from', S]],
  [['pod', '--from', S]],
  [['pod', 'core-k8s', '--from', '/nonexistent-snapshot']],
  [['pod', 'core-k8s', '--host-root', ROOT]],
  [['pod', 'core-k8s'], {NODEDOC_HOST_ROOT: ROOT}],
]

/** argv only oclif takes: help, and every form of flag whose reading the direct path leaves to oclif. */
const LEFT: Array<[string[], Record<string, string>?]> = [
  [['pod', '--help']],
  [['pod', 'core-k8s', '-h']],
  [['pod', 'core-k8s', '--from', S, '--nope']],
  [['pod', 'core-k8s', 'extra', '--from', S]],
  [['pod', 'core-k8s', '-n', 'default', '-n', 'default', '--from', S]],
  [['pod', 'core-k8s', '--from', S, '-o']],
  [['pod', 'core-k8s', '--from', S, '-r', 'tcp://10.0.0.1:10010']],
  [['pod', 'core-k8s', '--from', S], {CONTAINER_RUNTIME_ENDPOINT: 'tcp://10.0.0.1:10010'}],
  [['pod', 'core-k8s', '--from', S, '--', '-n']],
  [['pod', 'core-k8s', '-ndefault', '--from', S]],
  [['pod', 'core-k8s', '--no-headers=true', '--from', S]],
  [['pod', 'core-k8s', '--namespace=', '--from', S]],
  [['pod', '-n', '-x', '--from', S]],
  [['pod', '-', '--from', S]],
  [['pod', 'core-k8s', '--from', S, '--version']],
  [['pod', 'no-such-pod', '--from', S], {NODEDOC_DEBUG: '1'}],
]

describe.skipIf(!snapshot)('pod through the direct path', () => {
  it.each(TAKEN)('%j answers as oclif does, without loading oclif', (rawArgs, rawEnv) => {
    const {args, env} = withRoot(rawArgs, rawEnv)
    const direct = run(args, env)
    const oclif = run(args, {...env, NODEDOC_DIRECT: '0'})
    expect(oclif.files).toContain('nodedoc/pod.cjs')
    expect({stdout: direct.stdout, stderr: direct.stderr, status: direct.status}).toEqual({stdout: oclif.stdout, stderr: oclif.stderr, status: oclif.status})
    expect(direct.files.filter((f) => !f.startsWith('nodedoc/vendor-'))).toEqual(['nodedoc/direct.cjs'])
  })

  it.each(LEFT)('%j is left to oclif', (rawArgs, rawEnv) => {
    const {args, env} = withRoot(rawArgs, rawEnv)
    const direct = run(args, env)
    const oclif = run(args, {...env, NODEDOC_DIRECT: '0'})
    expect({stdout: direct.stdout, stderr: direct.stderr, status: direct.status}).toEqual({stdout: oclif.stdout, stderr: oclif.stderr, status: oclif.status})
    expect(direct.files).toContain('nodedoc.cjs')
    // help never even reads the direct path's file
    if (args.includes('--help') || args.includes('-h')) expect(direct.files).toEqual(['nodedoc.cjs'])
  })

  it('answers and fails at all in these runs (the comparisons above are not of two empty outputs)', () => {
    const found = run(['pod', 'core-k8s', '--from', S], {})
    expect(found.status).toBe(0)
    expect(found.stdout).toMatch(/^Pod:\s+default\/core-k8s$/m)
    const missing = run(['pod', 'no-such-pod', '--from', S], {})
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(/^error: /)
    const usage = run(['pod', 'core-k8s', '--from', S, '--nope'], {})
    expect(usage.status).toBe(2)
    expect(usage.stderr).toBe('error: Nonexistent flag: --nope (see --help)\n')
  })
})

/** A pod manifest, a broken one, and the sandbox create argv both paths are run with (nothing here makes a sandbox: --dry-run, or refused before anything is made). */
function sandboxCases() {
  const pod = join(folder(), 'pod.yaml')
  writeFileSync(pod, 'apiVersion: v1\nkind: Pod\nmetadata: {name: direct-check, namespace: default}\nspec:\n  containers:\n  - {name: main, image: busybox, command: [sleep, "10"]}\n')
  const broken = join(folder(), 'broken.yaml')
  writeFileSync(broken, 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: 7\n')
  return {pod, broken}
}
const SANDBOX_UID = '6f0f2a8e-3c1b-4a57-9d5e-0e7d6c2b1a90'
/** IDs a create draws at random (sandbox and container IDs) read alike in both runs. */
const sameIds = (text: string) => text.replace(/[0-9a-f]{64}/g, '<id>')

const SANDBOX_TAKEN: Array<(f: {pod: string; broken: string}) => string[]> = [
  ({pod}) => ['sandbox', 'create', '-f', pod, '--dry-run', '--uid', SANDBOX_UID],
  ({pod}) => ['sandbox', 'create', '--filename', pod, '--dry-run', '--uid', SANDBOX_UID, '--isolation', 'unshare', '--name', 'other', '--pod-cidr', '10.250.9.0/24', '--pod-pids-limit', '8'],
  ({pod}) => ['sandbox', 'create', `--filename=${pod}`, '--dry-run', '--uid', SANDBOX_UID, '--cgroup-driver=systemd', '--rootfs', 'host'],
  () => ['sandbox', 'create', '-f', '/nonexistent/pod.yaml'],
  ({broken}) => ['sandbox', 'create', '-f', broken, '--dry-run'],
  ({pod}) => ['sandbox', 'create', '-f', pod, '--dry-run', '--name', 'Not_A_Name'],
  ({pod}) => ['sandbox', 'create', '-f', pod, '--dry-run', '--uid', 'not-a-uid'],
  ({pod}) => ['sandbox', 'create', '-f', pod, '--dry-run', '--rootfs', '/nonexistent-image'],
]
const SANDBOX_LEFT: Array<(f: {pod: string; broken: string}) => string[]> = [
  () => ['sandbox', 'create', '--help'],
  () => ['sandbox', 'create'],
  ({pod}) => ['sandbox', 'create', '-f', pod, '--dry-run', '--nope'],
  ({pod}) => ['sandbox', 'create', '-f', pod, '--dry-run', '--isolation', 'vm'],
  ({pod}) => ['sandbox', 'create', '-f', pod, '--dry-run', '--pod-pids-limit', '0'],
  ({pod}) => ['sandbox', 'create', '-f', pod, '-f', pod, '--dry-run'],
  ({pod}) => ['sandbox', 'create', '-f', pod, 'extra', '--dry-run'],
]

describe('sandbox create through the direct path', () => {
  it.each(SANDBOX_TAKEN.map((c, i) => [i, c] as const))('case %d answers as oclif does, without loading oclif', (_, make) => {
    const args = make(sandboxCases())
    const direct = run(args, {})
    const oclif = run(args, {NODEDOC_DIRECT: '0'})
    expect(oclif.files).toContain('nodedoc/sandbox-create.cjs')
    expect({stdout: sameIds(direct.stdout), stderr: sameIds(direct.stderr), status: direct.status}).toEqual({stdout: sameIds(oclif.stdout), stderr: sameIds(oclif.stderr), status: oclif.status})
    expect(direct.files.filter((f) => !f.startsWith('nodedoc/vendor-'))).toEqual(['nodedoc/direct-sandbox.cjs'])
  })

  it.each(SANDBOX_LEFT.map((c, i) => [i, c] as const))('case %d is left to oclif', (_, make) => {
    const args = make(sandboxCases())
    const direct = run(args, {})
    const oclif = run(args, {NODEDOC_DIRECT: '0'})
    expect({stdout: direct.stdout, stderr: direct.stderr, status: direct.status}).toEqual({stdout: oclif.stdout, stderr: oclif.stderr, status: oclif.status})
    expect(direct.files).toContain('nodedoc.cjs')
  })

  it('plans and fails at all in these runs (the comparisons above are not of two empty outputs)', () => {
    const {pod} = sandboxCases()
    const planned = run(['sandbox', 'create', '-f', pod, '--dry-run', '--uid', SANDBOX_UID], {})
    expect(planned.status).toBe(0)
    expect(planned.stderr).toMatch(/^\[1\] state\.dir /m)
    const missing = run(['sandbox', 'create', '-f', '/nonexistent/pod.yaml'], {})
    expect(missing.status).toBe(1)
    expect(missing.stderr).toBe('error: /nonexistent/pod.yaml: cannot read the manifest\n')
  })
})

/** kube-proxy's rules for 30 services in iptables-restore form, and a service of them with endpoints. */
async function svcCases() {
  // @ts-expect-error plain JS generator shared with the benchmarks
  const {kubeProxyRestore, syntheticServices} = await import('../../../bench/svc-gen.mjs')
  const services = syntheticServices(30) as Array<{namespace: string; name: string; clusterIP: string; port: number; endpoints: unknown[]}>
  const target = services.find((s) => s.endpoints.length > 1)!
  const rules = join(folder(), 'rules.save')
  writeFileSync(rules, '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true}))
  return {rules, name: `${target.namespace}/${target.name}`, short: target.name, namespace: target.namespace, ip: target.clusterIP}
}
type SvcCase = Awaited<ReturnType<typeof svcCases>>
/** The moment a JSON or YAML answer was read reads alike in both runs. */
const sameTime = (text: string) => text.replace(/("?capturedAt"?: "?)[^"\n]*/g, '$1<time>')

/** svc argv the direct path takes (answers and errors alike); rules from a file, so nothing here lists the machine's rules. */
const SVC_TAKEN: Array<(c: SvcCase) => string[]> = [
  ({name, rules}) => ['svc', name, '--iptables-save', rules],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '-o', 'json'],
  ({short, namespace, rules}) => ['svc', short, '-n', namespace, `--iptables-save=${rules}`, '-o', 'wide'],
  ({short, namespace, rules}) => ['svc', '--namespace', namespace, short, '--iptables-save', rules, '-o', 'yaml', '--iptables-backend', 'nft'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--graph', 'dot'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--graph=mermaid', '--protocol', 'tcp'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '-o', 'custom-columns=S:.service', '--no-headers'],
  ({rules}) => ['svc', '-A', '--iptables-save', rules],
  ({rules}) => ['svc', '--all-namespaces', '--iptables-save', rules, '-o', 'json', '--sort-by', '.service'],
  ({ip, rules}) => ['svc', '--ip', ip, '--iptables-save', rules],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--host-root', '/'],
  // refused by nodedoc, not by the flag parser: the same one line and exit code
  ({rules}) => ['svc', 'no-such-service', '--iptables-save', rules],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--port', 'no-such-port'],
  ({rules}) => ['svc', '--iptables-save', rules],
  ({name}) => ['svc', name, '--iptables-save', '/nonexistent/rules.save'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '-o', 'bogus'],
  ({name, rules}) => ['svc', name, '--nft', rules],
]

/** svc argv only oclif takes. */
const SVC_LEFT: Array<(c: SvcCase) => string[]> = [
  () => ['svc', '--help'],
  ({name}) => ['svc', name, '-h'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--count', '3'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--protocol', 'TCP'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--graph', 'svg'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--iptables-backend', 'iptables'],
  ({name, rules}) => ['svc', name, '-n', 'a', '-n', 'a', '--iptables-save', rules],
  ({name, rules}) => ['svc', name, 'extra', '--iptables-save', rules],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--host-root', emptyFolder()],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--from', S],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--no-headers=true'],
  ({name, rules}) => ['svc', name, '--iptables-save', rules, '--', '-A'],
]

describe('svc through the direct path', () => {
  it.each(SVC_TAKEN.map((c, i) => [i, c] as const))('case %d answers as oclif does, without loading oclif', async (_, make) => {
    const args = make(await svcCases())
    const direct = run(args, {})
    const oclif = run(args, {NODEDOC_DIRECT: '0'})
    expect(oclif.files).toContain('nodedoc/svc.cjs')
    expect({stdout: sameTime(direct.stdout), stderr: direct.stderr, status: direct.status}).toEqual({stdout: sameTime(oclif.stdout), stderr: oclif.stderr, status: oclif.status})
    // the launcher reads svc-early.cjs for every svc run (it starts a live run's listings)
    expect(direct.files.filter((f) => !f.startsWith('nodedoc/vendor-'))).toEqual(['nodedoc/direct-svc.cjs', 'nodedoc/svc-early.cjs'])
  })

  it.each(SVC_LEFT.map((c, i) => [i, c] as const))('case %d is left to oclif', async (_, make) => {
    const args = make(await svcCases())
    const direct = run(args, {})
    const oclif = run(args, {NODEDOC_DIRECT: '0'})
    expect({stdout: direct.stdout, stderr: direct.stderr, status: direct.status}).toEqual({stdout: oclif.stdout, stderr: oclif.stderr, status: oclif.status})
    expect(direct.files).toContain('nodedoc.cjs')
    if (args.includes('--help') || args.includes('-h')) expect(direct.files.filter((f) => f !== 'nodedoc/svc-early.cjs')).toEqual(['nodedoc.cjs'])
  })

  it('answers and fails at all in these runs (the comparisons above are not of two empty outputs)', async () => {
    const c = await svcCases()
    const found = run(['svc', c.name, '--iptables-save', c.rules], {})
    expect(found.status).toBe(0)
    expect(found.stdout).toContain(c.name)
    const missing = run(['svc', 'no-such-service', '--iptables-save', c.rules], {})
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(/^error: service no-such-service not found/)
    const usage = run(['svc', c.name, '--iptables-save', c.rules, '--protocol', 'TCP'], {})
    expect(usage.status).toBe(2)
  })
})
