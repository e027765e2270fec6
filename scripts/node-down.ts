// npm run node:down — removes everything node:up made and checks that nothing is left.
import {nodeDown} from '../test/e2e/node/node.js'

const left = await nodeDown()
if (left.length) {
  process.stderr.write(`node:down: still present:\n  ${left.join('\n  ')}\n`)
  process.exitCode = 1
} else process.stdout.write('test node removed; nothing left behind\n')
