import {lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {InRootError, lstatInRoot, readDirInRoot, readFileInRoot, readFilesInRoot, readLinkInRoot, resolveInRoot, statInRoot} from '../../../src/host/in-root.js'
import {mkdirInRoot, symlinkInRoot, writeFileInRoot} from '../../../src/host/in-root-write.js'
import {hostileRoot} from '../../helpers/hostile-root.js'

const IS_ROOT = process.getuid?.() === 0
const {base, root} = hostileRoot('nodedoc-inroot-')

const text = (path: string, options = {}) => readFileInRoot(root, path, options).toString('utf8')
const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return error instanceof InRootError ? error.reason : (error as NodeJS.ErrnoException).code
  }
  return 'read'
}

describe('reads stay inside the root', () => {
  it('reads plain files and follows links that stay inside', () => {
    expect(text('/var/lib/real/file')).toBe('real file\n')
    expect(text('var/lib/alias/file')).toBe('real file\n')
    expect(text('/varlib/real/file')).toBe('real file\n')
    expect(text('/slash/slash/etc/shadow')).toBe('shadow inside the root\n')
  })

  it('re-roots absolute link targets', () => {
    expect(text('/proc/7/cmdline')).toBe('shadow inside the root\n')
    // the secret's own absolute path, seen from inside the root, does not exist
    expect(refusal(() => text('/proc/7/maps'))).toBe('ENOENT')
  })

  it('refuses .. above the root, in the path or in a link', () => {
    expect(refusal(() => text('/../secret'))).toBe('escape')
    expect(refusal(() => text('/etc/../../secret'))).toBe('escape')
    expect(refusal(() => text('/proc/7/environ'))).toBe('escape')
    // inside the root, .. is fine, and resolved after links like the kernel does
    expect(text('/var/lib/alias/../real/file')).toBe('real file\n')
  })

  it('stops link loops', () => {
    expect(refusal(() => text('/loop-a'))).toBe('loop')
  })

  it('says a miss as before, cheaply: code and message kept, no stack trace captured', () => {
    const missed = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        return error as NodeJS.ErrnoException
      }
      throw new Error('no error')
    }
    const limit = Error.stackTraceLimit
    for (const error of [missed(() => text('/etc/missing')), missed(() => text('/no/such/dir/file')), missed(() => readLinkInRoot(root, '/etc/shadow'))]) {
      expect(error.code).toMatch(/^(ENOENT|EINVAL)$/)
      expect(error.message).toMatch(/^(ENOENT|EINVAL): /)
      expect(error.stack?.split('\n').length).toBe(1)
    }
    expect(missed(() => text('/etc/missing')).message).toBe('ENOENT: /etc/missing')
    expect(Error.stackTraceLimit).toBe(limit)
  })

  it('reads only regular files: a FIFO answers at once instead of hanging', () => {
    const started = performance.now()
    expect(refusal(() => text('/fifo'))).toBe('not-regular')
    expect(refusal(() => text('/etc'))).toBe('not-regular')
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it.runIf(IS_ROOT)('never opens a device', () => {
    expect(refusal(() => text('/zero'))).toBe('not-regular')
  })

  it('refuses hard links when asked (a folder someone else made)', () => {
    expect(text('/hardlink')).toBe('SECRET outside the root\n')
    expect(refusal(() => text('/hardlink', {refuseHardLinks: true}))).toBe('hard-link')
  })

  it('caps reads, and reads a tail of a large file', () => {
    writeFileSync(join(root, 'big'), 'x'.repeat(10_000) + '\nlast line\n')
    expect(refusal(() => text('/big', {maxBytes: 4096}))).toBe('too-large')
    expect(text('/big', {tailBytes: 10, maxBytes: 4096})).toBe('last line\n')
  })

  it('reads /proc files (size 0) under the real root', () => {
    expect(readFileInRoot('/', '/proc/self/status').toString()).toMatch(/^Name:/)
    expect(refusal(() => readFileInRoot('/', '/proc/self/status', {maxBytes: 16}))).toBe('too-large')
  })

  it('reads inside a process root (/proc/<pid>/root): links re-rooted there', () => {
    expect(readFileInRoot(`/proc/${process.pid}/root${root}`, '/proc/7/cmdline').toString()).toBe('shadow inside the root\n')
  })

  it('lists, stats and reads links without following them out', () => {
    expect(readDirInRoot(root, '/varlib').map((e) => e.name).sort()).toEqual(['alias', 'real'])
    expect(readLinkInRoot(root, '/proc/7/environ')).toBe('../../../../secret')
    expect(readLinkInRoot(root, '/varlib/alias')).toBe('real')
    expect(lstatInRoot(root, '/proc/7/cmdline').isSymbolicLink()).toBe(true)
    expect(statInRoot(root, '/proc/7/cmdline').isFile()).toBe(true)
    expect(refusal(() => readDirInRoot(root, '/slash/../..'))).toBe('escape')
    expect(resolveInRoot(root, '/varlib/alias/file')).toBe('/var/lib/real/file')
    expect(resolveInRoot(root, '/proc/7/cmdline')).toBe('/etc/shadow')
    expect(resolveInRoot(root, '/')).toBe('/')
  })
})

