// The probing client: opens the connections (tcp) or sends the datagrams (udp) a probe asks
// for, each from a source port nodedoc chose (so the conntrack entry can be found and removed
// by its exact tuple), and says what became of each. It is the host's own node binary, run under
// `nsenter --net` inside a pod's network namespace (no file is copied into the pod): only the
// network namespace changes, so it still reads this file from the host.
//
// Run as `node probe-client.js` (or the hidden `nodedoc probe-client` in the bundle and the
// single executable). Talks JSON lines: the request in, its netns out, "go" in, then one line
// per attempt as soon as it ends. Only node: builtins here: it must start without the rest of nodedoc.

import dgram from 'node:dgram'
import {readlinkSync} from 'node:fs'
import net from 'node:net'
import {createInterface} from 'node:readline'

export interface ClientAttemptRequest {
  ip: string
  port: number
  protocol: 'tcp' | 'udp'
  /** source ports to try in order (the next one when a port is taken) */
  ports: number[]
  /** udp payload, base64 */
  payload?: string
}

export interface ClientRequest {
  attempts: ClientAttemptRequest[]
  timeoutMs: number
  concurrency: number
}

export interface ClientAttemptResult {
  index: number
  sourcePort: number
  sourceIp: string | null
  result: 'answered' | 'refused' | 'timedOut' | 'error'
  error: string | null
  ms: number
  /** udp: the reply datagram (first 4 KiB), base64 */
  reply?: string
}

const MAX_REPLY = 4096

function classify(code: string | undefined): {result: ClientAttemptResult['result']; error: string | null} {
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return {result: 'refused', error: code}
  if (code === 'ETIMEDOUT') return {result: 'timedOut', error: code}
  return {result: 'error', error: code ?? 'unknown'}
}

function tcpOnce(a: ClientAttemptRequest, port: number, timeoutMs: number): Promise<Omit<ClientAttemptResult, 'index' | 'ms'>> {
  return new Promise((resolve) => {
    const socket = net.connect({host: a.ip, port: a.port, localPort: port, family: a.ip.includes(':') ? 6 : 4})
    let done = false
    const finish = (r: Omit<ClientAttemptResult, 'index' | 'ms'>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(r)
    }
    const timer = setTimeout(() => {
      finish({sourcePort: port, sourceIp: socket.localAddress ?? null, result: 'timedOut', error: null})
      socket.destroy()
    }, timeoutMs)
    socket.once('connect', () => {
      finish({sourcePort: port, sourceIp: socket.localAddress ?? null, result: 'answered', error: null})
      socket.end()
      // a server that never closes must not hold the client open
      setTimeout(() => socket.destroy(), 200).unref()
    })
    socket.on('error', (error: NodeJS.ErrnoException) => finish({sourcePort: port, sourceIp: socket.localAddress ?? null, ...classify(error.code)}))
  })
}

function udpOnce(a: ClientAttemptRequest, port: number, timeoutMs: number): Promise<Omit<ClientAttemptResult, 'index' | 'ms'>> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(a.ip.includes(':') ? 'udp6' : 'udp4')
    let done = false
    let sourceIp: string | null = null
    const finish = (r: Omit<ClientAttemptResult, 'index' | 'ms'>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      try {
        socket.close()
      } catch {}
      resolve(r)
    }
    const timer = setTimeout(() => finish({sourcePort: port, sourceIp, result: 'timedOut', error: null}), timeoutMs)
    socket.on('error', (error: NodeJS.ErrnoException) => finish({sourcePort: port, sourceIp, ...classify(error.code)}))
    socket.on('message', (message) => finish({sourcePort: port, sourceIp, result: 'answered', error: null, reply: message.subarray(0, MAX_REPLY).toString('base64')}))
    socket.bind({port, exclusive: true}, () => {
      // connect: the kernel then reports an ICMP port unreachable to this socket as ECONNREFUSED
      socket.connect(a.port, a.ip, () => {
        try {
          sourceIp = socket.address().address
        } catch {}
        socket.send(Buffer.from(a.payload ?? '', 'base64'), (error) => {
          if (error) finish({sourcePort: port, sourceIp, ...classify((error as NodeJS.ErrnoException).code)})
        })
      })
    })
  })
}

async function attempt(a: ClientAttemptRequest, index: number, timeoutMs: number): Promise<ClientAttemptResult> {
  const started = performance.now()
  let last: Omit<ClientAttemptResult, 'index' | 'ms'> = {sourcePort: a.ports[0], sourceIp: null, result: 'error', error: 'no source port to use'}
  for (const port of a.ports) {
    last = await (a.protocol === 'tcp' ? tcpOnce(a, port, timeoutMs) : udpOnce(a, port, timeoutMs))
    // a port something else holds: the next one nodedoc wrote down
    if (last.error !== 'EADDRINUSE' && last.error !== 'EADDRNOTAVAIL') break
  }
  return {index, ...last, ms: Math.round((performance.now() - started) * 10) / 10}
}

/** Runs every attempt: the first alone (so session affinity takes hold), then `concurrency` at a time. */
export async function runAttempts(request: ClientRequest, report: (r: ClientAttemptResult) => void): Promise<void> {
  const {attempts, timeoutMs} = request
  if (attempts.length === 0) return
  report(await attempt(attempts[0], 0, timeoutMs))
  let next = 1
  const worker = async () => {
    while (next < attempts.length) {
      const index = next++
      report(await attempt(attempts[index], index, timeoutMs))
    }
  }
  await Promise.all(Array.from({length: Math.max(1, request.concurrency)}, worker))
}

/**
 * Reads the request (one JSON line) on stdin, says which network namespace it is in, and starts
 * only when told "go" on the next line: the CLI checks the namespace first (a pod's sandbox PID
 * could have been reused). End of input instead of "go" exits without sending anything.
 */
export function runProbeClient(): void {
  const lines = createInterface({input: process.stdin})[Symbol.asyncIterator]()
  const say = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n')
  ;(async () => {
    const first = await lines.next()
    if (first.done) process.exit(3)
    const request = JSON.parse(first.value) as ClientRequest
    let netns: string | null = null
    try {
      netns = readlinkSync('/proc/self/ns/net')
    } catch {}
    say({netns})
    const go = await lines.next()
    if (go.done || go.value.trim() !== 'go') process.exit(3)
    await runAttempts(request, say)
    process.exit(0)
  })().catch((error) => {
    say({fatal: (error as Error).message})
    process.exit(1)
  })
}

// started as a script: node dist/src/write/probe-client.js
if (process.argv[1]?.endsWith('probe-client.js')) runProbeClient()
