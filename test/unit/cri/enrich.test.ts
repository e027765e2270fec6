import {describe, expect, it} from 'vitest'
import {currentSandbox, enrichPods, enrichProcesses} from '../../../src/cri/enrich.js'
import type {CriSandboxRecord} from '../../../src/cri/view.js'
import type {ContainerReport, PodReport, ProcessRecord} from '../../../src/pods/types.js'
import {containerdView} from './answers.js'

const view = containerdView()
const DUO = '5c3487c9c3ffc5171bed4ad342c0d5946e16660440f503b5e45126027d939e0f'
const WRITER = 'e25d8f81d0be603a201e903a9e27060f63411daab4c8a5d63fab512660922c15'
const READER = '763bd3cc3778f5ae5eb35c2b03d9fd73d00350edd31777fad7fa979466d80967'
const UID = 'ba916f15-8658-465b-a0c6-16125939ae2d'
const LOGS = `/var/log/pods/default_core-k8s-duo_${UID}`

function container(name: string, id: string, pid: number | null): ContainerReport {
  return {
    name, id, state: pid ? 'running' : 'exited', pid, nsPid: pid ? 1 : null, command: 'sleep 10000', restartCount: 0,
    namespaces: {}, namespaceSharing: {}, mounts: [], cgroup: null, processes: [],
  }
}

/** core-k8s-duo as host files show it on the node the fixtures were recorded on. */
function duo(): PodReport {
  return {
    namespace: 'default', name: 'core-k8s-duo', uid: UID, qosClass: 'Burstable', runtime: 'containerd', cgroupVersion: 1, cgroupDriver: 'cgroupfs',
    sandbox: {id: DUO, pid: 10354, namespaces: {}},
    cgroup: null,
    containers: [container('reader', READER, 10447), container('writer', WRITER, 10403)],
    hostNetwork: false, hostPID: false, hostIPC: false,
    ips: ['10.88.0.5'], interfaces: [], hostVeth: null, hostRoute: null,
    logs: [
      {container: 'reader', path: `${LOGS}/reader/0.log`, sizeBytes: 0, restart: 0, links: []},
      {container: 'writer', path: `${LOGS}/writer/0.log`, sizeBytes: 120, restart: 0, links: []},
    ],
    findings: [],
  }
}

describe('enrichPods', () => {
  it('adds nothing and finds nothing when host files and the runtime agree', () => {
    expect(enrichPods([duo()], view)).toEqual([duo()])
  })

  it('fills what host files could not say: names, sandbox, PIDs, IPs, restart counts', () => {
    const pod = duo()
    pod.name = null
    pod.namespace = null
    pod.sandbox = {id: null, pid: null, namespaces: {}}
    pod.ips = []
    pod.containers[1] = {...pod.containers[1], name: null, restartCount: null}
    const [out] = enrichPods([pod], view)
    expect(out).toEqual({...duo(), containers: [duo().containers[0], {...duo().containers[1], restartCount: 0}]})
  })

  it('keeps the host truth and says so where the runtime disagrees', () => {
    const pod = duo()
    pod.ips = ['10.88.0.99']
    pod.sandbox.pid = 4242
    pod.containers[1] = {...pod.containers[1], pid: 4343, restartCount: 2}
    const [out] = enrichPods([pod], view)
    expect(out.ips).toEqual(['10.88.0.99'])
    expect(out.sandbox.pid).toBe(4242)
    expect(out.containers[1].pid).toBe(4343)
    expect(out.findings).toEqual([
      'sandbox PID 4242 on the host, 10354 per the runtime',
      "pod IPs: 10.88.0.99 in the pod's netns, 10.88.0.5 per the runtime",
      'container writer: PID 4343 on the host, 10403 per the runtime',
      'container writer: restart 2 per the log files, 0 per the runtime',
    ])
  })

  it('reports a running container the host files miss, and a log path not found', () => {
    const pod = duo()
    pod.containers = [pod.containers[0]]
    pod.logs = [pod.logs[0]]
    expect(enrichPods([pod], view)[0].findings).toEqual([
      'container writer (e25d8f81d0be6): running per the runtime, no such container in host files',
      `container writer: the runtime writes ${LOGS}/writer/0.log, not among the log files found`,
    ])
  })

  it('reports state and naming conflicts', () => {
    const pod = duo()
    pod.name = 'core-k8s-solo'
    pod.containers[0] = {...pod.containers[0], state: 'exited', pid: null, name: 'watcher'}
    expect(enrichPods([pod], view)[0].findings).toEqual([
      'pod name: host files say default/core-k8s-solo, the runtime default/core-k8s-duo',
      'container 763bd3cc3778f: host files name it watcher, the runtime reader',
      'container watcher: the runtime says running, host files show exited',
    ])
  })

  it('says when the runtime knows no sandbox for a pod', () => {
    const pod = {...duo(), uid: '00000000-0000-4000-8000-000000000000', sandbox: {id: 'f'.repeat(64), pid: 1, namespaces: {}}}
    expect(enrichPods([pod], view)[0].findings).toEqual(['the runtime at unix:///run/containerd/containerd.sock knows no sandbox for this pod'])
  })
})

describe('currentSandbox', () => {
  const s = (id: string, state: 'ready' | 'notready', createdAt: string, attempt = 0) => ({id, state, createdAt, attempt}) as CriSandboxRecord
  it('prefers the ready sandbox, then the newest', () => {
    expect(currentSandbox([s('a', 'notready', '2026-01-02'), s('b', 'ready', '2026-01-01')])?.id).toBe('b')
    expect(currentSandbox([s('a', 'notready', '2026-01-01'), s('b', 'notready', '2026-01-02', 1)])?.id).toBe('b')
    expect(currentSandbox([])).toBeUndefined()
  })
})

describe('enrichProcesses', () => {
  const proc = (pid: number, id: string, name: string | null, podName: string | null): ProcessRecord => ({
    pid, ppid: 1, nsPid: 1, state: 'S', command: 'sleep 10000', pod: {namespace: podName ? 'default' : null, name: podName, uid: UID}, container: {name, id},
  })
  it('names containers and pods by container ID where host files could not', () => {
    const out = enrichProcesses([proc(10403, WRITER, null, null), proc(10354, DUO, 'POD', null), proc(1, 'unknown', null, null)], view)
    expect(out.map((p) => [p.container?.name, p.pod?.namespace, p.pod?.name])).toEqual([
      ['writer', 'default', 'core-k8s-duo'],
      ['POD', 'default', 'core-k8s-duo'],
      [null, null, null],
    ])
  })
})