describe('several files of one folder (readFilesInRoot) read as one by one', () => {
  // every entry kind the hostile root holds, in folders reached directly, through links and by ..
  const cases: Array<[string, string[]]> = [
    ['/proc/7', ['cmdline', 'environ', 'maps', 'missing', '..', '.', '', 'a/b']],
    ['/', ['fifo', 'hardlink', 'loop-a', 'slash', 'etc', 'big', ...(IS_ROOT ? ['zero'] : [])]],
    ['/varlib', ['alias', 'real', 'missing']],
    ['/varlib/alias', ['file']],
    ['/var/lib/alias/..', ['real', 'alias']],
    ['/slash/slash/etc', ['shadow']],
    ['/proc/7/cmdline', ['x']],
    ['/proc/8', ['cmdline', 'status']],
    ['/../', ['secret']],
    ['/proc/7/environ', ['x']],
  ]
  const outcome = (got: Buffer | unknown) => (got instanceof Buffer ? got.toString('utf8') : got instanceof InRootError ? got.reason : (got as NodeJS.ErrnoException).code)
  const alone = (dir: string, name: string, options = {}) => {
    try {
      return outcome(readFileInRoot(root, `${dir.endsWith('/') ? dir : dir + '/'}${name}`, options))
    } catch (error) {
      return outcome(error)
    }
  }

  it.each(cases)('%s: each name as readFileInRoot answers it', (dir, names) => {
    for (const options of [{}, {refuseHardLinks: true}, {maxBytes: 4096}]) {
      expect(readFilesInRoot(root, [dir], names, options)[0].map(outcome)).toEqual(names.map((name) => alone(dir, name, options)))
    }
  })

  it('all the folders in one call, as each alone', () => {
    const names = ['cmdline', 'environ', 'maps', 'shadow', 'file', 'fifo', 'hardlink', 'missing']
    const dirs = cases.map(([dir]) => dir)
    expect(readFilesInRoot(root, dirs, names, {refuseHardLinks: true}).map((files) => files.map(outcome))).toEqual(dirs.map((dir) => names.map((name) => alone(dir, name, {refuseHardLinks: true}))))
  })

  it('never reaches the secret, whatever the link', () => {
    const [got] = readFilesInRoot(root, ['/proc/7'], ['cmdline', 'environ', 'maps'])
    expect(got.map(outcome)).toEqual(['shadow inside the root\n', 'escape', 'ENOENT'])
    expect(readFilesInRoot(root, ['/'], ['hardlink'], {refuseHardLinks: true})[0].map(outcome)).toEqual(['hard-link'])
    // a process folder that is a link: followed inside the root only
    symlinkSync('/proc/7', join(root, 'proc/9'))
    symlinkSync('../../..', join(root, 'proc/10'))
    expect(readFilesInRoot(root, ['/proc/9', '/proc/10'], ['cmdline', 'secret']).map((files) => files.map(outcome))).toEqual([['shadow inside the root\n', 'ENOENT'], ['escape', 'escape']])
  })

  it('reads /proc files (size 0) and a process that is gone', () => {
    const [[status, cmdline]] = readFilesInRoot('/', [`/proc/${process.pid}`], ['status', 'cmdline'])
    expect(outcome(status)).toMatch(/^Name:/)
    expect(outcome(cmdline)).toContain('\0')
    expect(readFilesInRoot('/', ['/proc/999999999'], ['status', 'cmdline'])[0].map(outcome)).toEqual(['ENOENT', 'ENOENT'])
  })

  it('a procfs folder (its files opened for reading at once) answers each name as readFileInRoot', () => {
    // /proc/<pid> of the real root: regular files, links (exe, cwd, root), folders, a miss, odd names
    const names = ['status', 'cmdline', 'cgroup', 'environ', 'mounts', 'exe', 'cwd', 'root', 'fd', 'task', 'ns', 'missing', '..', 'fd/0']
    const kind = (got: unknown) => (got instanceof Buffer ? 'read' : outcome(got))
    const kindAlone = (dir: string, name: string, options = {}) => {
      try {
        return kind(readFileInRoot('/', `${dir}/${name}`, options))
      } catch (error) {
        return kind(error)
      }
    }
    for (const pid of [process.pid, 1]) {
      for (const options of [{}, {refuseHardLinks: true}, {maxBytes: 64}]) {
        const dir = `/proc/${pid}`
        expect(readFilesInRoot('/', [dir], names, options)[0].map(kind), `${dir} ${JSON.stringify(options)}`).toEqual(names.map((name) => kindAlone(dir, name, options)))
      }
    }
    expect(outcome(readFilesInRoot('/', [`/proc/${process.pid}`], ['status'], {maxBytes: 64})[0][0])).toBe('too-large')
    expect(outcome(readFilesInRoot('/', [`/proc/${process.pid}`], ['cgroup'])[0][0])).toMatch(/^\d+:/)
    // a process's files through a link to its folder are the walk's, as before
    expect(readFilesInRoot('/', ['/proc/self'], ['status'])[0].map(kind)).toEqual(['read'])
  })

  it('leaves no descriptor open', () => {
    const before = readdirSync('/proc/self/fd').length
    for (const [dir, names] of cases) readFilesInRoot(root, [dir, dir], names)
    expect(readdirSync('/proc/self/fd').length).toBe(before)
  })
})

