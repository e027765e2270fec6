import {describe, expect, it} from 'vitest'
import {selectEntries} from '../../../src/logs/read.js'
import {parseCriLog} from '../../../src/parse/cri-log.js'

describe('selectEntries', () => {
  const {entries} = parseCriLog([
    '2024-05-01T10:00:03Z stdout F c',
    '2024-05-01T10:00:01Z stderr F a',
    '2024-05-01T06:00:02-04:00 stdout F b',
    '2024-05-01T10:00:04Z stderr F d',
  ].join('\n'))
  it('merges stdout and stderr by time across offsets', () => {
    expect(selectEntries(entries, {}).map((e) => e.text)).toEqual(['a', 'b', 'c', 'd'])
  })
  it('keeps streams apart, cuts by --since and --tail', () => {
    expect(selectEntries(entries, {stream: 'stderr'}).map((e) => e.text)).toEqual(['a', 'd'])
    expect(selectEntries(entries, {sinceUnixNano: 1714557602000000000n}).map((e) => e.text)).toEqual(['b', 'c', 'd'])
    expect(selectEntries(entries, {tail: 2}).map((e) => e.text)).toEqual(['c', 'd'])
    expect(selectEntries(entries, {tail: 0})).toEqual([])
  })
})
