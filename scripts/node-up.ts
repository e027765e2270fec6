// npm run node:up — a real containerd + runc + CNI node with the test pods, left running.
import {nodeUp} from '../test/e2e/node/node.js'

const started = Date.now()
try {
  const node = await nodeUp()
  node.cri.close()
  for (const pod of node.pods) {
    const ids = pod.containers.map((c) => `${c.name}=${c.id!.slice(0, 13)}`).join(' ')
    process.stdout.write(`${pod.namespace}/${pod.name}  uid ${pod.uid}  ${pod.qos}  ip ${pod.ip ?? 'host'}  sandbox ${pod.sandboxId!.slice(0, 13)}  ${ids}\n`)
  }
  process.stdout.write(`test node up in ${((Date.now() - started) / 1000).toFixed(1)} s; containerd PID ${node.state.containerdPid}, endpoint ${node.endpoint}\n`)
  process.stdout.write('stop it with: npm run node:down\n')
} catch (error) {
  process.stderr.write(`node:up: ${(error as Error).message}\n`)
  process.exitCode = 1
}
