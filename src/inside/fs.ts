import picomatch from 'picomatch'
import type {Host} from '../host/host.js'
import {InRootError} from '../host/in-root.js'
import {type RootEntry, type RootReader, rootReader} from '../host/root-reader.js'
import type {MountRecord} from '../pods/types.js'
import {InsideError, type PodTarget} from './target.js'
import type {FileContent, FileRecord, OverlayLayer, OwningMount} from './types.js'

// A container's files as the container sees them: read through /proc/<pid>/root of its main
// process, which is the container's "/" in its own mount namespace (every volume, secret and
// bind mount in place), every path resolved inside it (src/host/in-root.ts). Nothing runs in
// the container and nothing in it is needed: a distroless image with no shell reads the same.

export interface FsQuery {
  path: string
  cat?: boolean
  find?: string
  du?: boolean
  showSecrets?: boolean
  /** --cat: bytes read at most */
  maxBytes: number
  /** entries listed, matched or walked at most */
  limit: number
}

export type FsResult = {kind: 'FileList'; items: FileRecord[]} | {kind: 'FileContentList'; items: FileContent[]}

/** Filesystems whose "files" are the kernel's: --find and --du do not walk into them. */
const VIRTUAL = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'debugfs', 'tracefs', 'securityfs', 'bpf', 'configfs', 'fusectl', 'pstore'])
const MAX_DEPTH = 64
const LAYER_LOOKUP_LIMIT = 500

/** The mount a container path is under: the longest destination that holds it, the last mounted on a tie. */
export function owningMount(mounts: MountRecord[], path: string): MountRecord | undefined {
  let best: MountRecord | undefined
  for (const m of mounts) {
    const d = m.destination
    const holds = d === '/' || path === d || path.startsWith(d.endsWith('/') ? d : `${d}/`)
    if (holds && (!best || d.length >= best.destination.length)) best = m
  }
  return best
}

function mountOf(m: MountRecord | undefined): OwningMount | null {
  return m ? {destination: m.destination, source: m.source, fsType: m.fsType, readOnly: m.readOnly, volume: m.volume} : null
}

/**
 * Whether a file's content is a credential: anything in a secret or projected volume (the
 * service-account token lives in one), or under a folder named "secrets" (/var/run/secrets/...).
 */
export function holdsSecrets(mount: MountRecord | undefined, path: string): string | null {
  const plugin = mount?.volume?.plugin
  if (plugin === 'kubernetes.io/secret') return `secret volume ${mount!.volume!.name}`
  if (plugin === 'kubernetes.io/projected') return `projected volume ${mount!.volume!.name} (service-account token, secrets)`
  if (/(^|\/)secrets\//.test(path)) return 'a secrets folder'
  return null
}

function octal(mode: number | null): string | null {
  return mode === null ? null : mode.toString(8).padStart(4, '0')
}

function record(entry: RootEntry, mounts: MountRecord[]): FileRecord {
  return {
    path: entry.path,
    name: entry.name,
    type: entry.type,
    size: entry.size,
    mode: octal(entry.mode),
    uid: entry.uid,
    gid: entry.gid,
    modified: new Date(entry.mtimeMs).toISOString(),
    linkTarget: entry.linkTarget,
    mount: mountOf(owningMount(mounts, entry.path)),
  }
}

/** The overlay layer (upper, or an image layer) whose folder holds a path of the root filesystem. */
async function layerOf(host: Host, mount: MountRecord | undefined, path: string): Promise<OverlayLayer | null> {
  if (!mount?.overlay || mount.destination !== '/') return null
  const layers: OverlayLayer[] = [
    ...(mount.overlay.upperDir ? [{kind: 'upper' as const, index: 0, dir: mount.overlay.upperDir}] : []),
    ...mount.overlay.lowerDirs.map((dir, index) => ({kind: 'lower' as const, index, dir})),
  ]
  for (const layer of layers) {
    // each layer is a root of its own: the path is resolved inside it, not on the node
    const entry = await rootReader(host, layer.dir).lstat(path).catch(() => undefined)
    // a whiteout (a 0/0 character device) hides the path below: it is not in that layer
    if (entry && entry.type !== 'char') return layer
  }
  return null
}

async function withLayers(host: Host, items: FileRecord[], mounts: MountRecord[]): Promise<FileRecord[]> {
  if (items.length > LAYER_LOOKUP_LIMIT) return items
  for (const item of items) item.layer = await layerOf(host, owningMount(mounts, item.path), item.path)
  return items
}

/** Walks a tree below `start`, depth first, not into virtual filesystems (unless it starts in one) nor through links. */
async function walkTree(reader: RootReader, start: string, mounts: MountRecord[], budget: {left: number}, visit: (entry: RootEntry, depth: number) => void): Promise<boolean> {
  const startVirtual = VIRTUAL.has(owningMount(mounts, start)?.fsType ?? '')
  let complete = true
  const descend = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) {
      complete = false
      return
    }
    const listing = await reader.list(dir, budget.left).catch((error) => {
      if (error instanceof InRootError && error.reason !== 'no-root') return undefined // changed under us: a running container
      throw error
    })
    if (!listing) return
    if (listing.truncated) complete = false
    for (const entry of listing.entries) {
      if (budget.left <= 0) {
        complete = false
        return
      }
      budget.left--
      visit(entry, depth)
      if (entry.type !== 'dir') continue
      if (!startVirtual && VIRTUAL.has(owningMount(mounts, entry.path)?.fsType ?? '')) continue
      await descend(entry.path, depth + 1)
    }
  }
  await descend(start, 1)
  return complete
}

