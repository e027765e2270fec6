import type {PodSpec} from './kubelet.js'

export interface Namespaces {
  /** where the application pods go ("default" on `npm run node:up`) */
  apps: string
  /** where the hostNetwork pod goes ("kube-system") */
  system: string
}

export const DEFAULT_NAMESPACES: Namespaces = {apps: 'default', system: 'kube-system'}

const SLEEP = ['sleep', '10000']

/** The pods of issue 3: one per QoS class, a two-container pod with an emptyDir, a hostNetwork pod. */
export function podCatalogue(ns: Namespaces = DEFAULT_NAMESPACES): PodSpec[] {
  return [
    {name: 'core-k8s', namespace: ns.apps, labels: {app: 'core-k8s'}, containers: [{name: 'core-k8s', command: SLEEP}]},
    {
      name: 'core-k8s-greedy',
      namespace: ns.apps,
      labels: {app: 'core-k8s-greedy'},
      containers: [{name: 'greedy', command: SLEEP, resources: {requests: {memory: '100Mi'}, limits: {memory: '200Mi'}}}],
    },
    {
      name: 'core-k8s-guaranteed',
      namespace: ns.apps,
      labels: {app: 'core-k8s-guaranteed'},
      containers: [{name: 'app', command: SLEEP, resources: {requests: {cpu: '250m', memory: '64Mi'}, limits: {cpu: '250m', memory: '64Mi'}}}],
    },
    {
      name: 'core-k8s-duo',
      namespace: ns.apps,
      labels: {app: 'core-k8s-duo'},
      emptyDirs: ['cache'],
      containers: [
        {
          name: 'writer',
          command: ['sh', '-c'],
          // a few lines on each stream, then a quiet process: snapshots and ps scans stay stable
          args: ['for i in 1 2 3; do echo "tick $i"; echo "warn $i" >&2; done; echo 3 > /cache/count; exec sleep 10000'],
          resources: {requests: {cpu: '100m', memory: '16Mi'}, limits: {cpu: '500m', memory: '32Mi'}},
          volumeMounts: [{name: 'cache', mountPath: '/cache'}],
        },
        {
          name: 'reader',
          command: SLEEP,
          resources: {requests: {cpu: '50m'}},
          volumeMounts: [{name: 'cache', mountPath: '/cache', readOnly: true}],
        },
      ],
    },
    {
      name: 'core-k8s-hostnet',
      namespace: ns.system,
      labels: {app: 'core-k8s-hostnet'},
      hostNetwork: true,
      containers: [{name: 'agent', command: SLEEP, resources: {requests: {cpu: '50m', memory: '32Mi'}, limits: {memory: '64Mi'}}}],
    },
  ]
}
