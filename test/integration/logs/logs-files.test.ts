// nodedoc logs against real files in a temp folder used as --host-root: rotation, .gz, the old
// layout, and -f following a real rename-and-reopen rotation.
import {spawn, spawnSync} from 'node:child_process'
import {appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const cli = join(repo, 'bin/run.js')
const uid = `7c1e5b2a-${Math.random().toString(16).slice(2, 6)}-4a00-8b00-${Date.now().toString(16).padStart(12, '0').slice(-12)}`

function nodedoc(root: string, ...args: string[]) {
  // past spawnSync's 1 MiB default the child is killed and its output cut, depending on timing
  const r = spawnSync('node', [cli, ...args, '--host-root', root], {encoding: 'utf8', maxBuffer: 64 << 20, env: {...process.env, NO_COLOR: '1'}})
  return {stdout: r.stdout, stderr: r.stderr, status: r.status}
}

const line = (sec: number, stream: string, tag: string, text: string) => `2024-05-01T10:00:${String(sec).padStart(2, '0')}.000000000Z ${stream} ${tag} ${text}\n`

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nodedoc-logs-'))
  const ctr = join(root, 'var/log/pods', `shop_cart-6f9d_${uid}`, 'api')
  mkdirSync(ctr, {recursive: true})
  // restart 0: the previous instance
  writeFileSync(join(ctr, '0.log'), line(0, 'stdout', 'F', 'old instance'))
  // restart 1: two compressed rotations, one plain rotation, the live file; a .tmp mid-compression
  writeFileSync(join(ctr, '1.log.20240501-100010.gz'), gzipSync(line(1, 'stdout', 'F', 'one') + line(2, 'stderr', 'F', 'two')))
  writeFileSync(join(ctr, '1.log.20240501-100020.gz'), gzipSync(line(3, 'stdout', 'F', 'three') + line(4, 'stdout', 'P', 'fo')))
  writeFileSync(join(ctr, '1.log.20240501-100030'), line(5, 'stdout', 'F', 'ur') + line(6, 'stderr', 'F', 'five'))
  writeFileSync(join(ctr, '1.log.20240501-100030.tmp'), 'not a log line\n')
  writeFileSync(join(ctr, '1.log'), line(7, 'stdout', 'F', 'six') + line(8, 'stderr', 'P', 'tail without F'))
  mkdirSync(join(root, 'var/log/pods', `shop_cart-6f9d_${uid}`, 'sidecar'))
  writeFileSync(join(root, 'var/log/pods', `shop_cart-6f9d_${uid}`, 'sidecar', '0.log'), line(9, 'stdout', 'F', 'side'))
})
afterAll(() => rmSync(root, {recursive: true, force: true}))

