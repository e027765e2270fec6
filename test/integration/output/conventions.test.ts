// The habits kubectl and crictl users bring, checked on the bundled example snapshot (a real
// containerd node): every default table fits 80 columns, -o name/jsonpath/custom-columns agree
// with -o json, every command's JSON is its documented kind and validates against the JSON
// Schema in docs/schema/, -h is help, and the exit codes follow one policy.
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {Ajv} from 'ajv'
import {describe, expect, it} from 'vitest'
import {REPO, nodedoc} from '../ship/helpers.js'

const EXAMPLE = join(REPO, 'examples', 'containerd-node')
const from = ['--from', EXAMPLE]
const ajv = new Ajv({allErrors: true})
const schemas = Object.fromEntries(readdirSync(join(REPO, 'docs', 'schema')).map((f) => [f.replace('.schema.json', ''), ajv.compile(JSON.parse(readFileSync(join(REPO, 'docs', 'schema', f), 'utf8')))]))

/** Every command that prints records, as run on the example, with the kind its JSON must have. */
const COMMANDS: Array<[string[], string]> = [
  [['pod', 'core-k8s'], 'Pod'],
  [['pod', 'core-k8s-duo'], 'Pod'],
  [['pod', 'core-k8s-hostnet'], 'Pod'],
  [['pods'], 'PodList'],
  [['containers'], 'ContainerList'],
  [['ps'], 'ProcessList'],
  [['ps', '-A'], 'ProcessList'],
  [['net'], 'NodeNetwork'],
  [['doctor'], 'CheckList'],
  [['svc', '-A'], 'ServiceList'],
  [['logs', 'core-k8s-duo', '-c', 'writer'], 'Log'],
  [['top'], 'PodUsage'],
  [['top', 'containers'], 'PodUsage'],
  [['events'], 'EventList'],
]

// what fs, sockets, conntrack and enter print is read inside live pods: their documents are
// checked against these schemas on the test node (test/e2e/inside.test.ts)
const INSIDE_KINDS = ['FileList', 'FileContentList', 'SocketList', 'ConntrackEntryList', 'EnteredNamespaceList']

const run = async (args: string[]) => {
  const result = await nodedoc([...args, ...from], {NO_COLOR: '1'})
  expect([0, 1], `${args.join(' ')}: ${result.stderr}`).toContain(result.exitCode)
  return result
}

describe('default tables', () => {
  it.each(COMMANDS)('%j fits 80 columns, and -o wide shows what was shortened', async (args) => {
    const table = await run(args)
    const widest = Math.max(...table.stdout.split('\n').map((l) => l.length))
    expect(widest, table.stdout).toBeLessThanOrEqual(80)
    const wide = await run([...args, '-o', 'wide'])
    expect(wide.stdout.replace(/\s+/g, ' ').length).toBeGreaterThanOrEqual(table.stdout.replace(/\s+/g, ' ').length)
  })

  it('pod shows full IDs and paths in -o wide that the default table shortens', async () => {
    const table = (await run(['pod', 'core-k8s'])).stdout
    const wide = (await run(['pod', 'core-k8s', '-o', 'wide'])).stdout
    expect(table).toContain('...')
    expect(wide).toContain('/var/lib/kubelet/pods/7602b87f-68c7-4381-ab8f-1b817748861f/etc-hosts')
  })
})

describe('one JSON contract', () => {
  it.each(COMMANDS)('%j is a %s document that validates against its schema', async (args, kind) => {
    const document = JSON.parse((await run([...args, '-o', 'json'])).stdout)
    expect(document).toMatchObject({apiVersion: 'nodedoc/v1', kind, node: 'vm'})
    const meta = JSON.parse(readFileSync(join(EXAMPLE, 'meta.json'), 'utf8'))
    expect(document.capturedAt).toBe(meta.capturedAt)
    const validate = schemas[kind]
    expect(validate, `docs/schema/${kind}.schema.json`).toBeDefined()
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true)
  })

  it('every schema in docs/schema belongs to a command here, and the schemas do reject a wrong document', () => {
    const kinds = new Set(COMMANDS.map(([, kind]) => kind))
    for (const kind of Object.keys(schemas)) if (!['Comparison', 'ClusterReport', 'SandboxList', 'Sandbox', 'ServiceProbe', 'Trace', ...INSIDE_KINDS].includes(kind)) expect(kinds, kind).toContain(kind)
    expect(schemas.ProcessList({apiVersion: 'nodedoc/v1', kind: 'ProcessList', node: null, capturedAt: '2026-01-01T00:00:00Z', items: [{pid: 'x'}]})).toBe(false)
    expect(schemas.Pod([])).toBe(false)
  })
})

