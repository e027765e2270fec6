import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SERVICE_ACCOUNT_MOUNT} from '../../../src/compare/kubelet-rules.js'
import type {LayerPod, SpecPod} from '../../../src/compare/layers.js'
import {COMPARISON, compareTable} from '../../../src/compare/render.js'
import {renderOutput} from '../../../src/output/output.js'
import {type CompareResult, compareLayers} from '../../../src/compare/rows.js'
import {CONTAINERD_CAPABILITIES} from '../../../src/compare/runtime-defaults.js'
import {type NodeFacts, specLayer} from '../../../src/compare/spec.js'
import {parsePodManifest} from '../../../src/sandbox/manifest.js'

const NODE: NodeFacts = {
  nodeMemoryBytes: 24684096 * 1024,
  runtime: 'containerd',
  oomFloor: null,
  seccompDefault: {value: false, why: 'the kubelet runs without --seccomp-default'},
  network: {value: 'bridge cni0', why: 'CNI config 10-bridge.conflist (bridge)'},
  allCapabilities: [...CONTAINERD_CAPABILITIES, 'sys_admin'],
}
const greedy = parsePodManifest(readFileSync(join(__dirname, '../../fixtures/sandbox/greedy.yaml'), 'utf8'), 'greedy.yaml')
const spec: SpecPod = specLayer(greedy, NODE, new Map([['greedy', 0]]))
/** The layer a healthy pod shows: the spec's values (as the e2e tests see on real pods). */
const asLayer = (s: SpecPod): LayerPod => structuredClone({rows: s.rows, containers: s.containers.map(({name, rows, mounts}) => ({name, rows, mounts}))})

describe('compareLayers', () => {
  it('finds no difference between a pod and what its spec implies', () => {
    const rows = compareLayers(spec, asLayer(spec), asLayer(spec))
    expect(rows.filter((r) => r.differs)).toEqual([])
    expect(rows.length).toBe(5 + 16 + 13)
    expect(rows.find((r) => r.row === 'no_new_privs')).toMatchObject({spec: '0', basis: expect.stringMatching(/allowPrivilegeEscalation: false/)})
  })

  it('names one change once, with the reason for the expected value', () => {
    const kernel = asLayer(spec)
    kernel.containers[0].rows['cpu.shares'] = '512'
    const runtime = asLayer(spec)
    const diffs = compareLayers(spec, runtime, kernel).filter((r) => r.differs)
    expect(diffs.map((r) => [r.scope, r.row, r.explanation])).toEqual([
      ['greedy', 'cpu.shares', 'cpu.shares is 512, expected 256: max(2, cpu request in millicores * 1024 / 1000)'],
    ])
  })

  it('humanizes sizes in sentences', () => {
    const kernel = asLayer(spec)
    kernel.containers[0].rows['memory limit'] = String(150 * 2 ** 20)
    expect(compareLayers(spec, null, kernel).filter((r) => r.differs).map((r) => r.explanation)).toEqual(['memory limit is 150Mi, expected 200Mi: resources.limits.memory'])
  })

  it('says which pod cgroup parent the pod sits under', () => {
    const kernel = asLayer(spec)
    kernel.rows.qos = 'BestEffort'
    expect(compareLayers(spec, null, kernel).filter((r) => r.differs).map((r) => r.explanation)).toEqual([
      expect.stringMatching(/^the pod cgroup sits under the BestEffort parent, expected Burstable: requests and limits/),
    ])
  })

  it('reports a volume that is not mounted, and lets an optional token be absent', () => {
    const withVolume = parsePodManifest('kind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: cache, emptyDir: {}}]\n  containers: [{name: a, volumeMounts: [{name: cache, mountPath: /cache}]}]\n', 'p.yaml')
    const s = specLayer(withVolume, NODE)
    const kernel = asLayer(s)
    delete kernel.containers[0].mounts!['/cache']
    delete kernel.containers[0].mounts![SERVICE_ACCOUNT_MOUNT]
    const rows = compareLayers(s, null, kernel)
    expect(rows.filter((r) => r.differs).map((r) => [r.row, r.explanation])).toEqual([['mount /cache', '/cache is not mounted; expected rw: volume cache (emptyDir)']])
    expect(rows.find((r) => r.row === `mount ${SERVICE_ACCOUNT_MOUNT}`)).toMatchObject({kernel: '-', differs: false, basis: expect.stringMatching(/allowed: the ServiceAccount itself/)})
  })

  it('keeps a disagreement between the runtime config and the kernel as a finding', () => {
    const runtime = asLayer(spec)
    const kernel = asLayer(spec)
    kernel.containers[0].mounts!['/sys'] = 'rw'
    runtime.containers[0].mounts!['/sys'] = 'rw'
    kernel.containers[0].mounts!['/data'] = 'rw'
    runtime.containers[0].mounts!['/etc/resolv.conf'] = 'ro'
    const diffs = compareLayers(spec, runtime, kernel).filter((r) => r.differs)
    expect(diffs.map((r) => [r.row, r.explanation])).toEqual([
      ['mount /data', '/data is mounted rw, but neither the spec, the kubelet nor the runtime\'s defaults put a mount there'],
      ['mount /etc/resolv.conf', '/etc/resolv.conf is mounted rw although the runtime\'s config asks for ro'],
      ['mount /sys', '/sys is mounted rw, expected ro: containerd\'s default OCI spec'],
    ])
  })

  it('checks the command against what the runtime was told: a process may exec', () => {
    const kernel = asLayer(spec)
    kernel.containers[0].rows.command = 'sleep 99'
    expect(compareLayers(spec, asLayer(spec), kernel).filter((r) => r.differs)).toEqual([])
    const runtime = asLayer(spec)
    runtime.containers[0].rows.command = 'sh'
    expect(compareLayers(spec, runtime, kernel).filter((r) => r.differs).map((r) => r.explanation)).toEqual(['the runtime was told to run "sh", the spec says "sleep 10000"'])
  })

  it('with --with, compares against the sandbox and says when the difference is its own choice', () => {
    const reference = asLayer(spec)
    reference.containers[0].rows.no_new_privs = '1'
    const rows = compareLayers(spec, null, asLayer(spec), {name: 'ref', layer: reference})
    expect(rows.filter((r) => r.differs).map((r) => r.explanation)).toEqual([
      "no_new_privs is 0; sandbox ref has 1; the spec implies 0 too (the kubelet sets it only for allowPrivilegeEscalation: false (here unset)): the difference is the sandbox's own choice",
    ])
    expect(rows.find((r) => r.row === 'no_new_privs')).toMatchObject({reference: '1'})
  })

  it('reports a container missing on one side', () => {
    const kernel = asLayer(spec)
    kernel.containers = []
    expect(compareLayers(spec, null, kernel).filter((r) => r.differs)).toEqual([
      {scope: 'greedy', row: 'container', spec: 'present', runtime: null, kernel: '-', differs: true, basis: null, explanation: 'container greedy is in the spec but not running in the pod'},
    ])
  })
})