describe('writes stay inside the root and never write through a planted link', () => {
  let out = ''
  let victim = ''
  beforeAll(() => {
    out = join(base, 'out')
    mkdirSync(out)
    victim = join(base, 'victim')
  })

  it('replaces a planted link instead of writing through it', () => {
    writeFileSync(victim, 'untouched\n')
    symlinkSync(victim, join(out, 'stat.json'))
    writeFileInRoot(out, '/stat.json', '{}\n')
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n')
    expect(lstatSync(join(out, 'stat.json')).isFile()).toBe(true)
    expect(lstatSync(join(out, 'stat.json')).mode & 0o777).toBe(0o600)
  })

  it('follows links it finds on the way inside the root only', () => {
    symlinkSync('/run', join(out, 'var-run'))
    writeFileInRoot(out, '/var-run/netns/x', 'inside\n')
    expect(readFileSync(join(out, 'run/netns/x'), 'utf8')).toBe('inside\n')
    symlinkSync('../../..', join(out, 'up'))
    expect(() => writeFileInRoot(out, '/up/escaped', 'no')).toThrow(InRootError)
    expect(() => writeFileInRoot(out, '/../escaped', 'no')).toThrow(InRootError)
  })

  it('makes links and folders', () => {
    symlinkInRoot(out, '/proc/1/ns/net', 'net:[4026531840]')
    expect(readlinkSync(join(out, 'proc/1/ns/net'))).toBe('net:[4026531840]')
    mkdirInRoot(out, '/a/b/c')
    expect(lstatSync(join(out, 'a/b/c')).isDirectory()).toBe(true)
    expect(lstatSync(join(out, 'a/b')).mode & 0o777).toBe(0o700)
  })
})
