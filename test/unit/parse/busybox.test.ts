import {describe, expect, it} from 'vitest'
import {parseBusyboxList} from '../../../src/parse/busybox.js'

describe('parseBusyboxList', () => {
  it('reads busybox --list', () => {
    expect(parseBusyboxList('[\n[[\nbusybox\nsh\nls\n\n')).toEqual(['[', '[[', 'sh', 'ls'])
  })
})
