// npm run node:snapshot — brings the test node up, records `nodedoc snapshot` of it into
// examples/containerd-node, and beside it what the live CLI answered (examples/containerd-node.live.json)
// so a test can check that the snapshot still gives the same answers. Then takes the node down.
import {readdir, readFile, rm, writeFile, rename} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {nodedoc, nodedocJson, REPO} from '../test/e2e/node/cli.js'
import {nodeDown, nodeUp} from '../test/e2e/node/node.js'
import type {PodReport, ProcessRecord} from '../src/pods/types.js'

const TARGET = join(REPO, 'examples/containerd-node')
const LIVE = join(REPO, 'examples/containerd-node.live.json')
/** Words that would mean something of the machine around the node slipped into the example. */
const FOREIGN = /process_api|firecracker|vsock|\/mnt\/sandboxing/

/**
 * Keeps the processes of the node's pods, containerd and its shims (less their cgroup file,
 * which names the VM session they were started from), and kthreadd (it names the node's
 * namespaces). PID 1 keeps only its mount table (less the VM tooling's own mounts) and cgroup;
 * every other process (this VM's own services, the shell that ran the snapshot) is dropped.
 */
async function prune(dir: string): Promise<string[]> {
  const proc = join(dir, 'fs/proc')
  const dropped: string[] = []
  for (const entry of await readdir(proc)) {
    if (!/^\d+$/.test(entry) || entry === '2') continue
    const cgroup = await readFile(join(proc, entry, 'cgroup'), 'utf8').catch(() => '')
    if (entry === '1') {
      for (const file of await readdir(join(proc, entry))) if (!['mountinfo', 'cgroup'].includes(file)) await rm(join(proc, entry, file), {recursive: true})
      // the VM's own tooling mounts are no part of the node
      const mountinfo = join(proc, entry, 'mountinfo')
      const lines = (await readFile(mountinfo, 'utf8')).split('\n')
      await writeFile(mountinfo, lines.filter((l) => !FOREIGN.test(l)).join('\n'))
      continue
    }
    if (cgroup.includes('/kubepods/')) continue
    const argv0 = (await readFile(join(proc, entry, 'cmdline'), 'utf8').catch(() => '')).split('\0')[0]
    if (/(^|\/)containerd(-shim-runc-v2)?$/.test(argv0)) {
      // the runtime is part of the node (net reads its --config); its cgroup is the VM session's
      await rm(join(proc, entry, 'cgroup'), {force: true})
      continue
    }
    await rm(join(proc, entry), {recursive: true, force: true})
    dropped.push(`/proc/${entry}`)
  }
  const statFile = join(dir, 'stat.json')
  const stats = JSON.parse(await readFile(statFile, 'utf8')) as Record<string, unknown>
  for (const key of Object.keys(stats)) {
    if (/^\/proc\/\d+\/cgroup$/.test(key) && !(await readFile(join(dir, 'fs', key)).then(() => true, () => false))) delete stats[key]
    if (dropped.some((d) => key === d || key.startsWith(d + '/')) || /^\/proc\/1\/(?!mountinfo|cgroup)/.test(key)) delete stats[key]
  }
  await writeFile(statFile, JSON.stringify(stats, null, 1) + '\n')
  return dropped
}

/** Pod cgroups and log dirs on this machine that are not the test node's. */
async function foreignPods(ours: Set<string>): Promise<string[]> {
  const foreign: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, {withFileTypes: true}).catch(() => [])) {
      if (!e.isDirectory()) continue
      if (e.name.startsWith('pod')) {
        if (!ours.has(e.name.slice(3))) foreign.push(join(dir, e.name))
      } else if (e.name === 'burstable' || e.name === 'besteffort') await walk(join(dir, e.name))
    }
  }
  await walk('/sys/fs/cgroup/memory/kubepods')
  for (const d of (await readdir('/var/log/pods').catch(() => [])) as string[]) if (!ours.has(d.split('_').at(-1)!)) foreign.push(join('/var/log/pods', d))
  for (const n of (await readdir('/run/netns').catch(() => [])) as string[]) if (!ourNetns.has(n)) foreign.push(join('/run/netns', n))
  const links = JSON.parse((await execa('ip', ['-j', 'link', 'show'])).stdout) as Array<{ifname: string}>
  for (const {ifname} of links) if (!OUR_LINKS.test(ifname)) foreign.push(`link ${ifname}`)
  return foreign
}