describe('nodedoc logs (files)', () => {
  it('reads .gz, rotated and live files in order, joins a P across a rotation, shows a trailing P', () => {
    const r = nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop', '-c', 'api')
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(['one', 'two', 'three', 'four', 'five', 'six', 'tail without F', ''].join('\n'))
    expect(r.status).toBe(0)
  })
  it('-o json names the files read and marks the unfinished line', () => {
    const r = nodedoc(root, 'logs', uid, '-c', 'api', '-o', 'json')
    const report = JSON.parse(r.stdout)
    expect(report.pod).toEqual({namespace: 'shop', name: 'cart-6f9d', uid})
    expect(report.restart).toBe(1)
    expect(report.files.map((f: string) => f.split('/').pop())).toEqual(['1.log.20240501-100010.gz', '1.log.20240501-100020.gz', '1.log.20240501-100030', '1.log'])
    expect(report.entries.at(-1)).toEqual({time: '2024-05-01T10:00:08.000000000Z', stream: 'stderr', text: 'tail without F', incomplete: true})
    expect(report.entries[3]).toEqual({time: '2024-05-01T10:00:04.000000000Z', stream: 'stdout', text: 'four', incomplete: false})
  })
  it('--previous, --tail, --timestamps, --stream', () => {
    expect(nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop', '-c', 'api', '--previous').stdout).toBe('old instance\n')
    expect(nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop', '-c', 'api', '--tail', '2', '--timestamps').stdout)
      .toBe('2024-05-01T10:00:07.000000000Z six\n2024-05-01T10:00:08.000000000Z tail without F\n')
    expect(nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop', '-c', 'api', '--stream', 'stderr').stdout).toBe('two\nfive\ntail without F\n')
    // the files are from 2024: nothing is newer than an hour
    expect(nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop', '-c', 'api', '--since', '1h').stdout).toBe('')
  })
  it('asks for a container when there are several, and says which exist', () => {
    const r = nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop')
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe('error: a container name must be specified for pod shop/cart-6f9d, choose one of: [api sidecar]')
    const p = nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop', '-c', 'sidecar', '--previous')
    expect(p.status).toBe(1)
    expect(p.stderr).toMatch(/^error: previous terminated container "sidecar" in pod shop\/cart-6f9d not found/)
    // without -n the name is looked up in every namespace (as `pod` does); a wrong -n says where it is
    expect(nodedoc(root, 'logs', 'cart-6f9d', '-c', 'api').stdout).toBe(nodedoc(root, 'logs', 'cart-6f9d', '-n', 'shop', '-c', 'api').stdout)
    expect(nodedoc(root, 'logs', 'cart-6f9d', '-n', 'default', '-c', 'api').stderr).toMatch(/found in namespace shop: use -n/)
    expect(nodedoc(root, 'logs', 'x', '--since', '5 minutes').stderr.trim()).toBe('error: --since: "5 minutes" is not a duration (e.g. 30s, 5m, 1h30m)')
  })
  it('reads the old /var/log/pods/<uid>/<ctr>_<n>.log layout, named through /var/log/containers', () => {
    const oldUid = `0d5a7e3c-${uid.slice(9)}`
    const dir = join(root, 'var/log/pods', oldUid)
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'db_0.log'), line(1, 'stdout', 'F', 'legacy hello') + 'garbage line\n')
    mkdirSync(join(root, 'var/log/containers'), {recursive: true})
    symlinkSync(`/var/log/pods/${oldUid}/db_0.log`, join(root, 'var/log/containers', `pg-0_data_db-${'e'.repeat(64)}.log`))
    const r = nodedoc(root, 'logs', 'pg-0', '-n', 'data')
    expect(r.stdout).toBe('legacy hello\n')
    expect(r.stderr).toContain(`/var/log/pods/${oldUid}/db_0.log:2: not a CRI log line`)
  })
})

describe('nodedoc logs --tail on a large file', () => {
  it('reads only the end in growing windows and gives the same lines as a full read', () => {
    const ctr = join(root, 'var/log/pods', `shop_big-1_${uid}`, 'app')
    mkdirSync(ctr, {recursive: true})
    let text = ''
    for (let i = 0; i < 6000; i++) {
      const t = `2024-05-01T10:${String(Math.floor(i / 100) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z`
      // every 7th line split in three fragments, so windows cut P/F runs at many places
      text += i % 7 === 0 ? `${t} stdout P ${i}-a \n${t} stdout P ${i}-b \n${t} stdout F ${i}-c\n` : `${t} stderr F line ${i} ${'x'.repeat(40)}\n`
    }
    writeFileSync(join(ctr, '0.log.20240501-090000.gz'), gzipSync(line(1, 'stdout', 'F', 'older file')))
    writeFileSync(join(ctr, '0.log'), text)
    const full = nodedoc(root, 'logs', 'big-1', '-n', 'shop', '-o', 'json')
    const all = JSON.parse(full.stdout).entries.map((e: {text: string}) => e.text)
    expect(all).toHaveLength(6001)
    for (const n of [1, 5, 3000, 6001, 7000]) {
      const r = nodedoc(root, 'logs', 'big-1', '-n', 'shop', '--tail', String(n), '-o', 'json')
      expect(JSON.parse(r.stdout).entries.map((e: {text: string}) => e.text), `--tail ${n}`).toEqual(all.slice(-n))
    }
  })
})

describe('nodedoc logs -f', () => {
  it('follows appends, a rename-and-reopen rotation (with lines written late to the old file), then compression', async () => {
    const ctr = join(root, 'var/log/pods', `shop_follow-1_${uid}`, 'w')
    mkdirSync(ctr, {recursive: true})
    const live = join(ctr, '0.log')
    writeFileSync(live, line(1, 'stdout', 'F', 'before'))
    const child = spawn('node', [cli, 'logs', 'follow-1', '-n', 'shop', '-f', '--poll-interval', '50', '--host-root', root], {env: {...process.env, NO_COLOR: '1'}})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const waitFor = async (text: string) => {
      for (let i = 0; i < 200 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 25))
      expect(out).toContain(text)
    }
    try {
      await waitFor('before\n')
      appendFileSync(live, line(2, 'stdout', 'P', 'half-'))
      appendFileSync(live, line(3, 'stdout', 'F', 'joined'))
      await waitFor('half-joined\n')
      // the kubelet renames; the runtime still writes one line to the old inode before reopening
      const rotated = join(ctr, '0.log.20240501-100004')
      renameSync(live, rotated)
      appendFileSync(rotated, line(4, 'stdout', 'F', 'late write to old file'))
      writeFileSync(live, line(5, 'stdout', 'F', 'after rotation'))
      await waitFor('after rotation\n')
      // compress the rotated file the way the kubelet does; then rotate again
      writeFileSync(rotated + '.gz', gzipSync(Buffer.from(line(1, 'stdout', 'F', 'before'))))
      rmSync(rotated)
      appendFileSync(live, line(6, 'stdout', 'F', 'still here'))
      await waitFor('still here\n')
      // a restart: 1.log appears and takes over
      writeFileSync(join(ctr, '1.log'), line(7, 'stderr', 'F', 'restarted'))
      await waitFor('restarted\n')
      expect(out).toBe(['before', 'half-joined', 'late write to old file', 'after rotation', 'still here', 'restarted', ''].join('\n'))
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
  })
})
