// The `top` and `events` commands as a user runs them: --host-root on a node laid out in a
// folder (cgroup v2, systemd driver), -w streams, JSON lines and YAML documents, exit codes.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import * as YAML from 'yaml'
import type {PodUsageReport, UsageEvent} from '../../../src/usage/types.js'
import {REPO, nodedoc} from '../../e2e/node/cli.js'
import {IDS, buildNode, removeNodes} from '../../helpers/usage-node.js'

const root = buildNode({version: 2, driver: 'systemd'})
const empty = mkdtempSync(join(tmpdir(), 'nodedoc-empty-root-'))
afterAll(() => {
  removeNodes()
  rmSync(empty, {recursive: true, force: true})
})

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
    const report = JSON.parse(result.stdout) as PodUsageReport
    expect(report).toMatchObject({apiVersion: 'nodedoc/v1', kind: 'PodUsage', cgroupVersion: 2, notes: []})
    expect(report.intervalSeconds!).toBeGreaterThan(0.09)
    const hog = report.pods[0].containers.find((c) => c.name === 'hog')!
    expect(hog).toMatchObject({id: IDS[2].hog, oomKills: 1, memory: {workingSetBytes: 7000000000 - 5307346944}, cpu: {cores: 0, limitCores: 0.5}})
    const table = await nodedoc(['top', 'containers', '--host-root', root, '--interval', '100ms'])
    expect(table.stdout).toMatch(/^NAMESPACE\s+POD\s+CONTAINER\s+CPU\(CORES\)\s+CPU%\s+MEMORY\(WSS\)\s+MEM%\s+THROTTLED\s+PIDS\s+OOM KILLS$/m)
    expect(table.stdout).toMatch(/^shop\s+web\s+hog\s+0m\s+0%\s+1614Mi\s+20%\s+0\/0\s+7\/1024\s+1$/m)
  })

  it('events reads the restart from the log folder', async () => {
    const result = await nodedoc(['events', 'web', '-n', 'shop', '--host-root', root, '-o', 'json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const events = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as UsageEvent)
    expect(events.every((e) => e.apiVersion === 'nodedoc/v1' && e.kind === 'Event' && e.pod.name === 'web')).toBe(true)
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Restart', 'PidsLimit', 'ContainerExit', 'CPUThrottling']))
    const yaml = await nodedoc(['events', 'web', '-n', 'shop', '--host-root', root, '-o', 'yaml'])
    expect(YAML.parseAllDocuments(yaml.stdout).map((d) => d.toJS().reason)).toEqual(events.map((e) => e.reason))
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
    const samples = lines.stdout.trim().split('\n').slice(0, 4).map((l) => JSON.parse(l) as PodUsageReport)
    for (const s of samples) expect(s).toMatchObject({kind: 'PodUsage', pods: [{name: 'web'}]})
    for (const s of samples.slice(1)) expect(s.intervalSeconds!).toBeLessThan(1)
  })

  it('exits 2 on a usage error and 3 when the node cannot be read, in one line', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['top', '--interval', 'soon'], 2, /--interval: "soon" is not a duration/],
      [['top', '-w', '--from', root], 2, /-w watches a live node/],
      [['top', '--sort-by', 'age'], 2, /sort-by/],
      [['events', '--since', 'yesterday'], 2, /--since: "yesterday" is not a duration/],
      [['top', '--from', join(empty, 'no-such-snapshot')], 3, /no meta.json|not a nodedoc snapshot|ENOENT/],
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
