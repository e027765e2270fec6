// The pod `kubectl nodedoc NODE -- CMD...` runs on a node, and the kubectl command lines that
// create it, stream its output and delete it. Pure: the pod `kubectl debug node/NAME` would make
// (host PID, network and IPC namespaces, the node's root at /host), except that it runs nodedoc
// once instead of a shell, with only the capabilities the command needs (privileges.ts:
// privileged only for the commands that act on the node, as --profile=sysadmin), and mounts
// /host read-only, recursively where the cluster can, unless the command writes (sandbox).

import type {Pod} from 'kubernetes-types/core/v1.js'
import type {KubectlStep} from '../write/kubectl.js'
import {securityContextFor} from './privileges.js'

export const HOST_ROOT = '/host'
export const DEFAULT_NAMESPACE = 'default'
/** The tag `npm run build:image` gives the image it writes. */
export const defaultImage = (version: string) => `localhost/nodedoc:${version}`

export interface DebugPodOptions {
  node: string
  /** nodedoc's arguments, e.g. ['pod', 'core-k8s', '-n', 'default', '-o', 'json'] */
  command: string[]
  image: string
  namespace: string
  /** A suffix that makes the pod's name unique (random in real use, fixed in tests). */
  suffix: string
  /** Seconds before Kubernetes stops a pod that hangs. */
  deadlineSeconds?: number
}

/** Flags that already say where the node's files are: nothing to add then. */
const SAYS_WHERE = /^--(host-root|from)(=|$)/

/** Commands that change the node (only `sandbox create/delete`); they get /host read-write. */
export function writesToHost(command: string[]): boolean {
  return command[0] === 'sandbox'
}

/** nodedoc's argv inside the pod: the command, then --host-root /host unless it says otherwise. */
export function podArgv(command: string[]): string[] {
  if (command.some((a) => SAYS_WHERE.test(a)) || command[0] === 'report' || command.length === 0 || command[0].startsWith('-')) return ['nodedoc', ...command]
  // after a "--" every word is an argument, so the flag must come before it
  const dashes = command.indexOf('--')
  if (dashes === -1) return ['nodedoc', ...command, '--host-root', HOST_ROOT]
  return ['nodedoc', ...command.slice(0, dashes), '--host-root', HOST_ROOT, ...command.slice(dashes)]
}

/** DNS-1123 label: lower case, digits and '-', at most 63 characters. */
export function podName(node: string, suffix: string): string {
  const base = `nodedoc-${node.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 62 - suffix.length).replace(/-+$/, '')
  return `${base}-${suffix}`
}

export function debugPod(options: DebugPodOptions): Pod {
  const readOnly = !writesToHost(options.command)
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(options.node, options.suffix),
      namespace: options.namespace,
      labels: {'app.kubernetes.io/name': 'nodedoc', 'app.kubernetes.io/component': 'debug-node'},
      annotations: {'nodedoc.dev/node': options.node, 'nodedoc.dev/command': options.command.join(' ')},
    },
    spec: {
      nodeName: options.node, // bypasses the scheduler, as kubectl debug node does
      restartPolicy: 'Never',
      hostPID: true,
      hostNetwork: true,
      hostIPC: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      activeDeadlineSeconds: options.deadlineSeconds ?? 300,
      terminationGracePeriodSeconds: 5,
      automountServiceAccountToken: false,
      // whatever the node's taints, the pod must land there
      tolerations: [{operator: 'Exists'}],
      containers: [
        {
          name: 'nodedoc',
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: podArgv(options.command),
          env: [{name: 'NO_COLOR', value: '1'}],
          securityContext: securityContextFor(options.command),
          // IfPossible: submounts of / (its /proc, /sys, /run) read-only too where the runtime can do it
          volumeMounts: [{name: 'host-root', mountPath: HOST_ROOT, readOnly, ...(readOnly ? {recursiveReadOnly: 'IfPossible'} : {})}],
        },
      ],
      volumes: [{name: 'host-root', hostPath: {path: '/', type: 'Directory'}}],
    },
  }
}

/**
 * create -> stream logs until the container ends -> read its exit code (asked again until the
 * kubelet has reported it) -> delete, also after a failure or Ctrl-C.
 */
export function kubectlSteps(pod: Pod, kubectl = 'kubectl', extra: string[] = []): {run: KubectlStep[]; cleanup: KubectlStep} {
  const name = pod.metadata!.name!
  const ns = ['--namespace', pod.metadata!.namespace!]
  return {
    run: [
      {why: 'create the debug pod', argv: [kubectl, ...extra, 'create', ...ns, '-f', '-', '-o', 'name'], stdin: JSON.stringify(pod)},
      {why: "stream nodedoc's output", argv: [kubectl, ...extra, 'logs', ...ns, '--follow', '--pod-running-timeout=2m', `pod/${name}`], stream: true},
      {
        why: "read nodedoc's exit code",
        argv: [kubectl, ...extra, 'get', ...ns, `pod/${name}`, '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}'],
        retryWhileEmpty: true,
      },
    ],
    cleanup: {why: 'delete the debug pod', argv: [kubectl, ...extra, 'delete', ...ns, `pod/${name}`, '--ignore-not-found', '--wait=false']},
  }
}
