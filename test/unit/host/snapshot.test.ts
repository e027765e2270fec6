import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import * as tar from 'tar'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {commandFileName} from '../../../src/host/snapshot-layout.js'
import {tempFolder} from '../../helpers/temp-folder.js'

// a snapshot built by hand, as docs/snapshot.md says one can be
const root = tempFolder('nodedoc-snap-', () => {
  mkdirSync(join(snap, 'fs/proc/42/ns'), {recursive: true})
  mkdirSync(join(snap, 'cmd'))
  writeFileSync(join(snap, 'meta.json'), '{"format": 1}')
  writeFileSync(join(snap, 'fs/proc/42/cgroup'), '0::/kubepods/pod1\n')
  symlinkSync('net:[4026532451]', join(snap, 'fs/proc/42/ns/net'))
  writeFileSync(join(snap, 'cmd', commandFileName(['ip', '-j', '-4', 'route', 'show', 'table', 'all']) + '.out'), '[]')
  writeFileSync(join(snap, 'cmd', commandFileName(['iptables-save']) + '.out'), '')
  writeFileSync(join(snap, 'cmd', commandFileName(['iptables-save']) + '.exit'), '1\n')
})
const snap = join(root, 'snap')

describe.each([
  ['folder', () => snap],
  ['archive', async () => {
    const file = join(root, 'snap.tar.gz')
    await tar.c({gzip: true, file, cwd: root}, ['snap'])
    return file
  }],
])('a hand-built snapshot read from a %s', (_kind, where) => {
  it('answers files, folders, links and programs like a node would', async () => {
    const host = await SnapshotHost.open(await where())
    expect(await host.readFile('/proc/42/cgroup')).toBe('0::/kubepods/pod1\n')
    expect(await host.readFile('/proc/43/cgroup')).toBeUndefined()
    expect((await host.readDir('/proc'))?.map((e) => e.name)).toEqual(['42'])
    expect(await host.readLink('/proc/42/ns/net')).toBe('net:[4026532451]')
    expect(await host.stat('/proc/42/cgroup')).toMatchObject({kind: 'file', size: 18})
    expect(await host.run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])).toEqual({stdout: '[]', stderr: '', exitCode: 0})
    expect(await host.run(['iptables-save'])).toMatchObject({exitCode: 1})
    expect(await host.run(['nft', 'list', 'ruleset'])).toBeUndefined()
  })
})

it('a folder without meta.json is refused in one line', async () => {
  await expect(SnapshotHost.open(join(root, 'snap/fs'))).rejects.toThrow(/no meta.json, not a nodedoc snapshot/)
})
