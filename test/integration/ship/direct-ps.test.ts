// The launcher's direct path for `ps` (src/cli/direct-ps.ts): the process list started without
// oclif must answer exactly as oclif's start does, byte for byte and with the same exit code, for
// every argv it takes, and hand every other argv to oclif untouched. Each argv runs both ways
// through bin/run.js (NODEDOC_DIRECT=0 is oclif's start), and the bundle files each run read show
// which path it took. Snapshots only: a live /proc changes between two runs.
import {describe, expect, it} from 'vitest'
import {EMPTY_ROOT, directRuns, exampleSnapshots} from './helpers.js'

const snapshot = exampleSnapshots().find((s) => s.endsWith('containerd-node'))
const {run, withRoot} = directRuns('nodedoc-direct-ps-')

const S = snapshot ?? ''
const ROOT = EMPTY_ROOT

/** argv the direct path takes (answers and errors alike), with the environment of the run. */
const TAKEN: Array<[string[], Record<string, string>?]> = [
  [['ps', '--from', S]],
  [['ps', '-A', '--from', S]],
  [['ps', '-e', `--from=${S}`]],
  [['ps', '--all', '--from', S, '-o', 'wide']],
  [['ps', '-A', '--from', S, '-o', 'json']],
  [['ps', '--from', S, '--output', 'yaml']],
  [['ps', '--from', S, '-o', 'name']],
  [['ps', '-A', '--from', S, '-o', 'jsonpath={.items[*].pid}']],
  [['ps', '-A', '--from', S, '-o', 'custom-columns=PID:.pid,CMD:.command', '--no-headers', '--sort-by', '.command']],
  [['ps', '--pod', 'core-k8s', '-n', 'default', '--from', S]],
  [['ps', '--pod=core-k8s', '--namespace=elsewhere', '--from', S]],
  [['ps', '-n', 'kube-system', '--from', S, '-o', 'wide']],
  [['ps', '--zombies', '--from', S]],
  [['ps', '--unowned', '--from', S]],
  [['ps', '--unowned', '--zombies', '--from', S, '-o', 'json']],
  [['ps', '--from', S, '-r', 'unix:///nonexistent/cri.sock']],
  [['ps', '--from', S], {CONTAINER_RUNTIME_ENDPOINT: ''}],
  // refused by nodedoc, not by the flag parser: the same one line and exit code
  [['ps', '--from', S, '-o', 'bogus']],
  [['ps', '--from', S, '-o', 'jsonpath={range .x}']],
  [['ps', '--from', S, '-o', 'custom-columns=PID']],
  [['ps', '-A', '--from', '/nonexistent-snapshot']],
  [['ps', '-A', '--host-root', ROOT]],
  [['ps', '-A'], {NODEDOC_HOST_ROOT: ROOT}],
]

/** argv only oclif takes: help, and every form of flag whose reading the direct path leaves to oclif. */
const LEFT: Array<[string[], Record<string, string>?]> = [
  [['ps', '--help']],
  [['ps', '-A', '-h']],
  [['ps', '--from', S, '--nope']],
  [['ps', 'extra', '--from', S]],
  [['ps', '-A', '-A', '--from', S]],
  [['ps', '-Ao', 'wide', '--from', S]],
  [['ps', '--from', S, '-o']],
  [['ps', '--from', S, '-owide']],
  [['ps', '--from', S, '-r', 'tcp://10.0.0.1:10010']],
  [['ps', '--from', S], {CONTAINER_RUNTIME_ENDPOINT: 'tcp://10.0.0.1:10010'}],
  [['ps', '--from', S, '--', '-A']],
  [['ps', '--all=true', '--from', S]],
  [['ps', '--pod=', '--from', S]],
  [['ps', '-n', '-A', '--from', S]],
  [['ps', '--from', S, '--version']],
  [['ps', '-A', '--from', S], {NODEDOC_DEBUG: '1'}],
]

describe.skipIf(!snapshot)('ps through the direct path', () => {
  it.each(TAKEN)('%j answers as oclif does, without loading oclif', (rawArgs, rawEnv) => {
    const {args, env} = withRoot(rawArgs, rawEnv)
    const direct = run(args, env)
    const oclif = run(args, {...env, NODEDOC_DIRECT: '0'})
    expect(oclif.files).toContain('nodedoc/ps.cjs')
    expect({stdout: direct.stdout, stderr: direct.stderr, status: direct.status}).toEqual({stdout: oclif.stdout, stderr: oclif.stderr, status: oclif.status})
    expect(direct.files.filter((f) => !f.startsWith('nodedoc/vendor-'))).toEqual(['nodedoc/direct-ps.cjs'])
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
    const all = run(['ps', '-A', '--from', S], {})
    expect(all.status).toBe(0)
    expect(all.stdout.split('\n').length).toBeGreaterThan(5)
    expect(all.stdout).toMatch(/core-k8s/)
    const bad = run(['ps', '--from', S, '-o', 'bogus'], {})
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toMatch(/^error: /)
    const usage = run(['ps', '--from', S, '--nope'], {})
    expect(usage.status).toBe(2)
    expect(usage.stderr).toBe('error: Nonexistent flag: --nope (see --help)\n')
  })
})
