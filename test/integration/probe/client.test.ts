// The probing client as probeService starts it: inside a network namespace (here one the test
// makes, as a pod's), under setpriv --pdeathsig, journaled, checked for its namespace before it
// may send. Real sockets between two namespaces of this test: answered, refused, timed out, a
// taken source port replaced by its spare, a UDP reply read back.
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type ResultPromise, execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ProbeClientError, ProbeJournal, probeClientArgv, runProbeClient, stillRunning} from '../../../src/write/probe-ops.js'
import {IS_ROOT, Netns, have, netnsName} from '../svc/netns.js'

const SERVER = `
const net = require('node:net'), dgram = require('node:dgram')
net.createServer((c) => c.end('tcp')).listen(8080, '172.30.77.2')
const u = dgram.createSocket('udp4')
u.on('message', (m, from) => u.send(Buffer.concat([Buffer.from('echo:'), m]), from.port, from.address))
u.bind(5353, '172.30.77.2', () => console.log('ready'))
`
// holds a port in the client namespace, so the client must use the spare
const HOLDER = `require('node:net').createServer().listen(Number(process.argv[1]), () => console.log('ready'))`

const usable = IS_ROOT && (await have('ip')) && (await have('setpriv'))
if (!usable) console.warn('probe client test needs root, ip and setpriv: skipped')

describe.skipIf(!usable)('probe client in a namespace', () => {
  const tag = Math.random().toString(16).slice(2, 8)
  let client: Netns
  let server: Netns
  const children: ResultPromise[] = []
  let dir: string
  let journal: ProbeJournal
  let netns: string

  async function started(child: ResultPromise): Promise<void> {
    children.push(child)
    await new Promise<void>((ready, fail) => {
      child.stdout!.on('data', (d) => String(d).includes('ready') && ready())
      setTimeout(() => fail(new Error('helper did not start')), 10_000)
    })
  }

  beforeAll(async () => {
    client = await Netns.create(netnsName('pc-client', tag))
    server = await Netns.create(netnsName('pc-server', tag))
    await client.must(['ip', 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 's0', 'netns', server.name])
    await client.must(['ip', 'addr', 'add', '172.30.77.1/24', 'dev', 'c0'])
    await client.must(['ip', 'link', 'set', 'c0', 'up'])
    await server.must(['ip', 'addr', 'add', '172.30.77.2/24', 'dev', 's0'])
    await server.must(['ip', 'link', 'set', 's0', 'up'])
    await started(execa('ip', ['netns', 'exec', server.name, process.execPath, '-e', SERVER], {reject: false}))
    await started(execa('ip', ['netns', 'exec', client.name, process.execPath, '-e', HOLDER, '20001'], {reject: false}))
    netns = (await client.must(['readlink', '/proc/self/ns/net'])).trim()
    dir = await mkdtemp(join(tmpdir(), 'nodedoc-journal-'))
    journal = await ProbeJournal.open('test', dir)
  }, 60_000)

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL')
    await Promise.allSettled(children)
    await client?.delete()
    await server?.delete()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  const argv = () => ['ip', 'netns', 'exec', client.name, 'setpriv', '--pdeathsig', 'SIGKILL', '--', ...probeClientArgv()]

  it('reports each attempt: answered, refused, timed out, a spare port, a UDP reply', async () => {
    const results = await runProbeClient(argv(), {
      attempts: [
        {ip: '172.30.77.2', port: 8080, protocol: 'tcp', ports: [20001, 20002]},
        {ip: '172.30.77.2', port: 8081, protocol: 'tcp', ports: [20003]},
        {ip: '172.30.77.9', port: 80, protocol: 'tcp', ports: [20004]},
        {ip: '172.30.77.2', port: 5353, protocol: 'udp', ports: [20005], payload: Buffer.from('hello').toString('base64')},
        {ip: '172.30.77.2', port: 5354, protocol: 'udp', ports: [20006], payload: Buffer.from('hello').toString('base64')},
      ],
      timeoutMs: 400,
      concurrency: 2,
    }, netns, journal)
    const byIndex = new Map(results.map((r) => [r.index, r]))
    // port 20001 is held by another socket in the namespace: the spare goes instead
    expect(byIndex.get(0)).toMatchObject({result: 'answered', sourcePort: 20002, sourceIp: '172.30.77.1'})
    expect(byIndex.get(1)).toMatchObject({result: 'refused', error: 'ECONNREFUSED', sourcePort: 20003})
    expect(byIndex.get(2)).toMatchObject({result: 'timedOut', sourcePort: 20004})
    expect(byIndex.get(2)!.ms).toBeGreaterThanOrEqual(390)
    expect(byIndex.get(3)).toMatchObject({result: 'answered', sourcePort: 20005, sourceIp: '172.30.77.1'})
    expect(Buffer.from(byIndex.get(3)!.reply!, 'base64').toString()).toBe('echo:hello')
    expect(byIndex.get(4)).toMatchObject({result: 'refused', error: 'ECONNREFUSED'})
    // journaled while it ran, gone now
    const entry = journal.entries.find((e) => e.kind === 'process')
    expect(entry).toMatchObject({kind: 'process', what: 'probe client'})
    if (entry?.kind === 'process') expect(await stillRunning(entry.pid, entry.startTime)).toBe(false)
  })

  it('refuses to send from a namespace it was not sent to', async () => {
    await expect(runProbeClient(argv(), {attempts: [{ip: '172.30.77.2', port: 8080, protocol: 'tcp', ports: [20010]}], timeoutMs: 400, concurrency: 1}, 'net:[1]', journal))
      .rejects.toThrow(ProbeClientError)
  })

  it('an abort kills the client and returns what finished', async () => {
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 300)
    const attempts = Array.from({length: 20}, (_, i) => ({ip: '172.30.77.9', port: 80, protocol: 'tcp' as const, ports: [20100 + i]}))
    const started = Date.now()
    const results = await runProbeClient(argv(), {attempts, timeoutMs: 5000, concurrency: 1}, netns, journal, stop.signal)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(results.length).toBeLessThan(20)
    const last = journal.entries.filter((e) => e.kind === 'process').at(-1)
    if (last?.kind === 'process') expect(await stillRunning(last.pid, last.startTime)).toBe(false)
  })

  it('the journal is removed on rollback', async () => {
    expect(await readdir(dir)).toEqual([`${journal.id}.json`])
    const {problems} = await journal.rollback()
    expect(problems).toEqual([])
    expect(await readdir(dir).catch(() => [])).toEqual([])
  })
})
