#!/usr/bin/env node
// Pod start through CRI on the real test node: RunPodSandbox + CreateContainer + StartContainer,
// timed per call, for pods made exactly as the test node's kubelet part makes them (BestEffort
// busybox `sleep`, pod network, kubelet mounts). The yardstick for `nodedoc sandbox`.
//
//   npx tsc -p scripts/node-tsconfig.json && node bench/cri-pod-start.mjs [pods=10]
//
// Needs root and no other containerd on the default socket; removes everything it made.
import {randomBytes} from 'node:crypto'
import {nodeDown, nodeUp} from '../dist/test/e2e/node/node.js'
import {createPod, newPodState, podUid} from '../dist/test/e2e/node/kubelet.js'
import {saveState} from '../dist/test/e2e/node/state.js'

const pods = Number(process.argv[2] ?? 10)
const namespace = `bench-${randomBytes(3).toString('hex')}`
const timings = {RunPodSandbox: [], CreateContainer: [], StartContainer: [], podStart: [], StopAndRemove: []}

function timed(name, fn) {
  return async (...args) => {
    const t = performance.now()
    try {
      return await fn(...args)
    } finally {
      timings[name].push(performance.now() - t)
    }
  }
}

const ms = (v) => `${v.toFixed(1)} ms`
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return {n: sorted.length, min: sorted[0], median: at(0.5), p90: at(0.9), max: sorted.at(-1)}
}

const node = await nodeUp({apps: namespace, system: namespace}, [])
try {
  const cri = {
    ...node.cri,
    runPodSandbox: timed('RunPodSandbox', node.cri.runPodSandbox),
    createContainer: timed('CreateContainer', node.cri.createContainer),
    startContainer: timed('StartContainer', node.cri.startContainer),
  }
  for (let i = 0; i < pods; i++) {
    const spec = {name: `bench-${i}`, namespace, containers: [{name: 'main', command: ['sleep', '10000']}]}
    const pod = newPodState(spec, podUid())
    node.state.pods.push(pod)
    await createPod(cri, spec, pod, () => saveState(node.state))
    const n = timings.StartContainer.length - 1
    timings.podStart.push(timings.RunPodSandbox[n] + timings.CreateContainer[n] + timings.StartContainer[n])
  }
  for (const pod of node.state.pods) {
    const t = performance.now()
    for (const c of pod.containers) {
      await node.cri.stopContainer(c.id, 0)
      await node.cri.removeContainer(c.id)
    }
    await node.cri.stopPodSandbox(pod.sandboxId)
    await node.cri.removePodSandbox(pod.sandboxId)
    timings.StopAndRemove.push(performance.now() - t)
  }
  const version = await node.cri.version()
  process.stdout.write(`${version.runtimeName} ${version.runtimeVersion}, ${pods} pods one after another (the first includes a cold snapshot of the image)\n`)
  process.stdout.write(`first pod start: ${ms(timings.podStart[0])}\n`)
  process.stdout.write('call              n   min        median     p90        max\n')
  for (const [name, values] of Object.entries(timings)) {
    const s = summary(name === 'StopAndRemove' ? values : values.slice(1))
    process.stdout.write(`${name.padEnd(16)}  ${String(s.n).padEnd(3)} ${ms(s.min).padEnd(10)} ${ms(s.median).padEnd(10)} ${ms(s.p90).padEnd(10)} ${ms(s.max)}\n`)
  }
} finally {
  node.cri.close()
  const left = await nodeDown()
  if (left.length) {
    process.stderr.write(`left behind:\n  ${left.join('\n  ')}\n`)
    process.exitCode = 1
  }
}