async function list(host: Host, reader: RootReader, target: PodTarget, query: FsQuery): Promise<FileRecord[]> {
  const mounts = target.container.mounts
  const entry = await reader.lstat(query.path)
  if (!entry) throw new InsideError(`${query.path}: no such file or directory in container ${target.container.name}`, 1)
  // like ls -l: a link is shown as itself unless the path asks for what is behind it ("dir/")
  const followed = entry.type === 'link' && query.path.endsWith('/') ? await reader.stat(query.path) : entry
  if (!followed) throw new InsideError(`${query.path}: the link leads nowhere in container ${target.container.name} (${entry.linkTarget})`, 1)
  if (followed.type !== 'dir') return withLayers(host, [record(followed, mounts)], mounts)
  const listing = (await reader.list(query.path, query.limit))!
  if (listing.truncated) host.warnings.add('fs:limit', `${listing.path} holds more than ${query.limit} entries; the first ${query.limit} are shown (--limit)`)
  return withLayers(host, listing.entries.map((e) => record(e, mounts)), mounts)
}

async function find(host: Host, reader: RootReader, target: PodTarget, query: FsQuery): Promise<FileRecord[]> {
  const start = await reader.stat(query.path)
  if (!start) throw new InsideError(`${query.path}: no such file or directory in container ${target.container.name}`, 1)
  if (start.type !== 'dir') throw new InsideError(`${query.path}: not a directory; --find searches below a directory`, 2)
  const glob = query.find!
  // a pattern with a slash matches the whole path (find -path), else the name (find -name)
  const matcher = picomatch(glob, {dot: true})
  const matchOn = glob.includes('/') ? (e: RootEntry) => e.path : (e: RootEntry) => e.name
  const found: RootEntry[] = []
  const budget = {left: query.limit}
  const complete = await walkTree(reader, start.path, target.container.mounts, budget, (entry) => {
    if (matcher(matchOn(entry))) found.push(entry)
  })
  if (!complete) host.warnings.add('fs:walk', `the search stopped after ${query.limit} entries or ${MAX_DEPTH} levels; matches below are not shown (--limit)`)
  return found.map((e) => record(e, target.container.mounts))
}

