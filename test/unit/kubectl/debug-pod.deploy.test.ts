// deploy/*.yaml, typed against kubernetes-types: the same node-facing posture as the debug pod
// the kubectl plugin builds, the image `npm run build:image` names, and doctor as JSON.
import {readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {DaemonSet} from 'kubernetes-types/apps/v1.js'
import type {Job} from 'kubernetes-types/batch/v1.js'
import type {Container, PodSpec} from 'kubernetes-types/core/v1.js'
import {parseAllDocuments} from 'yaml'
import {describe, expect, it} from 'vitest'
import {debugPod, defaultImage} from '../../../src/kubectl/debug-pod.js'
import {securityContextFor} from '../../../src/kubectl/privileges.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
const docs = (file: string) => parseAllDocuments(readFileSync(join(REPO, 'deploy', file), 'utf8')).map((d) => d.toJS())
const reference = debugPod({node: 'n', command: ['doctor'], image: defaultImage(pjson.version), namespace: 'x', suffix: 'aaaaaa'}).spec!

/** What every nodedoc pod on a node must be, whichever way it is started. */
function expectNodePosture(spec: PodSpec, runs: Container) {
  expect({hostPID: spec.hostPID, hostNetwork: spec.hostNetwork, hostIPC: spec.hostIPC}).toEqual({hostPID: true, hostNetwork: true, hostIPC: true})
  expect(spec.tolerations).toEqual(reference.tolerations)
  expect(spec.automountServiceAccountToken).toBe(false)
  expect(spec.volumes).toEqual(reference.volumes)
  expect(runs.image).toBe(defaultImage(pjson.version))
  // least privilege: the capabilities docs/privileges.md lists for an inspection, nothing privileged
  expect(runs.securityContext).toEqual(securityContextFor(['doctor']))
  expect(runs.securityContext).toEqual(reference.containers[0].securityContext)
  expect(runs.volumeMounts).toEqual(reference.containers[0].volumeMounts)
  // doctor itself, no shell around it: its exit status (1 on a FAIL) is the container's
  expect(runs.command).toEqual(['nodedoc', 'doctor', '-o', 'json', '--host-root', '/host'])
  // a diagnostics pod does not take the node-critical priority from the node's own agents
  expect(spec.priorityClassName).toBeUndefined()
}

describe('deploy/daemonset.yaml', () => {
  const [namespace, daemonSet] = docs('daemonset.yaml') as [{kind: string; metadata: {name: string; labels: Record<string, string>}}, DaemonSet]

  it('runs doctor as JSON on every node, reading the host root read-only', () => {
    expect(namespace.kind).toBe('Namespace')
    expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged')
    expect(daemonSet.kind).toBe('DaemonSet')
    expect(daemonSet.metadata!.namespace).toBe(namespace.metadata.name)
    const spec = daemonSet.spec!.template.spec!
    expect(daemonSet.spec!.selector.matchLabels).toEqual({'app.kubernetes.io/name': 'nodedoc'})
    expect(daemonSet.spec!.template.metadata!.labels).toMatchObject(daemonSet.spec!.selector.matchLabels!)
    expectNodePosture(spec, spec.initContainers![0])
    // the pod stays so the doctor log can be read; the holder is the pause image, as nobody, with nothing
    expect(spec.containers[0].image).toMatch(/^registry\.k8s\.io\/pause:/)
    expect(spec.containers[0].command).toBeUndefined()
    expect(spec.containers[0].securityContext).toMatchObject({runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL']}})
  })
})

describe('deploy/job.yaml', () => {
  const [job] = docs('job.yaml') as [Job]

  it('runs doctor once on the named node and cleans up after itself', () => {
    expect(job.kind).toBe('Job')
    expect(job.metadata!.name).toBe('nodedoc-NODE_NAME')
    expect(job.spec).toMatchObject({backoffLimit: 0, ttlSecondsAfterFinished: 600})
    const spec = job.spec!.template.spec!
    expect(spec.nodeName).toBe('NODE_NAME')
    expect(spec.restartPolicy).toBe('Never')
    expectNodePosture(spec, spec.containers[0])
  })
})
