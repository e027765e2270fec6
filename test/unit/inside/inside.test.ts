import {mkdtemp, mkdir, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {pathRootReader} from '../../../src/host/in-root.js'
import {LiveHost} from '../../../src/host/live.js'
import {holdsSecrets, owningMount} from '../../../src/inside/fs.js'
import {conntrackTable, filesTable, fileContentView, modeString, socketsTable} from '../../../src/inside/render.js'
import type {MountRecord} from '../../../src/model/types.js'
import {escapeControl} from '../../../src/render/escape.js'
import {itemList} from '../../../src/render/list.js'

const mount = (destination: string, fsType: string, volume: MountRecord['volume'] = null): MountRecord => ({destination, source: 's', fsType, readOnly: false, propagation: 'private', volume})

describe('owning mount and secrets', () => {
  const mounts = [
    mount('/', 'overlay'),
    mount('/proc', 'proc'),
    mount('/var/run/secrets/kubernetes.io/serviceaccount', 'tmpfs', {name: 'kube-api-access-x1', plugin: 'kubernetes.io/projected'}),
    mount('/etc/hosts', 'ext4'),
    mount('/data', 'ext4', {name: 'cache', plugin: 'kubernetes.io/empty-dir'}),
    mount('/data', 'ext4', {name: 'over', plugin: 'kubernetes.io/empty-dir'}),
    mount('/creds', 'tmpfs', {name: 'db', plugin: 'kubernetes.io/secret'}),
  ]
  it('is the longest destination holding the path, the last mounted on a tie', () => {
    expect(owningMount(mounts, '/etc/hosts')?.destination).toBe('/etc/hosts')
    expect(owningMount(mounts, '/etc/hostsx')?.destination).toBe('/')
    expect(owningMount(mounts, '/data/a')?.volume?.name).toBe('over')
    expect(owningMount(mounts, '/proc/1/status')?.fsType).toBe('proc')
  })
  it('withholds secret and projected volumes and secrets folders', () => {
    const token = '/var/run/secrets/kubernetes.io/serviceaccount/token'
    expect(holdsSecrets(owningMount(mounts, token), token)).toMatch(/projected volume kube-api-access-x1/)
    expect(holdsSecrets(owningMount(mounts, '/creds/password'), '/creds/password')).toMatch(/secret volume db/)
    expect(holdsSecrets(owningMount(mounts, '/run/secrets/x'), '/run/secrets/x')).toBe('a secrets folder')
    expect(holdsSecrets(owningMount(mounts, '/data/a'), '/data/a')).toBeNull()
  })
})

describe('escapes for the terminal', () => {
  it('writes controls visibly and leaves plain text alone', () => {
    expect(escapeControl('plain name.txt')).toBe('plain name.txt')
    expect(escapeControl('C:\\dir')).toBe('C:\\dir')
    expect(escapeControl('\u001b[2Jx\\y')).toBe('\\x1b[2Jx\\\\y')
    expect(escapeControl('a\nb\tc\u202ed')).toBe('a\\nb\\tc\\u202ed')
    expect(escapeControl('line\n\ttabbed\n', '\n\t')).toBe('line\n\ttabbed\n')
    expect(escapeControl('line\n\u001b]0;t\u0007', '\n\t')).toBe('line\n\\x1b]0;t\\x07')
    expect(escapeControl('\u009b31m')).toBe('\\x9b31m')
  })
})

describe('table views', () => {
  it('ls -l modes', () => {
    expect(modeString('dir', '0755')).toBe('drwxr-xr-x')
    expect(modeString('file', '4755')).toBe('-rwsr-xr-x')
    expect(modeString('dir', '1777')).toBe('drwxrwxrwt')
    expect(modeString('file', '2644')).toBe('-rw-r-Sr--')
    expect(modeString('link', null)).toBe('l?????????')
  })
  it('escape what a pod names in every view', () => {
    const evil = 'x\u001b[31m'
    const files = filesTable(itemList('FileList', [{path: `/${evil}`, name: evil, type: 'link', size: 1, mode: '0777', uid: 0, gid: 0, modified: null, linkTarget: evil, mount: null}]), false)
    expect(files).not.toContain('\u001b')
    const sockets = socketsTable(itemList('SocketList', [{pod: {namespace: 'n', name: 'p', uid: 'u'}, protocol: 'unix', family: 'unix', type: 'stream', state: 'LISTEN', localAddress: null, localPort: null, peerAddress: null, peerPort: null, path: `/run/${evil}`, sendQueue: null, recvQueue: null, inode: 1, netnsInode: 2, owners: [{pid: 1, fd: 3, command: `/bin/${evil}`, container: null}]}]), true)
    expect(sockets).not.toContain('\u001b')
    const content = {path: '/f', requested: '/f', size: 3, bytes: 3, truncated: false, mount: null, encoding: 'utf8' as const, content: 'a\u001bb\n', withheld: null}
    expect(fileContentView(true)(itemList('FileContentList', [content]))).toBe('a\\x1bb\n')
    expect(fileContentView(false)(itemList('FileContentList', [content]))).toBe('a\u001bb\n')
  })
  it('conntrack rows read as sent and as answered', () => {
    const row = conntrackTable(itemList('ConntrackEntryList', [{
      family: 'ipv4', protocol: 'tcp', state: 'ESTABLISHED', timeoutSeconds: 431999, ageSeconds: null,
      original: {src: '10.88.0.5', dst: '10.96.1.2', sport: 41000, dport: 80}, reply: {src: '10.88.0.4', dst: '10.88.0.1', sport: 8080, dport: 41000},
      nat: {dnat: true, snat: true}, flags: ['ASSURED'], mark: 0, zone: 0,
      client: {pod: {namespace: 'a', name: 'client', uid: 'u1'}, address: '10.88.0.5'}, server: {pod: {namespace: 'a', name: 'web', uid: 'u2'}, address: '10.88.0.4'}, service: null,
    }]), false)
    expect(row).toMatch(/tcp\s+ESTABLISHED\s+10\.88\.0\.5:41000 -> 10\.96\.1\.2:80\s+10\.88\.0\.4:8080 -> 10\.88\.0\.1:41000\s+dnat\+snat\s+a\/client\s+a\/web\s+431999s/)
  })
})

describe('a root walked through a snapshot\'s paths', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nodedoc-pathroot-'))
    await mkdir(join(dir, 'r/etc'), {recursive: true})
    await writeFile(join(dir, 'r/etc/shadow'), 'in the root\n')
    await symlink('/etc/shadow', join(dir, 'r/abs'))
    await symlink('../../../../etc/shadow', join(dir, 'r/etc/rel'))
    await symlink('/', join(dir, 'r/top'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })
  it('resolves links against the root, whatever the host holds', async () => {
    // a LiveHost's path operations, on purpose: the path walk must not follow links itself
    const reader = pathRootReader(new LiveHost('/'), join(dir, 'r'))
    expect((await reader.read('/abs', 100))?.data.toString()).toBe('in the root\n')
    expect((await reader.read('/etc/rel', 100))?.path).toBe('/etc/shadow')
    expect((await reader.stat('/top/top/etc/../etc/shadow'))?.path).toBe('/etc/shadow')
    expect((await reader.list('/top', 10))?.entries.map((e) => e.name)).toEqual(['abs', 'etc', 'top'])
  })
})
