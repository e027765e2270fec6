// Looking inside pods with the node's own tools, on pods containerd really made: a distroless
// server (one static binary: no shell, no ls) and a busybox client that connects to it through a
// kube-proxy-shaped Service. `fs` reads the server's files (and its /etc/shadow through links,
// not the node's), `sockets` finds its listener held by its PID, `conntrack` shows the DNAT the
// Service rule made tied to both pods, `enter` runs the node's `ip` in the pod's network.
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Ajv} from 'ajv'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readCriView} from '../../src/cri/gather.js'
import type {CriView} from '../../src/cri/view.js'
import type {ConntrackRecord, FileContent, FileRecord, SocketRecord} from '../../src/inside/types.js'
import {
  ESCAPE_NAME, GREETING, SERVER_PORT, type ServiceRules, UNIX_SOCKET, addService, containerShadow, conntrackEntriesFor, deleteConntrackEntries,
  distrolessImage, removeService, serviceLeftovers,
} from './inside-node.js'
import {REPO, nodedoc, nodedocJson} from './node/cli.js'
import type {PodSpec} from './node/kubelet.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'
import type {PodState} from './node/state.js'

const tag = randomBytes(3).toString('hex')
const ns = `e2e-${tag}`
const namespaces = {apps: ns, system: `${ns}-system`}
const IMAGE = `nodedoc.local/distroless-server:${tag}`
const clusterIp = `10.96.${1 + randomBytes(1)[0] % 254}.${1 + randomBytes(1)[0] % 254}`
const specs: PodSpec[] = [
  {name: 'web', namespace: ns, labels: {app: 'web'}, containers: [{name: 'server', image: IMAGE, command: ['/server']}]},
  {
    name: 'client',
    namespace: ns,
    labels: {app: 'client'},
    emptyDirs: ['trigger'],
    containers: [{
      name: 'client',
      // connects once the Service exists (the test says so through the emptyDir), and holds the connection
      command: ['sh', '-c', `until [ -e /trigger/go ]; do sleep 0.2; done; sleep 100000 | nc ${clusterIp} 80 > /tmp/reply`],
      volumeMounts: [{name: 'trigger', mountPath: '/trigger'}],
    }],
  },
]

let node: TestNode | undefined
let rules: ServiceRules | undefined
let view: CriView
let web: PodState
let client: PodState
let serverPid: number
let snapshotDir: string | undefined

const ajv = new Ajv({allErrors: true})

/** A document that validates against its kind's JSON Schema in docs/schema/. */
function checked<D extends {kind: string}>(document: D): D {
  const validate = ajv.getSchema(document.kind) ?? ajv.addSchema(JSON.parse(readFileSync(join(REPO, 'docs/schema', `${document.kind}.schema.json`), 'utf8')), document.kind).getSchema(document.kind)!
  expect(validate(document), `${document.kind}: ${JSON.stringify(validate.errors)}`).toBe(true)
  return document
}

/** A nodedoc list document (apiVersion, kind, node, capturedAt, items), checked against its schema. */
const list = async <T>(args: string[]) => checked(await nodedocJson<{kind: string; items: T[]}>(args))

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 200))
  }
}

beforeAll(async () => {
  node = await nodeUp(namespaces, specs, [distrolessImage(IMAGE, tag)])
  web = node.pods.find((p) => p.name === 'web')!
  client = node.pods.find((p) => p.name === 'client')!
  view = await readCriView(node.cri)
  serverPid = view.containers.find((c) => c.id === web.containers[0].id)!.pid!
  rules = await addService(ns, 'web', clusterIp, web.ip!, tag)
  await writeFile(join(client.kubeletDir, 'volumes/kubernetes.io~empty-dir/trigger/go'), '')
  await waitFor('the client\'s connection through the Service', async () => {
    const lines = await conntrackEntriesFor([clusterIp])
    return lines.some((l) => l.includes('ESTABLISHED')) ? true : undefined
  })
})

afterAll(async () => {
  // the client's connection dies first, while the rules and the entries still NAT its last packets
  const clientId = client?.containers[0].id
  if (node && clientId) await node.cri.stopContainer(clientId, 0).catch(() => undefined)
  if (rules) await removeService(rules)
  node?.cri.close()
  const left = node ? await nodeDown() : []
  const addresses = [clusterIp, web?.ip, client?.ip].filter((a): a is string => !!a)
  await deleteConntrackEntries(addresses)
  if (snapshotDir) await rm(snapshotDir, {recursive: true, force: true})
  expect(left).toEqual([])
  if (rules) expect(await serviceLeftovers(rules)).toEqual([])
  expect(await conntrackEntriesFor(addresses)).toEqual([])
})

