// Thousands of mutations of real inputs (../shared/corpus, the example snapshot) through every
// parser and through the snapshot reader with every command's gather step behind it. A parser
// may refuse input only with its own documented error; nothing may throw anything else, and
// no single call may run past its time bound (a regular expression gone exponential, a loop
// that never ends). Deterministic: the seed is printed, NODEDOC_FUZZ_SEED replays a run.
import {cpSync, existsSync, linkSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import {join, relative, resolve} from 'node:path'
import {gzipSync, gunzipSync} from 'node:zlib'
import * as tar from 'tar'
import {describe, expect, it} from 'vitest'
import {parseBusyboxList} from '../../../src/parse/busybox.js'
import {cgroupVersionOf, identifyCgroupPath, identifyProcCgroup, parseProcCgroup} from '../../../src/parse/cgroup.js'
import {parseCfsQuota, parseCgroupNumber, parseCpuMax, parseFlatKeyed} from '../../../src/parse/cgroup-files.js'
import {CriLogError, parseCriLine, parseCriLog} from '../../../src/parse/cri-log.js'
import {IptablesParseError, parseIptablesSave} from '../../../src/parse/iptables.js'
import {IpvsParseError, parseIpvsadm} from '../../../src/parse/ipvs.js'
import {JsonShapeError} from '../../../src/parse/json.js'
import {parseKubeletVolumePath} from '../../../src/parse/kubelet-paths.js'
import {parseLdd} from '../../../src/parse/ldd.js'
import {parseContainerLogLinkName, parseLegacyLogFileName, parseLogFileName, parsePodLogDirName} from '../../../src/parse/log-files.js'
import {parseMemTotal} from '../../../src/parse/meminfo.js'
import {hostSourceOf, identifyFromMountinfo, isReadOnly, overlayLayers, parseMountinfo, propagation} from '../../../src/parse/mountinfo.js'
import {parseFibTrieLocal, parseIfInet6, parseIgmpIfindex, parseIpLinkJson, parseNetDev, parseNetnsListId} from '../../../src/parse/net.js'
import {NftParseError} from '../../../src/parse/nft.js'
import {parseRuntimeConfig} from '../../../src/parse/oci-config.js'
import {parseCmdline, parseNamespaceLink, parseProcStat, parseProcStatus} from '../../../src/parse/proc.js'
import {longestPrefixMatch, parseIpRouteJson, parseIpRouteText, parseProcNetRoute} from '../../../src/parse/route.js'
import {parseCniConfig} from '../../../src/net/cni-config.js'
import {recognise} from '../../../src/report/shapes.js'
import {ManifestError, parsePodManifest} from '../../../src/sandbox/manifest.js'
import {traceIptables} from '../../../src/svc/iptables-trace.js'
import {traceIpvs} from '../../../src/svc/ipvs-trace.js'
import {traceKubeProxyNft} from '../../../src/svc/nft-trace.js'
import {criViewProblem} from '../../../src/cri/schema.js'
import {SchemaError, parseMeta, parseStats} from '../../../src/host/snapshot-schema.js'
import {SnapshotError, SnapshotHost} from '../../../src/host/snapshot.js'
import {SNAPSHOT_GATHERERS} from '../../../src/snapshot/gatherers.js'
import {CORPUS, HAVE_CORPUS, NO_CORPUS_MESSAGE} from '../../helpers/corpus.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const ROOT = resolve(__dirname, '../../..')
const EXAMPLE = join(ROOT, 'examples/containerd-node')
const SEED = Number(process.env.NODEDOC_FUZZ_SEED ?? Date.now() % 2 ** 31)
/** mutations per parser target: thousands over all targets, a few seconds in all */
const PER_TARGET = Number(process.env.NODEDOC_FUZZ_ROUNDS ?? 250)
/** no single parse of a (small) mutated input may take longer than this */
const CALL_BOUND_MS = 250

process.stderr.write(`fuzz: seed ${SEED} (NODEDOC_FUZZ_SEED=${SEED} replays it)\n`)

// mulberry32: small, seedable, good enough to pick mutations
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = rng(SEED)
const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]
const below = (n: number) => Math.floor(random() * Math.max(1, n))

