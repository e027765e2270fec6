import {type Host, hostPath} from '../../host/host.js'
import {LiveHost} from '../../host/live.js'
import {type Check, fail, listOf, pass, percent, skip, warn} from '../check.js'

/** Folders the kubelet's eviction watches (nodefs, imagefs) and the logs beside them. */
export const DISK_PATHS = ['/var/lib/kubelet', '/var/lib/containerd', '/var/lib/containers', '/var/log']

export interface DiskUse {
  path: string
  mount: string
  bytesUsed: number
  bytesAvailable: number
  inodesUsed: number
  inodesFree: number
}

export interface DiskFacts {
  disks: DiskUse[]
}

/** `df -P -B1 PATH` / `df -P -i PATH`: the data row's used and available columns. */
export function parseDfRow(text: string): {used: number; available: number; mount: string} | undefined {
  const row = text.trim().split('\n')[1]
  const f = row?.trim().split(/\s+/)
  if (!f || f.length < 6) return undefined
  return {used: Number(f[2]), available: Number(f[3]), mount: f.slice(5).join(' ')}
}

export const disk: Check<DiskFacts> = {
  id: 'disk',
  area: 'pressure',
  title: 'disk and inodes of kubelet, runtime and log folders',
  why: 'the kubelet evicts pods below 10% free space or 5% free inodes on nodefs (15% on imagefs) and stops pulling images',
  async gather(host: Host) {
    const disks: DiskUse[] = []
    // df works on the live filesystem: under --host-root the node's folder is below that root
    const real = (path: string) => (host instanceof LiveHost && host.root !== '/' ? hostPath(host.root, path) : path)
    for (const path of DISK_PATHS) {
      if ((await host.stat(path))?.kind !== 'dir') continue
      const bytes = await host.run(['df', '-P', '-B1', real(path)])
      const inodes = await host.run(['df', '-P', '-i', real(path)])
      const b = bytes?.exitCode === 0 ? parseDfRow(bytes.stdout) : undefined
      const i = inodes?.exitCode === 0 ? parseDfRow(inodes.stdout) : undefined
      if (b) disks.push({path, mount: b.mount, bytesUsed: b.used, bytesAvailable: b.available, inodesUsed: i?.used ?? 0, inodesFree: i?.available ?? 0})
    }
    return {disks}
  },
  evaluate({disks}) {
    if (disks.length === 0) return skip(`none of ${DISK_PATHS.join(', ')} found, or df missing`)
    const rows = disks.map((d) => ({d, space: percent(d.bytesUsed, d.bytesUsed + d.bytesAvailable), inodes: percent(d.inodesUsed, d.inodesUsed + d.inodesFree)}))
    const seen = rows.map(({d, space, inodes}) => `${d.path} ${space}% space, ${inodes}% inodes`).join('; ')
    const failing = rows.filter((r) => r.space >= 90 || r.inodes >= 95)
    const warning = rows.filter((r) => r.space >= 80 || r.inodes >= 85)
    const fix = 'free space: crictl rmi --prune, remove old logs under /var/log, grow the filesystem; many small files eat inodes (emptyDir, image layers)'
    if (failing.length) return fail(`${listOf(failing.map((r) => r.d.path))} past the kubelet's eviction threshold: ${seen}`, fix, failing.map((r) => r.d))
    if (warning.length) return warn(`${listOf(warning.map((r) => r.d.path))} nearly full: ${seen}`, fix, warning.map((r) => r.d))
    return pass(seen)
  },
}