/** The node's links: the CNI bridge and its veth<8 hex> ends; the rest is the machine's own. */
const OUR_LINKS = /^(lo|eth\d+|ifb\d+|cni0|veth[0-9a-f]{8})$/
let ourNetns = new Set<string>()

async function waitAlone(ours: Set<string>): Promise<void> {
  const deadline = Date.now() + 300_000
  for (;;) {
    const foreign = await foreignPods(ours)
    if (foreign.length === 0) return
    if (Date.now() > deadline) throw new Error(`other pods stay on this machine: ${foreign.join(', ')}`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}

async function scan(dir: string): Promise<string[]> {
  const hits: string[] = []
  for (const entry of await readdir(dir, {withFileTypes: true, recursive: true})) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    if (FOREIGN.test(await readFile(path, 'utf8').catch(() => ''))) hits.push(path)
  }
  return hits
}

try {
  const node = await nodeUp()
  try {
    // let the duo pod's writer put a few lines in its log
    await new Promise((r) => setTimeout(r, 3000))
    const tmp = `${TARGET}.tmp`
    const ours = new Set(node.pods.map((p) => p.uid))
    ourNetns = new Set(node.pods.filter((p) => p.netnsPath).map((p) => p.netnsPath!.split('/').at(-1)!))
    let live: {pods: Record<string, PodReport>; ps: ProcessRecord[]; net: unknown}
    // other tests on this machine make pods of their own: answer and snapshot only while ours are alone
    for (let attempt = 1; ; attempt++) {
      await waitAlone(ours)
      live = {pods: {}, ps: [], net: await nodedocJson(['net'])}
      for (const pod of node.pods) live.pods[`${pod.namespace}/${pod.name}`] = await nodedocJson<PodReport>(['pod', pod.name, '-n', pod.namespace, '-r', node.endpoint])
      live.ps = (await nodedocJson<ProcessRecord[]>(['ps', '-r', node.endpoint])).filter((p) => p.pod && ours.has(p.pod.uid))
      await rm(tmp, {recursive: true, force: true})
      const snap = await nodedoc(['snapshot', '-o', tmp])
      if (snap.exitCode !== 0) throw new Error(`nodedoc snapshot failed: ${snap.stderr}`)
      const seen = await nodedocJson<ProcessRecord[]>(['ps', '--from', tmp])
      const logDirs = (await readdir(join(tmp, 'fs/var/log/pods')).catch(() => [])) as string[]
      const netns = (await readdir(join(tmp, 'fs/run/netns')).catch(() => [])) as string[]
      if (seen.every((p) => !p.pod || ours.has(p.pod.uid)) && logDirs.every((d) => ours.has(d.split('_').at(-1)!)) && netns.every((n) => ourNetns.has(n)) && (await foreignPods(ours)).length === 0) break
      if (attempt === 5) throw new Error('other pods kept appearing on this machine; try again later')
    }
    await prune(tmp)
    const foreign = await scan(tmp)
    if (foreign.length) throw new Error(`the snapshot still names the machine around the node:\n  ${foreign.join('\n  ')}`)
    await rm(TARGET, {recursive: true, force: true})
    await rename(tmp, TARGET)
    await writeFile(LIVE, JSON.stringify({capturedAt: new Date().toISOString(), runtime: await node.cri.version(), ...live}, null, 1) + '\n')
    process.stdout.write(`example written to ${TARGET} (live answers: ${LIVE})\n`)
  } finally {
    node.cri.close()
  }
} catch (error) {
  process.stderr.write(`node:snapshot: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  const left = await nodeDown()
  if (left.length) {
    process.stderr.write(`node:snapshot: left behind:\n  ${left.join('\n  ')}\n`)
    process.exitCode = 1
  }
}
