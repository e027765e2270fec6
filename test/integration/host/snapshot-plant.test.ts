// An unprivileged user (nobody, for real, through setpriv) plants a folder or an archive name
// with links to a root-only file before root runs `nodedoc snapshot -o` there. The snapshot
// must refuse the name, leave the root-only file as it was, and hand the planter nothing; a
// snapshot it makes itself is private to root.
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {lstatSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {tempFolder} from '../../helpers/temp-folder.js'
import {itemsOf} from '../../helpers/volatile.js'

const ROOT = resolve(__dirname, '../../..')
const IS_ROOT = process.getuid?.() === 0
const HAVE_SETPRIV = spawnSync('setpriv', ['--version']).status === 0
const run = IS_ROOT && HAVE_SETPRIV ? describe : describe.skip
if (!(IS_ROOT && HAVE_SETPRIV)) console.warn('snapshot-plant: needs root and setpriv (util-linux); skipped')

const id = randomBytes(4).toString('hex')
const victimDir = tempFolder('nodedoc-victim-', () => writeFileSync(victim, 'root-only content\n', {mode: 0o600})) // 0700, root's
const victim = join(victimDir, 'precious')
const planted = `/tmp/nodedoc-plant-${id}`
const made: string[] = [planted, `${planted}.tar.gz`, `/tmp/nodedoc-fresh-${id}`, `/tmp/nodedoc-fresh-${id}.tar.gz`]
afterAll(() => {
  for (const p of made) rmSync(p, {recursive: true, force: true})
})

function asNobody(script: string) {
  return spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', 'sh', '-c', script], {encoding: 'utf8'})
}

function snapshot(target: string) {
  return execa(process.execPath, [join(ROOT, 'bin/run.js'), 'snapshot', '-o', target], {reject: false, env: {NO_COLOR: '1', NODE_ENV: 'production'}, timeout: 120_000})
}

run('snapshot -o where an unprivileged user planted links', () => {
  it('a planted folder is refused; the root-only file is untouched; the planter gets nothing', async () => {
    const planting = asNobody(`mkdir ${planted} && ln -s ${victim} ${planted}/stat.json && ln -s ${victim} ${planted}/meta.json && ln -s ${victimDir} ${planted}/fs`)
    expect(planting.status, planting.stderr).toBe(0)
    expect(lstatSync(planted).uid).toBe(65534)
    const r = await snapshot(planted)
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr).trim()).toBe(`error: cannot write snapshot ${planted}: it exists: snapshot makes a new folder (or .tar.gz) of its own`)
    expect(readFileSync(victim, 'utf8')).toBe('root-only content\n')
    expect(readdirSync(victimDir)).toEqual(['precious'])
    expect(readdirSync(planted).sort()).toEqual(['fs', 'meta.json', 'stat.json'])
    expect(readlinkSync(join(planted, 'stat.json'))).toBe(victim)
  })

  it('a planted archive name (a link to the root-only file) is refused, the file untouched', async () => {
    expect(asNobody(`ln -s ${victim} ${planted}.tar.gz`).status).toBe(0)
    const r = await snapshot(`${planted}.tar.gz`)
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr).trim()).toBe(`error: cannot write snapshot ${planted}.tar.gz: it exists: snapshot writes a new file`)
    expect(readFileSync(victim, 'utf8')).toBe('root-only content\n')
    expect(lstatSync(`${planted}.tar.gz`).isSymbolicLink()).toBe(true)
  })

  it('a snapshot it makes is root\'s alone: folder 0700, files 0600, unreadable to others', async () => {
    const fresh = `/tmp/nodedoc-fresh-${id}`
    const r = await snapshot(fresh)
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const top = lstatSync(fresh)
    expect({uid: top.uid, mode: (top.mode & 0o777).toString(8)}).toEqual({uid: 0, mode: '700'})
    const loose: string[] = []
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, {withFileTypes: true})) {
        const p = join(dir, e.name)
        const s = lstatSync(p)
        if (s.uid !== 0) loose.push(`${p}: owner ${s.uid}`)
        if (e.isDirectory()) {
          if ((s.mode & 0o077) !== 0) loose.push(`${p}: ${(s.mode & 0o777).toString(8)}`)
          walk(p)
        } else if (e.isFile() && (s.mode & 0o777) !== 0o600) loose.push(`${p}: ${(s.mode & 0o777).toString(8)}`)
        else if (!e.isFile() && !e.isSymbolicLink()) loose.push(`${p}: not a file, folder or link`)
      }
    }
    walk(fresh)
    expect(loose).toEqual([])
    expect(asNobody(`ls ${fresh}`).status).not.toBe(0)
    expect(asNobody(`cat ${fresh}/meta.json`).status).not.toBe(0)
    // and it is a snapshot
    const ps = await execa(process.execPath, [join(ROOT, 'bin/run.js'), 'ps', '-A', '-o', 'json', '--from', fresh], {reject: false})
    expect(ps.exitCode, String(ps.stderr)).toBe(0)
    expect(itemsOf(JSON.parse(String(ps.stdout))).length).toBeGreaterThan(0)

    const archive = `${fresh}.tar.gz`
    const a = await snapshot(archive)
    expect(a.exitCode, String(a.stderr)).toBe(0)
    expect((lstatSync(archive).mode & 0o777).toString(8)).toBe('600')
    expect(execFileSync('tar', ['tzf', archive], {encoding: 'utf8'})).toMatch(/^meta\.json$/m)
  }, 180_000)
})