async function du(host: Host, reader: RootReader, target: PodTarget, query: FsQuery): Promise<FileRecord[]> {
  const start = await reader.stat(query.path)
  if (!start) throw new InsideError(`${query.path}: no such file or directory in container ${target.container.name}`, 1)
  const mounts = target.container.mounts
  if (start.type !== 'dir') return [{...record(start, mounts), totalBytes: start.size, incomplete: false}]
  const listing = (await reader.list(start.path, query.limit))!
  const budget = {left: query.limit}
  const items: FileRecord[] = []
  for (const entry of listing.entries) {
    let total = entry.size
    let complete = true
    if (entry.type === 'dir' && !VIRTUAL.has(owningMount(mounts, entry.path)?.fsType ?? '')) {
      complete = await walkTree(reader, entry.path, mounts, budget, (e) => {
        total += e.size
      })
    }
    items.push({...record(entry, mounts), totalBytes: total, incomplete: !complete})
  }
  if (items.some((i) => i.incomplete)) host.warnings.add('fs:walk', `the walk stopped after ${query.limit} entries; sizes marked incomplete are lower bounds (--limit)`)
  return items.sort((a, b) => b.totalBytes! - a.totalBytes! || (a.name < b.name ? -1 : 1))
}

const UTF8 = new TextDecoder('utf-8', {fatal: true})

/** UTF-8 text when it is text (a cut may split the last character), else base64. */
function encode(data: Buffer, truncated: boolean): {encoding: 'utf8' | 'base64'; content: string} {
  for (let cut = 0; cut <= (truncated ? 3 : 0) && cut <= data.length; cut++) {
    try {
      const text = UTF8.decode(data.subarray(0, data.length - cut))
      if (!text.includes('\u0000')) return {encoding: 'utf8', content: text}
      break
    } catch {
      // not valid here; a truncated read may have cut a character in two
    }
  }
  return {encoding: 'base64', content: data.toString('base64')}
}

async function cat(host: Host, reader: RootReader, target: PodTarget, query: FsQuery): Promise<FileContent[]> {
  const file = await reader.read(query.path, query.maxBytes)
  if (!file) throw new InsideError(`${query.path}: no such file in container ${target.container.name}`, 1)
  const mount = owningMount(target.container.mounts, file.path)
  const secret = query.showSecrets ? null : holdsSecrets(mount, file.path)
  const shown = secret ? null : encode(file.data, file.truncated)
  if (file.truncated && !secret) host.warnings.add('fs:cap', `${file.path} is larger than ${query.maxBytes} bytes; only the first ${query.maxBytes} are shown (--max-bytes)`)
  return [{
    path: file.path,
    requested: query.path,
    size: file.size,
    bytes: secret ? 0 : file.data.length,
    truncated: file.truncated,
    mount: mountOf(mount),
    encoding: shown?.encoding ?? 'utf8',
    content: shown?.content ?? null,
    withheld: secret ? `in ${secret}: shown only with --show-secrets` : null,
  }]
}

/** Lists, reads, searches or sizes a path in the container. */
export async function gatherFs(host: Host, target: PodTarget, query: FsQuery): Promise<FsResult> {
  try {
    const reader = rootReader(host, `/proc/${target.container.pid}/root`)
    if (query.cat) return {kind: 'FileContentList', items: await cat(host, reader, target, query)}
    if (query.find) return {kind: 'FileList', items: await find(host, reader, target, query)}
    if (query.du) return {kind: 'FileList', items: await du(host, reader, target, query)}
    return {kind: 'FileList', items: await list(host, reader, target, query)}
  } catch (error) {
    if (!(error instanceof InRootError)) throw error
    if (error.reason === 'no-root') {
      const where = host.root === undefined ? 'this snapshot holds none of its files (a snapshot never records file contents)' : 'its process exited'
      throw new InsideError(`container ${target.container.name}: cannot read its root filesystem: ${where}`, 3)
    }
    throw new InsideError(`${error.message} (in container ${target.container.name})`, error.reason === 'loop' ? 3 : 1)
  }
}
