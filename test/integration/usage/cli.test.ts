// The `top` and `events` commands as a user runs them: --host-root on a node laid out in a
// folder (cgroup v2, systemd driver), -w streams, JSON lines and YAML documents, exit codes.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Ajv} from 'ajv'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import * as YAML from 'yaml'
import type {PodUsage, UsageEvent} from '../../../src/usage/types.js'

/** A `top` sample as printed: the envelope, then the report without its time (capturedAt). */
interface UsageDocument {apiVersion: string; kind: string; node: string | null; capturedAt: string; intervalSeconds: number | null; cgroupVersion: number | null; notes: string[]; items: PodUsage[]}
interface EventDocument {apiVersion: string; kind: string; node: string | null; capturedAt: string; items: UsageEvent[]}
import {REPO, nodedoc} from '../../e2e/node/cli.js'
import {tempFolder} from '../../helpers/temp-folder.js'
import {IDS, buildNode} from '../../helpers/usage-node.js'

const ajv = new Ajv({allErrors: true})
const schema = (kind: string) => ajv.compile(JSON.parse(readFileSync(join(REPO, 'docs', 'schema', `${kind}.schema.json`), 'utf8')))
const validUsage = schema('PodUsage')
const validEvents = schema('EventList')

const root = buildNode({version: 2, driver: 'systemd'})
const empty = tempFolder('nodedoc-empty-root-')

/** Runs a -w command until it has printed `until`, then Ctrl-C. */
async function watch(args: string[], until: (stdout: string) => boolean): Promise<{stdout: string; exitCode: number}> {
  const child = execa('node', [join(REPO, 'bin/run.js'), ...args], {reject: false, cwd: REPO, env: {NO_COLOR: '1'}, buffer: false})
  let stdout = ''
  await new Promise<void>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      if (until(stdout)) resolve()
    })
    setTimeout(resolve, 20_000)
  })
  child.kill('SIGINT')
  return {stdout, exitCode: (await child).exitCode ?? -1}
}

