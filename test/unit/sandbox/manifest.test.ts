import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ManifestError, containerArgv, parsePodManifest} from '../../../src/sandbox/manifest.js'
import {memoryBytes, milliCpu, parseQuantity} from '../../../src/sandbox/quantity.js'

const fixtures = join(__dirname, '../../fixtures/sandbox')
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8')

describe('parsePodManifest', () => {
  it('reads the core-k8s pod', () => {
    expect(parsePodManifest(read('core-k8s.yaml'), 'core-k8s.yaml')).toEqual({
      name: 'core-k8s',
      namespace: 'default',
      uid: null,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      shareProcessNamespace: false,
      hostname: null,
      volumes: [],
      containers: [{
        name: 'any-old-name-will-do',
        image: 'docker.io/busybox:latest',
        command: ['sleep', '10000'],
        args: null,
        env: [],
        workingDir: null,
        resources: {requests: {cpuMilli: null, memoryBytes: null}, limits: {cpuMilli: null, memoryBytes: null}},
        volumeMounts: [],
        runAsUser: null,
        runAsGroup: null,
        security: {allowPrivilegeEscalation: null, privileged: null, readOnlyRootFilesystem: null, capabilities: null, seccompProfile: null, procMount: null},
        terminationMessagePath: null,
      }],
      security: {runAsUser: null, runAsGroup: null, seccompProfile: null},
      automountServiceAccountToken: null,
    })
  })

  it('reads the greedy pod resources in base units', () => {
    const pod = parsePodManifest(read('greedy.yaml'))
    expect(pod.containers[0].resources).toEqual({
      requests: {cpuMilli: 250, memoryBytes: 100 * 2 ** 20},
      limits: {cpuMilli: 500, memoryBytes: 200 * 2 ** 20},
    })
  })

  it('reads volumes, mounts, env and a namespace', () => {
    const pod = parsePodManifest(read('two-containers.yaml'))
    expect(pod.namespace).toBe('demo')
    expect(pod.volumes).toEqual([
      {name: 'scratch', source: {kind: 'emptyDir', medium: null}},
      {name: 'host-etc', source: {kind: 'hostPath', path: '/etc/debian_version'}},
    ])
    expect(pod.containers[1].volumeMounts).toEqual([
      {name: 'scratch', mountPath: '/scratch', readOnly: false},
      {name: 'host-etc', mountPath: '/host/debian_version', readOnly: true},
    ])
    expect(pod.containers[1].env).toEqual([{name: 'GREETING_FILE', value: '/scratch/greeting'}])
    // limits only: requests default to the limits, as the API server does
    expect(pod.containers[0].resources.requests).toEqual({cpuMilli: 100, memoryBytes: 64 * 2 ** 20})
  })

  it("names line and column of the seed's broken indentation", () => {
    expect(() => parsePodManifest(read('broken-indent.yaml'), 'pod.yaml')).toThrowError(
      new ManifestError('pod.yaml:5:1: invalid YAML: All mapping items must start at the same column'),
    )
  })

  const bad: Array<[string, string]> = [
    ['kind: Service\nmetadata: {name: x}\nspec: {containers: []}\n', 'p.yaml:1:7: kind is Service, expected Pod'],
    ['kind: Pod\nspec: {containers: []}\n', 'p.yaml:1:1: metadata: is required'],
    ['kind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: a}]}\n', 'p.yaml:2:18: metadata.name: "Bad_Name" is not a valid name (lower-case letters, digits and \'-\', at most 63)'],
    ['kind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n', 'p.yaml:3:20: spec.containers: a Pod needs at least one container'],
    ['kind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: a\n    resources: {limits: {memory: lots}}\n', 'p.yaml:6:34: spec.containers[0].resources.limits.memory: "lots" is not a memory quantity (e.g. 200Mi, 1G)'],
    ['kind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: a\n    command: sleep 1\n', 'p.yaml:6:14: spec.containers[0].command: expected a list, got the scalar "sleep 1"'],
    ['kind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: a\n    volumeMounts: [{name: v, mountPath: /v}]\n', 'p.yaml:6:20: spec.containers[0].volumeMounts[0].name: no volume named v in spec.volumes'],
    ['kind: Pod\nmetadata: {name: x}\nspec:\n  volumes: [{name: v, emptyDir: {}}]\n  containers:\n  - name: a\n    volumeMounts: [{name: v, mountPath: /v/../../etc}]\n', "p.yaml:7:41: spec.containers[0].volumeMounts[0].mountPath: must not contain '..'"],
    ['kind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: a\n    resources: {requests: {cpu: "2"}, limits: {cpu: "1"}}\n', 'p.yaml:6:16: spec.containers[0].resources.requests: cpu request must not exceed its limit'],
    ['kind: Pod\nmetadata: {name: x}\nspec:\n  volumes: [{name: v, configMap: {name: c}}]\n  containers: [{name: a}]\n', 'p.yaml:4:13: spec.volumes[0]: only emptyDir and hostPath volumes are supported by the sandbox'],
    ['kind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: a}, {name: a}]\n', 'p.yaml:4:15: spec.containers[1].name: duplicate container name a'],
    ['- just\n- a list\n', 'p.yaml:1:1: expected a Pod manifest (a mapping), got a list'],
    ['kind: Pod\nkind: Pod\n', 'p.yaml:2:1: invalid YAML: Map keys must be unique'],
  ]
  it.each(bad)('rejects %j with one line', (text, message) => {
    let error: unknown
    try {
      parsePodManifest(text, 'p.yaml')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ManifestError)
    expect((error as Error).message).toBe(message)
    expect((error as Error).message).not.toContain('\n')
  })

  it('builds the argv from command and args like the kubelet', () => {
    const base = parsePodManifest(read('core-k8s.yaml')).containers[0]
    expect(containerArgv(base)).toEqual(['sleep', '10000'])
    expect(containerArgv({...base, command: ['sh', '-c'], args: ['echo hi']})).toEqual(['sh', '-c', 'echo hi'])
    expect(containerArgv({...base, command: null, args: ['echo', 'hi']})).toEqual(['echo', 'hi'])
    expect(containerArgv({...base, command: null, args: null})).toEqual(['sh'])
  })
})

describe('quantities', () => {
  it.each([
    ['100m', 100], ['0.5', 500], ['1', 1000], ['2', 2000], ['1.5', 1500], ['0.0001', 1], ['250m', 250], [1, 1000],
  ] as Array<[string | number, number]>)('cpu %s = %d millicores', (text, milli) => expect(milliCpu(text)).toBe(milli))

  it.each([
    ['200Mi', 209715200], ['100Mi', 104857600], ['1Gi', 1073741824], ['1G', 1e9], ['128974848', 128974848],
    ['129e6', 129000000], ['123Mi', 128974848], ['0.5Ki', 512], ['64k', 64000],
  ])('memory %s = %d bytes', (text, value) => expect(memoryBytes(text)).toBe(value))

  it('refuses what is not a quantity', () => {
    expect(parseQuantity('lots')).toBeUndefined()
    expect(parseQuantity('10 Mi')).toBeUndefined()
    expect(parseQuantity('1Mb')).toBeUndefined()
    expect(milliCpu('-1')).toBeUndefined()
  })
})
