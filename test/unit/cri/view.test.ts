import {describe, expect, it} from 'vitest'
import {containerRecord, criTime, sandboxRecord, verboseInfo} from '../../../src/cri/view.js'
import {containerdAnswers} from './answers.js'

const a = containerdAnswers()
const DUO = '5c3487c9c3ffc5171bed4ad342c0d5946e16660440f503b5e45126027d939e0f'
const HOSTNET = '9df7ad03938e7cd1e526964ca6ed5f23ed21561f7f9e7422bcc3195a51c93503'
const WRITER = 'e25d8f81d0be603a201e903a9e27060f63411daab4c8a5d63fab512660922c15'
const DUO_UID = 'ba916f15-8658-465b-a0c6-16125939ae2d'
const sandbox = (id: string) => a.sandboxes.find((s) => s.id === id)!
const container = (id: string) => a.containers.find((c) => c.id === id)!

describe('CRI answers to records (containerd 1.6.20)', () => {
  it('flattens a pod-network sandbox with its verbose info', () => {
    expect(sandboxRecord(sandbox(DUO), a.sandboxStatus[DUO])).toEqual({
      id: DUO,
      namespace: 'default',
      name: 'core-k8s-duo',
      uid: DUO_UID,
      attempt: 0,
      state: 'ready',
      createdAt: '2026-11-26T01:08:59.580Z',
      ips: ['10.88.0.5'],
      pid: 10354,
      hostNetwork: false,
      netnsPath: '/var/run/netns/cni-d5570259-1ce0-bd94-8b51-32ffd5d6ad4e',
      logDirectory: `/var/log/pods/default_core-k8s-duo_${DUO_UID}`,
      cgroupParent: `/kubepods/burstable/pod${DUO_UID}`,
      runtimeHandler: '',
      // the pod's labels, as the kubelet handed them over (for pods -l)
      labels: {'io.kubernetes.pod.uid': DUO_UID, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.name': 'core-k8s-duo', app: 'core-k8s-duo'},
    })
  })

  it('gives a hostNetwork sandbox no IPs and no netns path', () => {
    expect(sandboxRecord(sandbox(HOSTNET), a.sandboxStatus[HOSTNET])).toMatchObject({name: 'core-k8s-hostnet', namespace: 'kube-system', ips: [], hostNetwork: true, netnsPath: null, pid: 10499})
  })

  it('keeps what the list said when the status call found nothing', () => {
    expect(sandboxRecord(sandbox(DUO))).toMatchObject({id: DUO, name: 'core-k8s-duo', state: 'ready', ips: [], pid: null, hostNetwork: null, logDirectory: null})
    expect(containerRecord(container(WRITER))).toMatchObject({id: WRITER, name: 'writer', state: 'running', pid: null, logPath: null, resources: null, restartCount: 0})
  })

  it('flattens a container with its verbose PID, log path and resources', () => {
    expect(containerRecord(container(WRITER), a.containerStatus[WRITER])).toEqual({
      id: WRITER,
      sandboxId: DUO,
      name: 'writer',
      attempt: 0,
      state: 'running',
      createdAt: '2026-11-26T01:08:59.774Z',
      startedAt: '2026-11-26T01:08:59.926Z',
      finishedAt: null,
      exitCode: null,
      reason: null,
      image: 'nodedoc.local/busybox:1.35',
      imageRef: 'sha256:1adfd1cb415189bc961cc9139f86bb80b1ea20a2193ad6b9cd170a3fea76369b',
      logPath: `/var/log/pods/default_core-k8s-duo_${DUO_UID}/writer/0.log`,
      pid: 10403,
      restartCount: 0,
      pod: {namespace: 'default', name: 'core-k8s-duo', uid: DUO_UID},
      resources: {memoryLimitBytes: 33_554_432, cpuShares: 102, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, oomScoreAdj: 999},
      cgroupsPath: `/kubepods/burstable/pod${DUO_UID}/${WRITER}`,
    })
  })

  it('falls back to the OCI spec for resources when ContainerStatus has none', () => {
    const status = structuredClone(a.containerStatus[WRITER])
    status.status!.resources = null
    expect(containerRecord(container(WRITER), status).resources).toEqual({memoryLimitBytes: 33_554_432, cpuShares: 102, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, oomScoreAdj: 999})
  })

  it('reads the restart count from the kubelet annotation', () => {
    const status = structuredClone(a.containerStatus[WRITER])
    status.status!.annotations['io.kubernetes.container.restartCount'] = '3'
    status.status!.state = 'CONTAINER_EXITED'
    status.status!.finishedAt = 1795655400000000000
    status.status!.exitCode = 137
    status.status!.reason = 'OOMKilled'
    expect(containerRecord(container(WRITER), status)).toMatchObject({restartCount: 3, state: 'exited', exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-11-26T01:10:00.000Z'})
  })

  it('treats unset times and unreadable info as absent', () => {
    expect(criTime(0)).toBeNull()
    expect(criTime(undefined)).toBeNull()
    expect(verboseInfo({info: '{not json'})).toBeNull()
    expect(verboseInfo({})).toBeNull()
  })
})