// what hostile input tends to hold: path tricks, terminal escapes, separators, extreme numbers
const TOKENS = [
  '..', '../../..', '/', '//', '\0', '\n', '\r\n', '\t', ' ', '\x1b]0;x\x07', '\x1b[2J', '\u202e', '\uFFFD', '\xff', '{', '}', '[', ']', '"', ':', ',', '-',
  'null', 'true', '[]', '{}', '"x"', '0', '-1', '4294967296', '1e309', '99999999999999999999999', 'NaN', '0x', 'P', 'F', 'stdout', ' P ', ' F ',
  '-A KUBE-SERVICES', '-j DNAT --to-destination', ':KUBE-SVC-X - [0:0]', '*nat', 'COMMIT', 'TCP  10.0.0.1:80 rr', '  -> 10.1.1.1:80', 'table ip kube-proxy {', '}',
  'pod00000000-0000-0000-0000-000000000000', '/kubepods/burstable/', '.slice', ':cri-containerd:', '0::/', '12:memory:/', 'overlay', 'lowerdir=', 'shared:1', 'master:2', '- ',
  'x'.repeat(5000), '\\', '\\012', '%2F', '*', '?', '\u0085', '\u2028',
]

function mutate(input: Buffer, others: Buffer[]): Buffer {
  let data = input
  const steps = 1 + below(4)
  for (let s = 0; s < steps; s++) {
    const at = below(data.length + 1)
    switch (below(8)) {
      case 0: { // flip bytes
        data = Buffer.from(data)
        for (let i = 0; i < 1 + below(4) && data.length; i++) data[below(data.length)] ^= 1 << below(8)
        break
      }
      case 1: // insert a token
        data = Buffer.concat([data.subarray(0, at), Buffer.from(pick(TOKENS), 'latin1'), data.subarray(at)])
        break
      case 2: // delete a range
        data = Buffer.concat([data.subarray(0, at), data.subarray(at + below(64))])
        break
      case 3: { // duplicate a range
        const len = below(256)
        data = Buffer.concat([data.subarray(0, at + len), data.subarray(at, at + len), data.subarray(at + len)])
        break
      }
      case 4: // truncate
        data = data.subarray(0, at)
        break
      case 5: { // splice in part of another input
        const other = pick(others)
        const from = below(other.length)
        data = Buffer.concat([data.subarray(0, at), other.subarray(from, from + below(512)), data.subarray(at)])
        break
      }
      case 6: { // a number made extreme
        const text = data.toString('latin1')
        const m = /\d+/g
        m.lastIndex = at
        const found = m.exec(text)
        if (found) data = Buffer.concat([data.subarray(0, found.index), Buffer.from(pick(['-1', '0', '18446744073709551616', '1e400', '-0', '007'])), data.subarray(found.index + found[0].length)])
        break
      }
      default: { // swap two lines
        const lines = data.toString('latin1').split('\n')
        if (lines.length > 1) {
          const i = below(lines.length)
          const j = below(lines.length)
          ;[lines[i], lines[j]] = [lines[j], lines[i]]
          data = Buffer.from(lines.join('\n'), 'latin1')
        }
      }
    }
  }
  return data
}

type Refusal = abstract new (...args: never[]) => Error

interface Target {
  name: string
  /** inputs to mutate: corpus files and example snapshot files of that kind */
  inputs: Buffer[]
  run: (text: string, bytes: Buffer) => unknown
  /** the documented ways to refuse input */
  refusals?: Refusal[]
}

function files(dir: string, match: (path: string) => boolean = () => true, limit = 64 * 1024): Buffer[] {
  if (!existsSync(dir)) return []
  const out: Buffer[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile() && match(p) && !p.endsWith('.source.txt') && !p.endsWith('.expect.yaml') && statSync(p).size <= limit) out.push(readFileSync(p))
    }
  }
  walk(dir)
  return out
}

const corpus = (folder: string) => files(join(CORPUS, folder))
const example = (match: RegExp) => files(join(EXAMPLE, 'fs'), (p) => match.test(p))
const cmd = (match: RegExp) => files(join(EXAMPLE, 'cmd'), (p) => match.test(p), 8 * 1024 * 1024)