describe('nodedoc fs on a distroless container', () => {
  it('lists the root: the binary and data, no shell and no ls', async () => {
    const root = await list<FileRecord>(['fs', 'web', '-n', ns, '/'])
    expect(root.kind).toBe('FileList')
    const names = root.items.map((f) => f.name)
    expect(names).toEqual(expect.arrayContaining(['server', 'etc', 'app', 'data', 'run']))
    expect(names).not.toContain('bin')
    const server = root.items.find((f) => f.name === 'server')!
    expect(server).toMatchObject({path: '/server', type: 'file', mode: '0755', uid: 0, mount: {destination: '/', fsType: 'overlay'}, layer: {kind: 'lower', index: 0}})
    expect(server.size).toBeGreaterThan(100_000)
    const noShell = await nodedoc(['fs', 'web', '-n', ns, '/bin/sh'])
    expect(noShell.exitCode).toBe(1)
    expect(noShell.stderr).toMatch(/\/bin\/sh: no such file or directory in container server/)
  })

  it('reads a file of the image, and one the container wrote in its own layer', async () => {
    const hello = await list<FileContent>(['fs', 'web', '-n', ns, '/data/hello.txt', '--cat'])
    expect(hello.items[0]).toMatchObject({path: '/data/hello.txt', content: 'hello from the image\n', encoding: 'utf8', truncated: false})
    // into a pipe, byte for byte (execa keeps the final newline only when asked)
    const plain = await execa('node', [join(REPO, 'bin/run.js'), 'fs', 'web', '-n', ns, '/data/hello.txt', '--cat'], {stripFinalNewline: false})
    expect(plain.stdout).toBe('hello from the image\n')
    const run = await list<FileRecord>(['fs', 'web', '-n', ns, '/run'])
    expect(run.items.find((f) => f.name === 'started')).toMatchObject({type: 'file', size: 3, layer: {kind: 'upper'}})
    expect(run.items.find((f) => f.name === 'app.sock')).toMatchObject({type: 'socket'})
  })

  it('follows links to /etc/shadow inside the container: its file, never the node\'s', async () => {
    const hostShadow = await readFile('/etc/shadow', 'utf8')
    for (const link of ['/app/shadow-link', '/app/shadow-up']) {
      const read = await list<FileContent>(['fs', 'web', '-n', ns, link, '--cat'])
      expect(read.items[0]).toMatchObject({path: '/etc/shadow', requested: link, content: containerShadow(tag)})
      expect(read.items[0].content).not.toBe(hostShadow)
    }
    const asLink = await list<FileRecord>(['fs', 'web', '-n', ns, '/app/shadow-link'])
    expect(asLink.items[0]).toMatchObject({type: 'link', linkTarget: '/etc/shadow'})
  })

  it('names the mount each file is on, and withholds the service-account token unless asked', async () => {
    const hosts = await list<FileRecord>(['fs', 'web', '-n', ns, '/etc/hosts'])
    expect(hosts.items[0].mount).toMatchObject({destination: '/etc/hosts', source: join(web.kubeletDir, 'etc-hosts')})
    const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token'
    const hidden = await list<FileContent>(['fs', 'web', '-n', ns, tokenPath, '--cat'])
    expect(hidden.items[0]).toMatchObject({content: null, mount: {volume: {plugin: 'kubernetes.io/projected'}}})
    expect(hidden.items[0].withheld).toMatch(/--show-secrets/)
    const projected = join(web.kubeletDir, 'volumes/kubernetes.io~projected')
    const token = await readFile(join(projected, (await readdir(projected))[0], 'token'), 'utf8')
    const shown = await list<FileContent>(['fs', 'web', '-n', ns, tokenPath, '--cat', '--show-secrets'])
    expect(shown.items[0].content).toBe(token)
  })

  it('finds and sizes', async () => {
    const found = await list<FileRecord>(['fs', 'web', '-n', ns, '/', '--find', '*.txt'])
    expect(found.items.map((f) => f.path)).toEqual(['/data/hello.txt'])
    const du = await list<FileRecord>(['fs', 'web', '-n', ns, '/', '--du'])
    const server = du.items.find((f) => f.path === '/server')!
    expect(server.totalBytes).toBe(server.size)
    expect(du.items.find((f) => f.path === '/data')!.totalBytes).toBeGreaterThan('hello from the image\n'.length)
  })

  it('escapes a file name that is a terminal escape in the table', async () => {
    // -o wide: the default table shortens long names to fit 80 columns
    const table = await nodedoc(['fs', 'web', '-n', ns, '/data', '-o', 'wide'])
    expect(table.exitCode).toBe(0)
    expect(table.stdout).not.toContain('\u001b')
    expect(table.stdout).toContain('\\x1b[31mred\\x1b]0;owned\\x07')
    const json = await list<FileRecord>(['fs', 'web', '-n', ns, '/data'])
    expect(json.items.map((f) => f.name)).toContain(ESCAPE_NAME)
  })
})