describe('nodedoc top / events under --host-root', () => {
  it('top reads the node in the folder: pods, containers, the kubelet\'s working set', async () => {
    const result = await nodedoc(['top', 'containers', '--host-root', root, '--interval', '100ms', '-o', 'json'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout.trim().split('\n'), 'one sample: one JSON line').toHaveLength(1)
    const report = JSON.parse(result.stdout) as UsageDocument
    expect(report).toMatchObject({apiVersion: 'nodedoc/v1', kind: 'PodUsage', cgroupVersion: 2, notes: []})
    expect(report.intervalSeconds!).toBeGreaterThan(0.09)
    const hog = report.items[0].containers.find((c) => c.name === 'hog')!
    expect(hog).toMatchObject({id: IDS[2].hog, oomKills: 1, memory: {workingSetBytes: 7000000000 - 5307346944}, cpu: {cores: 0, limitCores: 0.5}})
    const table = await nodedoc(['top', 'containers', '--host-root', root, '--interval', '100ms'])
    expect(table.stdout).toMatch(/^POD\s+CONTAINER\s+CPU\s+CPU%\s+MEMORY\s+MEM%\s+THROTTLED\s+OOM$/m)
    expect(table.stdout).toMatch(/^web\s+hog\s+0m\s+0%\s+1614Mi\s+20%\s+0\/0\s+1$/m)
    const wide = await nodedoc(['top', 'containers', '--host-root', root, '--interval', '100ms', '-o', 'wide'])
    expect(wide.stdout).toMatch(/^NAMESPACE\s+POD\s+CONTAINER\s+CPU\s+CPU%\s+MEMORY\s+MEM%\s+THROTTLED\s+PIDS\s+OOM\s+CPU LIMIT\s+RSS\s+MEM LIMIT\s+THROTTLED TIME\s+CONTAINER ID$/m)
    expect(wide.stdout).toMatch(/^shop\s+web\s+hog\s+0m\s+0%\s+1614Mi\s+20%\s+0\/0\s+7\/1024\s+1\s/m)
  })

  it('events reads the restart from the log folder', async () => {
    const result = await nodedoc(['events', 'web', '-n', 'shop', '--host-root', root, '-o', 'json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(lines, 'without -w: one EventList document').toHaveLength(1)
    const document = JSON.parse(lines[0]) as EventDocument
    expect(document).toMatchObject({apiVersion: 'nodedoc/v1', kind: 'EventList'})
    expect(validEvents(document), JSON.stringify(validEvents.errors)).toBe(true)
    const events = document.items
    expect(events.every((e) => e.pod.name === 'web')).toBe(true)
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Restart', 'PidsLimit', 'ContainerExit', 'CPUThrottling']))
    // the default table: 80 columns, a line naming each event and its message under it; wide: one line each
    const table = (await nodedoc(['events', 'web', '-n', 'shop', '--host-root', root])).stdout.split('\n').filter(Boolean)
    expect(Math.max(...table.map((l) => l.length)), table.join('\n')).toBeLessThanOrEqual(80)
    expect(table[0]).toMatch(/^TIME\s+POD\s+CONTAINER\s+REASON$/)
    expect(table.filter((l) => /^\S.*\sRestart$/.test(l))).toHaveLength(events.filter((e) => e.reason === 'Restart').length)
    const restart = events.find((e) => e.reason === 'Restart')!
    expect(table.some((l) => l.startsWith(`    ${restart.message.slice(0, 40)}`)), table.join('\n')).toBe(true)
    const wide = (await nodedoc(['events', 'web', '-n', 'shop', '--host-root', root, '-o', 'wide'])).stdout.trim().split('\n')
    expect(wide).toHaveLength(events.length + 1)
    expect(wide[0]).toMatch(/^TIME\s+NAMESPACE\s+POD\s+CONTAINER\s+REASON\s+MESSAGE\s+EVIDENCE$/)
    const yaml = await nodedoc(['events', 'web', '-n', 'shop', '--host-root', root, '-o', 'yaml'])
    const documents = YAML.parseAllDocuments(yaml.stdout).map((d) => d.toJS() as EventDocument)
    expect(documents).toHaveLength(1)
    expect(documents[0].items.map((e) => e.reason)).toEqual(events.map((e) => e.reason))
  })

  it('-w prints one block per interval when piped, and one JSON object per sample with -o json; Ctrl-C ends it with 0', async () => {
    const blocks = await watch(['top', '-w', '--interval', '100ms', '--host-root', root], (out) => out.split('\n# ').length > 3)
    expect(blocks.exitCode).toBe(0)
    const headers = blocks.stdout.split('\n').filter((l) => l.startsWith('# '))
    expect(headers.length).toBeGreaterThanOrEqual(3)
    for (const h of headers) expect(h).toMatch(/^# \d{4}-\d\d-\d\dT\S+Z, every 100ms$/)
    expect(blocks.stdout).not.toContain('\x1b[')

    const lines = await watch(['top', '-w', '--interval', '50ms', '--host-root', root, '-o', 'json'], (out) => out.split('\n').length > 4)
    expect(lines.exitCode).toBe(0)
    const samples = lines.stdout.trim().split('\n').slice(0, 4).map((l) => JSON.parse(l) as UsageDocument)
    for (const s of samples) expect(s).toMatchObject({apiVersion: 'nodedoc/v1', kind: 'PodUsage', items: [{name: 'web'}]})
    // every line is a whole document of the one JSON contract, rates included
    for (const s of samples) expect(validUsage(s), JSON.stringify(validUsage.errors)).toBe(true)
    expect(samples[1].items[0].cpu.cores).not.toBeNull()
    // each line is its own sample, taken later than the one before
    for (let i = 1; i < samples.length; i++) expect(Date.parse(samples[i].capturedAt)).toBeGreaterThan(Date.parse(samples[i - 1].capturedAt))
    for (const s of samples.slice(1)) expect(s.intervalSeconds!).toBeLessThan(1)
  })

  it('exits 2 on a usage error and 3 when the node cannot be read, in one line', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['top', '--interval', 'soon'], 2, /--interval: "soon" is not a duration/],
      [['top', '-w', '--from', root], 2, /-w watches a live node/],
      [['top', '--sort-by', 'age'], 2, /--sort-by: "age" is none of cpu, memory/],
      [['events', '--since', 'yesterday'], 2, /--since: "yesterday" is not a duration/],
      [['top', '--from', join(empty, 'no-such-snapshot')], 3, /no such snapshot folder or archive/],
      [['top', '--host-root', empty], 3, /no cgroup hierarchy in live .*mountinfo/],
      [['events', '--host-root', empty], 3, /no cgroup hierarchy/],
    ]
    for (const [args, code, message] of cases) {
      const result = await nodedoc(args)
      expect(result.exitCode, args.join(' ')).toBe(code)
      expect(result.stderr.trim().split('\n')[0], args.join(' ')).toMatch(message)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
  })
})