describe('compareTable', () => {
  const kernel = asLayer(spec)
  kernel.containers[0].rows['memory limit'] = String(150 * 2 ** 20)
  kernel.containers[0].mounts![SERVICE_ACCOUNT_MOUNT] = 'rw'
  kernel.containers[0].rows.command = 'sleep 10000 \u001b[31mred'
  const rows = compareLayers(spec, null, kernel)
  const result: CompareResult = {pod: {namespace: 'default', name: 'greedy', uid: 'u'}, against: 'spec greedy.yaml', rows, differences: rows.filter((r) => r.differs).length}

  const render = (kind: 'table' | 'wide') => renderOutput(result, {kind}, compareTable, COMPARISON, {node: null, capturedAt: ''})
  it('fits 80 columns, humanizes sizes, escapes control characters, and ends with one sentence per difference', () => {
    for (const kind of ['table', 'wide'] as const) {
      const text = render(kind)
      if (kind === 'table') for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80)
      expect(text).toContain('150Mi')
      expect(text).not.toContain('157286400')
      expect(text).not.toContain('\u001b')
    }
    expect(render('wide')).toContain(`  ${SERVICE_ACCOUNT_MOUNT}   ro`)
    const text = render('table')
    expect(text.split('\n')[0]).toBe('default/greedy against spec greedy.yaml: 3 differences')
    // no runtime config here: the command is checked against the running process, escaped on the terminal
    expect(text.replace(/\n {2}/g, ' ')).toContain('! greedy: the main process runs "sleep 10000 \\x1b[31mred", the spec says "sleep 10000"')
    expect(text).toMatch(/^!\s+memory limit\s+200Mi\s+-\s+150Mi$/m)
    expect(text).toMatch(/^! greedy: memory limit is 150Mi, expected 200Mi: resources.limits.memory$/m)
    expect(text).toMatch(/^ {4}container greedy$/m)
  })
})