describe('nodedoc sockets', () => {
  it('finds the server\'s listeners, held by the server container\'s PID', async () => {
    const sockets = await list<SocketRecord>(['sockets', 'web', '-n', ns, '--listening'])
    expect(sockets.kind).toBe('SocketList')
    const tcp = sockets.items.find((s) => s.protocol === 'tcp' && s.localPort === SERVER_PORT)
    expect(tcp).toMatchObject({state: 'LISTEN', localAddress: '0.0.0.0', family: 'ipv4', pod: {namespace: ns, name: 'web', uid: web.uid}})
    expect(tcp!.owners).toEqual([{pid: serverPid, fd: expect.any(Number), command: '/server', container: {name: 'server', id: web.containers[0].id}}])
    const unix = sockets.items.find((s) => s.protocol === 'unix' && s.path === UNIX_SOCKET)
    expect(unix).toMatchObject({state: 'LISTEN', type: 'stream'})
    expect(unix!.owners.map((o) => o.pid)).toEqual([serverPid])
  })

  it('shows the connection from both pods: the client to the Service, the server from the masquerading node', async () => {
    const all = await list<SocketRecord>(['sockets'])
    const out = all.items.find((s) => s.pod.name === 'client' && s.protocol === 'tcp' && s.peerAddress === clusterIp)
    expect(out).toMatchObject({state: 'ESTABLISHED', peerPort: 80, localAddress: client.ip})
    expect(out!.owners.map((o) => o.container?.name)).toEqual(['client'])
    expect(out!.owners[0].command).toMatch(/^nc /)
    const accepted = all.items.find((s) => s.pod.name === 'web' && s.protocol === 'tcp' && s.state === 'ESTABLISHED')
    expect(accepted).toMatchObject({localAddress: web.ip, localPort: SERVER_PORT})
    expect(accepted!.owners.map((o) => o.pid)).toEqual([serverPid])
  })

  it('gives the same sockets from a snapshot; fs there says it has no files', async () => {
    snapshotDir = await mkdtemp(join(tmpdir(), `nodedoc-inside-${tag}-`))
    const snap = join(snapshotDir, 'snap')
    const made = await nodedoc(['snapshot', '-o', snap])
    expect(made.exitCode, made.stderr).toBe(0)
    const live = await list<SocketRecord>(['sockets', 'web', '-n', ns, '-l'])
    const replayed = await list<SocketRecord>(['sockets', 'web', '-n', ns, '-l', '--from', snap])
    expect(replayed.items).toEqual(live.items)
    const fs = await nodedoc(['fs', 'web', '-n', ns, '/etc', '--from', snap])
    expect(fs.exitCode).toBe(3)
    expect(fs.stderr).toMatch(/snapshot never records file contents/)
  })
})

describe('default tables', () => {
  it('fit 80 columns; -o wide shows what they shortened', async () => {
    for (const args of [['fs', 'web', '-n', ns, '/'], ['fs', 'web', '-n', ns, '/', '--du'], ['sockets'], ['sockets', 'web', '-n', ns, '-l'], ['conntrack', 'client', '-n', ns]]) {
      const table = await nodedoc(args)
      expect(table.exitCode, `${args.join(' ')}: ${table.stderr}`).toBe(0)
      expect(Math.max(...table.stdout.split('\n').map((l) => l.length)), table.stdout).toBeLessThanOrEqual(80)
      const wide = await nodedoc([...args, '-o', 'wide'])
      expect(wide.stdout.replace(/\s+/g, ' ').length).toBeGreaterThanOrEqual(table.stdout.replace(/\s+/g, ' ').length)
    }
  })
})

