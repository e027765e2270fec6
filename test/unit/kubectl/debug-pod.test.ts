import {describe, expect, it} from 'vitest'
import type {Pod} from 'kubernetes-types/core/v1.js'
import {debugPod, kubectlSteps, podArgv, podName} from '../../../src/kubectl/debug-pod.js'
import {shellLine} from '../../../src/output/shell-line.js'

const options = {node: 'worker-1', command: ['pod', 'core-k8s', '-n', 'default', '-o', 'json'], image: 'localhost/nodedoc:0.1.0', namespace: 'default', suffix: 'abc123'}

describe('debug pod', () => {
  it('is the node debug pod, running nodedoc once against /host with only the capabilities an inspection needs', () => {
    const expected: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'nodedoc-worker-1-abc123',
        namespace: 'default',
        labels: {'app.kubernetes.io/name': 'nodedoc', 'app.kubernetes.io/component': 'debug-node'},
        annotations: {'nodedoc.dev/node': 'worker-1', 'nodedoc.dev/command': 'pod core-k8s -n default -o json'},
      },
      spec: {
        nodeName: 'worker-1',
        restartPolicy: 'Never',
        hostPID: true,
        hostNetwork: true,
        hostIPC: true,
        dnsPolicy: 'ClusterFirstWithHostNet',
        activeDeadlineSeconds: 300,
        terminationGracePeriodSeconds: 5,
        automountServiceAccountToken: false,
        tolerations: [{operator: 'Exists'}],
        containers: [{
          name: 'nodedoc',
          image: 'localhost/nodedoc:0.1.0',
          imagePullPolicy: 'IfNotPresent',
          command: ['nodedoc', 'pod', 'core-k8s', '-n', 'default', '-o', 'json', '--host-root', '/host'],
          env: [{name: 'NO_COLOR', value: '1'}],
          securityContext: {
            privileged: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsUser: 0,
            runAsNonRoot: false,
            capabilities: {drop: ['ALL'], add: ['SYS_PTRACE', 'DAC_READ_SEARCH', 'NET_ADMIN', 'NET_RAW', 'SYSLOG']},
          },
          volumeMounts: [{name: 'host-root', mountPath: '/host', readOnly: true, recursiveReadOnly: 'IfPossible'}],
        }],
        volumes: [{name: 'host-root', hostPath: {path: '/', type: 'Directory'}}],
      },
    }
    expect(debugPod(options)).toEqual(expected)
  })

  it('mounts /host read-write and runs privileged only for sandbox, and leaves an explicit --host-root or --from alone', () => {
    const sandbox = debugPod({...options, command: ['sandbox', 'create']}).spec!.containers[0]
    expect(sandbox.volumeMounts).toEqual([{name: 'host-root', mountPath: '/host', readOnly: false}])
    expect(sandbox.securityContext).toEqual({privileged: true})
    expect(podArgv(['pod', 'x', '--from', '/snap'])).toEqual(['nodedoc', 'pod', 'x', '--from', '/snap'])
    expect(podArgv(['pod', 'x', '--host-root=/h'])).toEqual(['nodedoc', 'pod', 'x', '--host-root=/h'])
    expect(podArgv(['sandbox', 'exec', 'x', '--', 'ls', '-l'])).toEqual(['nodedoc', 'sandbox', 'exec', 'x', '--host-root', '/host', '--', 'ls', '-l'])
    expect(podArgv(['--version'])).toEqual(['nodedoc', '--version'])
  })

  it('names the pod as a DNS label whatever the node is called', () => {
    expect(podName('Worker_1.example.com', 'ff00aa')).toBe('nodedoc-worker-1-example-com-ff00aa')
    const long = podName('n'.repeat(100), 'ff00aa')
    expect(long.length).toBeLessThanOrEqual(63)
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
  })
})

describe('kubectl command lines', () => {
  it('creates, streams, reads the exit code and deletes', () => {
    const pod = debugPod(options)
    const steps = kubectlSteps(pod, 'kubectl', ['--context', 'prod'])
    expect([...steps.run, steps.cleanup].map((s) => shellLine(s.argv))).toEqual([
      'kubectl --context prod create --namespace default -f - -o name',
      'kubectl --context prod logs --namespace default --follow --pod-running-timeout=2m pod/nodedoc-worker-1-abc123',
      "kubectl --context prod get --namespace default pod/nodedoc-worker-1-abc123 -o 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}'",
      'kubectl --context prod delete --namespace default pod/nodedoc-worker-1-abc123 --ignore-not-found --wait=false',
    ])
    expect(JSON.parse(steps.run[0].stdin!)).toEqual(pod)
    expect(steps.run[1].stream).toBe(true)
    expect(steps.run[2].retryWhileEmpty).toBe(true)
  })
})
