import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {liveRootReader} from '../../../src/host/root-reader.js'
import {hostileRoot} from '../../helpers/hostile-root.js'

// Links that would read the secret outside the root if followed against the node's own "/".
const {base, root, secret} = hostileRoot('nodedoc-rootreader-')

describe('a root read as a container sees it (liveRootReader)', () => {
  const reader = liveRootReader(root)
  it('keeps .. at the root, as the kernel does for a process whose / this is', async () => {
    expect((await reader.stat('/../etc/shadow'))?.path).toBe('/etc/shadow')
    // ../../../../secret from /proc/7 is /secret inside the root: not there
    expect(await reader.read('/proc/7/environ', 100)).toBeUndefined()
    expect((await reader.read('/proc/7/cmdline', 100))?.data.toString()).toBe('shadow inside the root\n')
    expect(await reader.read(secret, 100)).toBeUndefined()
  })

  it('shows a link as itself with lstat, what it leads to with stat', async () => {
    expect(await reader.lstat('/varlib')).toMatchObject({type: 'link', linkTarget: '/var/lib', path: '/varlib', name: 'varlib'})
    expect(await reader.stat('/varlib')).toMatchObject({type: 'dir', path: '/var/lib', linkTarget: null})
  })

  it('lists a directory through a link, each entry with its own path', async () => {
    const listing = await reader.list('/varlib', 10)
    expect(listing).toMatchObject({path: '/var/lib', truncated: false})
    expect(listing?.entries.map((e) => [e.name, e.path, e.type])).toEqual([['alias', '/var/lib/alias', 'link'], ['real', '/var/lib/real', 'dir']])
    expect(await reader.list('/varlib', 1)).toMatchObject({truncated: true})
  })

  it('cuts a read at the cap instead of refusing it, and says so', async () => {
    const file = await reader.read('/etc/shadow', 6)
    expect(file).toMatchObject({size: 'shadow inside the root\n'.length, truncated: true})
    expect(file?.data.toString()).toBe('shadow')
  })

  it('refuses what is not a regular file, and a root that is gone', async () => {
    await expect(reader.read('/fifo', 10)).rejects.toMatchObject({reason: 'not-regular'})
    await expect(reader.read('/etc', 10)).rejects.toMatchObject({reason: 'is-dir'})
    await expect(reader.stat('/loop-a')).rejects.toMatchObject({reason: 'loop'})
    await expect(liveRootReader(join(base, 'nowhere')).stat('/')).rejects.toMatchObject({reason: 'no-root'})
  })
})