describe('nodedoc conntrack', () => {
  it('shows the DNAT the Service rule made, tied to the client and server pods', async () => {
    const entries = await list<ConntrackRecord>(['conntrack', 'client', '-n', ns])
    expect(entries.kind).toBe('ConntrackEntryList')
    const entry = entries.items.find((e) => e.original.dst === clusterIp)
    expect(entry).toMatchObject({
      protocol: 'tcp',
      state: 'ESTABLISHED',
      original: {src: client.ip, dst: clusterIp, dport: 80},
      reply: {src: web.ip, sport: SERVER_PORT},
      nat: {dnat: true, snat: true},
      client: {pod: {namespace: ns, name: 'client', uid: client.uid}, address: client.ip},
      server: {pod: {namespace: ns, name: 'web', uid: web.uid}, address: web.ip},
    })
    expect(entry!.flags).toContain('ASSURED')
    // the connection is real: the client (busybox) got the server's greeting through it
    const reply = await list<FileContent>(['fs', 'client', '-n', ns, '/tmp/reply', '--cat'])
    expect(reply.items[0].content).toBe(`${GREETING}\n`)
  })

  it('finds the same entry by the Service, and from the server\'s side', async () => {
    const bySvc = await list<ConntrackRecord>(['conntrack', '--svc', `${ns}/web`])
    expect(bySvc.items.map((e) => [e.original.src, e.reply.src, e.service])).toEqual([[client.ip, web.ip, `${ns}/web:http`]])
    const byServer = await list<ConntrackRecord>(['conntrack', 'web', '-n', ns])
    expect(byServer.items.some((e) => e.original.dst === clusterIp && e.client?.pod.name === 'client')).toBe(true)
    const table = await nodedoc(['conntrack', 'web', '-n', ns, '-o', 'wide'])
    expect(table.stdout).toMatch(new RegExp(`tcp\\s+ESTABLISHED\\s+${client.ip!.replace(/\./g, '\\.')}:\\d+ -> ${clusterIp.replace(/\./g, '\\.')}:80`))
  })

  it('says a Service that is not there is not found', async () => {
    const missing = await nodedoc(['conntrack', '--svc', `${ns}/nope`])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toMatch(/service .*nope not found/)
  })
})

describe('nodedoc enter', () => {
  it('runs the node\'s ip in the pod\'s network namespace', async () => {
    const result = await nodedoc(['enter', 'web', '-n', ns, '--', 'ip', '-j', 'addr'])
    expect(result.exitCode, result.stderr).toBe(0)
    const links = JSON.parse(result.stdout) as Array<{ifname: string; addr_info: Array<{family: string; local: string}>}>
    const eth0 = links.find((l) => l.ifname === 'eth0')
    expect(eth0?.addr_info.find((a) => a.family === 'inet')?.local).toBe(web.ip)
    expect(links.map((l) => l.ifname).sort()).toEqual(['eth0', 'lo'])
    expect(result.stderr).toMatch(/^entered net:\[\d+\] of pod e2e-\w+\/web \(the pod sandbox, pid \d+\)/m)
  })

  it('passes the program\'s exit code through, and says what it entered as JSON with -o json', async () => {
    const result = await nodedoc(['enter', 'web', '-n', ns, '-c', 'server', '--uts', '-o', 'json', '--', 'sh', '-c', 'hostname; exit 7'])
    expect(result.exitCode).toBe(7)
    expect(result.stdout.trim()).toBe('web')
    const said = checked(JSON.parse(result.stderr))
    expect(said.items[0]).toMatchObject({pid: serverPid, container: {name: 'server'}, namespaces: [{type: 'uts', file: `/proc/${serverPid}/ns/uts`}]})
  })

  it('refuses no program, a snapshot and a pod that is not there', async () => {
    const none = await nodedoc(['enter', 'web', '-n', ns])
    expect(none.exitCode).toBe(2)
    const fromSnapshot = await nodedoc(['enter', 'web', '-n', ns, '--from', join(snapshotDir!, 'snap'), '--', 'true'])
    expect(fromSnapshot.exitCode).toBe(2)
    expect(fromSnapshot.stderr).toMatch(/live node/)
    const missing = await nodedoc(['enter', 'nope', '-n', ns, '--', 'true'])
    expect(missing.exitCode).toBe(1)
  })
})