const TARGETS: Target[] = [
  {name: 'proc stat/status/cmdline', inputs: example(/\/proc\/\d+\/(stat|status|cmdline)$/), run: (t) => [parseProcStat(t), parseProcStatus(t), parseCmdline(t), parseNamespaceLink(t)]},
  {name: 'cgroup', inputs: [...corpus('cgroup'), ...example(/\/cgroup$/)], run: (t) => {
    const entries = parseProcCgroup(t)
    return [identifyProcCgroup(entries), cgroupVersionOf(entries), ...t.split('\n').map(identifyCgroupPath)]
  }},
  {name: 'cgroup files', inputs: example(/\/sys\/fs\/cgroup\//), run: (t) => [parseCgroupNumber(t), parseFlatKeyed(t), parseCpuMax(t), parseCfsQuota(t)]},
  {name: 'mountinfo', inputs: [...corpus('mountinfo'), ...corpus('mounts'), ...example(/mountinfo$/)], run: (t) => {
    const {mounts} = parseMountinfo(t)
    return [mounts.map((m) => [isReadOnly(m), propagation(m), overlayLayers(m), hostSourceOf(m, mounts)]), identifyFromMountinfo(mounts, (root) => identifyCgroupPath(root).containerId)]
  }},
  {name: '/proc/<pid>/net', inputs: example(/\/net\/(fib_trie|dev|if_inet6|igmp|route)$/), run: (t) => [parseFibTrieLocal(t), parseNetDev(t), parseIfInet6(t), parseIgmpIfindex(t), longestPrefixMatch(parseProcNetRoute(t), '10.0.0.1')]},
  {name: 'ip -j link/netns', inputs: cmd(/ip -j (-d link|netns)/), run: (t) => [parseIpLinkJson(t), parseNetnsListId(t)], refusals: [JsonShapeError]},
  {name: 'ip -j route', inputs: [...cmd(/route/), ...corpus('routes')], run: (t) => {
    const routes = parseIpRouteJson(t)
    return [routes, longestPrefixMatch(routes, '10.244.1.7'), longestPrefixMatch(routes, 'fd00::1')]
  }, refusals: [JsonShapeError]},
  {name: 'ip route text', inputs: corpus('routes'), run: (t) => longestPrefixMatch(parseIpRouteText(t), '192.168.1.1')},
  {name: 'kubelet paths and log names', inputs: [...corpus('mountinfo'), Buffer.from('/var/lib/kubelet/pods/0000/volumes/kubernetes.io~empty-dir/cache\ndefault_web_00000000-0000-4000-8000-000000000001\n0.log.20240501-100000.gz\nweb_default_nginx-' + 'a'.repeat(64) + '.log')],
    run: (t) => t.split(/[\n ]/).map((w) => [parseKubeletVolumePath(w), parsePodLogDirName(w), parseLogFileName(w), parseLegacyLogFileName(w), parseContainerLogLinkName(w)])},
  {name: 'iptables-save -> trace', inputs: [...corpus('kube-proxy-iptables'), ...corpus('real-iptables-save'), ...cmd(/iptables.*save\.out$/)], run: (t) => traceIptables(parseIptablesSave(t)), refusals: [IptablesParseError]},
  {name: 'nft -> trace', inputs: [...corpus('kube-proxy-nftables'), ...cmd(/^.*nft.*\.out$/)], run: (t) => traceKubeProxyNft(t), refusals: [NftParseError]},
  {name: 'ipvsadm -> trace', inputs: [...corpus('ipvs'), ...cmd(/ipvsadm/)], run: (t) => [parseIpvsadm(t), traceIpvs(t)], refusals: [IpvsParseError]},
  {name: 'cri log', inputs: [...corpus('cri-logs'), ...files(join(EXAMPLE, 'fs/var/log'))], run: (_t, b) => [parseCriLog(b), parseCriLog(b.toString('utf8')), b.toString('utf8').split('\n').map((l) => {
    try {
      return parseCriLine(l)
    } catch (error) {
      if (!(error instanceof CriLogError)) throw error
      return null
    }
  })]},
  {name: 'runtime config.json', inputs: files(join(EXAMPLE, 'fs'), (p) => p.endsWith('config.json')), run: (t) => parseRuntimeConfig(t), refusals: [SyntaxError]},
  // the conflist the containerd test node writes (docs/test-node.md)
  {name: 'CNI config', inputs: [...files(join(EXAMPLE, 'fs/etc/cni')), Buffer.from(JSON.stringify({cniVersion: '0.4.0', name: 'containerd-net', plugins: [{type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: true, ipam: {type: 'host-local', ranges: [[{subnet: '10.88.0.0/16'}]], routes: [{dst: '0.0.0.0/0'}]}}, {type: 'portmap', capabilities: {portMappings: true}}]}))],
    run: (t) => [parseCniConfig('10-x.conflist', t), parseCniConfig('10-x.conf', t)]},
  {name: 'meminfo, ldd, busybox', inputs: example(/meminfo$/), run: (t) => [parseMemTotal(t), parseLdd(t), parseBusyboxList(t)]},
  {name: 'CRI answer', inputs: files(join(EXAMPLE, 'answers')), run: (t) => criViewProblem(JSON.parse(t)), refusals: [SyntaxError]},
  {name: 'report input', inputs: [readFileSync(join(ROOT, 'examples/containerd-node.live.json'))], run: (t) => recognise(JSON.parse(t)), refusals: [SyntaxError]},
  {name: 'snapshot meta/stat', inputs: [readFileSync(join(EXAMPLE, 'meta.json')), readFileSync(join(EXAMPLE, 'stat.json'))], run: (t) => [parseMeta(t, 'meta.json'), parseStats(t, 'stat.json')], refusals: [SchemaError]},
  {name: 'pod manifest', inputs: files(join(ROOT, 'test'), (p) => /\.ya?ml$/.test(p) && /kind: Pod/.test(readFileSync(p, 'utf8'))), run: (t) => parsePodManifest(t, 'pod.yaml'), refusals: [ManifestError]},
]

function refusedAsDocumented(error: unknown, refusals: Refusal[] = []): boolean {
  return refusals.some((r) => error instanceof r)
}

describe('fuzz: parsers', () => {
  if (!HAVE_CORPUS) it.skip(NO_CORPUS_MESSAGE, () => undefined)

  it.each(TARGETS.map((t) => [t.name, t] as const))('%s: no undocumented exception, no call over its time bound', (_name, target) => {
    expect(target.inputs.length, 'inputs to mutate').toBeGreaterThan(0)
    const pool = TARGETS.flatMap((t) => t.inputs)
    const failures: string[] = []
    for (let i = 0; i < PER_TARGET && failures.length < 5; i++) {
      const bytes = mutate(pick(target.inputs), pool)
      const text = bytes.toString('utf8')
      const started = performance.now()
      try {
        JSON.stringify(target.run(text, bytes), (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? [...v] : v))
      } catch (error) {
        if (!refusedAsDocumented(error, target.refusals)) failures.push(`${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}\n  input: ${JSON.stringify(text.slice(0, 300))}`)
      }
      const ms = performance.now() - started
      if (ms > CALL_BOUND_MS) failures.push(`took ${ms.toFixed(0)} ms on ${bytes.length} bytes: ${JSON.stringify(text.slice(0, 200))}`)
    }
    expect(failures, `seed ${SEED}`).toEqual([])
  })
})

// The snapshot reader and every gather step behind it: a hand-over snapshot mutated file by
// file and in structure (links in and out, FIFOs, hard links, folders for files), and the
// archive mutated as a tar stream. Only SnapshotError may stop a command; anything else is a
// crash a hostile snapshot could cause.
describe('fuzz: snapshot reader', () => {
  let all: string[] = []
  let texts: Buffer[] = []
  const work = tempFolder('nodedoc-fuzz-', () => {
    writeFileSync(secret, 'SECRET-OUTSIDE-THE-SNAPSHOT\n')
    cpSync(EXAMPLE, snap, {recursive: true, verbatimSymlinks: true})
    all = (() => {
      const out: string[] = []
      const walk = (d: string) => {
        for (const e of readdirSync(d, {withFileTypes: true})) {
          const p = join(d, e.name)
          if (e.isDirectory()) walk(p)
          else out.push(relative(snap, p))
        }
      }
      walk(snap)
      return out
    })()
    texts = all.filter((p) => statSync(join(snap, p), {throwIfNoEntry: false})?.isFile()).map((p) => readFileSync(join(snap, p))).filter((b) => b.length < 64 * 1024)
  })
  const secret = join(work, 'secret')
  const snap = join(work, 'snap')

  async function replay(source: string): Promise<string> {
    let host: SnapshotHost
    try {
      host = await SnapshotHost.open(source)
    } catch (error) {
      if (error instanceof SnapshotError) return 'refused'
      throw error
    }
    const answers: unknown[] = []
    for (const {name, gather} of SNAPSHOT_GATHERERS) {
      try {
        answers.push(await gather(host))
      } catch (error) {
        if (error instanceof SnapshotError) return 'refused'
        throw new Error(`gather ${name}: ${(error as Error).stack}`, {cause: error})
      }
    }
    const shown = JSON.stringify(answers, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? [...v] : v))
    expect(shown).not.toContain('SECRET-OUTSIDE-THE-SNAPSHOT')
    return 'read'
  }

  // each round replays every gather step (about 0.5 s): enough rounds to matter, few enough for a unit run
  const ROUNDS = Number(process.env.NODEDOC_FUZZ_SNAPSHOT_ROUNDS ?? 24)

  it(`folder: ${ROUNDS} mutated files and structures, then every gather step`, async () => {
    const started = performance.now()
    const outcomes = {read: 0, refused: 0}
    for (let i = 0; i < ROUNDS; i++) {
      const rel = pick(all)
      const path = join(snap, rel)
      const original = statSync(path, {throwIfNoEntry: false})?.isFile() ? readFileSync(path) : undefined
      const kind = below(8)
      try {
        unlinkSync(path)
      } catch {}
      if (kind === 0) symlinkSync(secret, path) // absolute, out: re-rooted, so absent
      else if (kind === 1) symlinkSync('../'.repeat(12) + secret.slice(1), path) // relative, climbing out
      else if (kind === 2) linkSync(secret, path) // a hard link to a file outside
      else if (kind === 3) execFileSync('mkfifo', [path])
      else if (kind === 4) symlinkSync(rel.split('/').at(-1)!, path) // a link to itself
      else writeFileSync(path, mutate(original ?? Buffer.from(''), texts))
      const callStarted = performance.now()
      outcomes[(await replay(snap)) as 'read' | 'refused']++
      expect(performance.now() - callStarted, `${rel} (mutation ${kind})`).toBeLessThan(10_000)
      unlinkSync(path)
      if (original) writeFileSync(path, original)
      else cpSync(join(EXAMPLE, rel), path, {verbatimSymlinks: true})
    }
    process.stderr.write(`fuzz: folder snapshot, ${ROUNDS} mutations in ${((performance.now() - started) / 1000).toFixed(1)} s (${outcomes.read} read, ${outcomes.refused} refused)\n`)
  }, 120_000)

  it(`archive: ${ROUNDS} mutated tar streams, then every gather step`, async () => {
    const started = performance.now()
    const archive = join(work, 'pristine.tar.gz')
    await tar.c({gzip: true, file: archive, cwd: EXAMPLE, portable: true}, readdirSync(EXAMPLE))
    const stream = gunzipSync(readFileSync(archive))
    const outcomes = {read: 0, refused: 0}
    for (let i = 0; i < ROUNDS; i++) {
      const mutated = join(work, `m${i}.tar.gz`)
      // mutate the tar stream itself (headers, sizes, names), a few bytes or ranges at a time
      writeFileSync(mutated, gzipSync(mutate(stream, [stream.subarray(0, 4096)]), {level: 1}))
      const callStarted = performance.now()
      outcomes[(await replay(mutated)) as 'read' | 'refused']++
      expect(performance.now() - callStarted).toBeLessThan(10_000)
      rmSync(mutated)
    }
    process.stderr.write(`fuzz: archive snapshot, ${ROUNDS} mutations in ${((performance.now() - started) / 1000).toFixed(1)} s (${outcomes.read} read, ${outcomes.refused} refused)\n`)
  }, 120_000)
})