describe('kubectl output formats agree with -o json', () => {
  it('jsonpath prints the values -o json holds', async () => {
    const json = JSON.parse((await run(['pods', '-o', 'json'])).stdout)
    // the runner drops the output's last newline
    const expected = json.items.map((p: {name: string; ip: string | null}) => `${p.name}\t${p.ip ?? ''}\n`).join('').replace(/\n$/, '')
    expect((await run(['pods', '-o', 'jsonpath={range .items[*]}{.name}{"\\t"}{.ip}{"\\n"}{end}'])).stdout).toBe(expected)
    const pids = JSON.parse((await run(['ps', '-o', 'json'])).stdout).items.map((p: {pid: number}) => p.pid)
    expect((await run(['ps', '-o', 'jsonpath={.items[*].pid}'])).stdout).toBe(pids.join(' '))
    const pod = JSON.parse((await run(['pod', 'core-k8s', '-o', 'json'])).stdout)
    expect((await run(['pod', 'core-k8s', '-o', 'jsonpath={.uid} {.containers[0].id}'])).stdout).toBe(`${pod.uid} ${pod.containers[0].id}`)
  })

  it('-o name, custom-columns, --no-headers and --sort-by', async () => {
    const json = JSON.parse((await run(['ps', '-A', '-o', 'json'])).stdout)
    expect((await run(['ps', '-A', '-o', 'name'])).stdout).toBe(json.items.map((p: {pid: number}) => `process/${p.pid}`).join('\n'))
    const byPid = [...json.items].sort((a: {pid: number}, b: {pid: number}) => b.pid - a.pid)
    const custom = (await run(['ps', '-A', '-o', 'custom-columns=PID:.pid,CMD:.command', '--sort-by', '.pid', '--no-headers'])).stdout.trim().split('\n')
    expect(custom.map((l) => Number(l.split(/\s+/)[0]))).toEqual(byPid.map((p: {pid: number}) => p.pid).reverse())
    const pods = (await run(['pods', '-o', 'name'])).stdout.trim().split('\n')
    expect(pods).toContain('pod/default/core-k8s')
    const noHeaders = (await run(['pods', '--no-headers'])).stdout
    expect(noHeaders).not.toMatch(/^NAMESPACE/m)
    expect(noHeaders.trim().split('\n')).toHaveLength(pods.length)
  })
})

describe('flags and exit codes', () => {
  it('-h is help on every command', async () => {
    const {COMMANDS: ids} = await import(join(REPO, 'dist', 'commands', 'index.js'))
    for (const id of Object.keys(ids).filter((i) => !ids[i].hidden && !i.startsWith('sandbox'))) {
      const help = await nodedoc([...id.split(':'), '-h'], {NO_COLOR: '1'})
      expect(help.exitCode, `${id}: ${help.stderr}`).toBe(0)
      expect(help.stdout, id).toMatch(/^USAGE$/m)
    }
  })

  it('exits 0 answered, 1 something wrong (not found), 2 usage, 3 the node cannot be read', async () => {
    expect((await nodedoc(['pod', 'core-k8s', ...from])).exitCode).toBe(0)
    expect((await nodedoc(['pod', 'no-such-pod', ...from])).exitCode).toBe(1)
    expect((await nodedoc(['pod', 'core-k8s', '--bogus', ...from])).exitCode).toBe(2)
    expect((await nodedoc(['pod', 'core-k8s', '-o', 'jsonpath={range .x}', ...from])).exitCode).toBe(2)
    expect((await nodedoc(['pod', 'core-k8s', '--from', join(REPO, 'no-such-snapshot')])).exitCode).toBe(3)
  })

  it('ps -e is ps -A, and logs searches every namespace and counts --since from the snapshot', async () => {
    expect((await run(['ps', '-e', '-o', 'name'])).stdout).toBe((await run(['ps', '-A', '-o', 'name'])).stdout)
    // core-k8s-hostnet lives in kube-system: found without -n, as pod finds it
    expect((await nodedoc(['logs', 'core-k8s-hostnet', ...from])).exitCode).toBe(0)
    // the snapshot was taken days ago: --since counts back from its time, not from now
    const since = (await run(['logs', 'core-k8s-duo', '-c', 'writer', '--since', '1h'])).stdout
    expect(since).toMatch(/^tick 1$/m)
  })
})
