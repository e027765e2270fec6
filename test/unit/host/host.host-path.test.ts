import {describe, expect, it} from 'vitest'
import {hostPath} from '../../../src/host/host.js'

describe('hostPath', () => {
  it('joins a root and a node path, and normalizes what needs it', () => {
    const cases: Array<[string[], string]> = [
      [['/', '/proc/1/stat'], '/proc/1/stat'],
      [['/host', '/proc/1/stat'], '/host/proc/1/stat'],
      [['/host/', '/a'], '/host/a'],
      [['/host', 'a/./b'], '/host/a/b'],
      [['/host', '/proc/../etc'], '/host/etc'],
      [['/x', '/a/..'], '/x'],
      [['/a//b'], '/a/b'],
      [['/a/b/'], '/a/b'],
      [['/'], '/'],
      [[''], '/'],
      // dots inside a name are part of it
      [['/a/.b/..c'], '/a/.b/..c'],
      [['/x', '/.hidden'], '/x/.hidden'],
      [['/sys/fs/cgroup/memory', '/kubepods/burstable/pod1/abc', 'memory.stat'], '/sys/fs/cgroup/memory/kubepods/burstable/pod1/abc/memory.stat'],
    ]
    for (const [parts, expected] of cases) expect(hostPath(...parts), JSON.stringify(parts)).toBe(expected)
  })
})
