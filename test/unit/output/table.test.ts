import {afterEach, describe, expect, it} from 'vitest'
import {age, bytes, columns, elide, foldLines, tableOptions} from '../../../src/output/table.js'

afterEach(() => Object.assign(tableOptions, {headers: true, width: Infinity}))

describe('columns', () => {
  it('pads kubectl-style: upper-case headers, three spaces, no trailing blanks, - for empty', () => {
    expect(columns(['name', 'ip'], [['a', '10.0.0.1'], ['bb', null]])).toBe('NAME   IP\na      10.0.0.1\nbb     -\n')
  })

  it('fits the width by shortening the longest cells in the middle, keeping more of a path\'s end', () => {
    Object.assign(tableOptions, {width: 40})
    const out = columns(['destination', 'source'], [['/etc/hosts', `/var/lib/kubelet/pods/${'7'.repeat(36)}/etc-hosts`], ['/dev/shm', '/run/shm']])
    for (const line of out.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(40)
    expect(out).toMatch(/\/var\/l?i?.*\.\.\..*etc-hosts/)
    expect(out).toContain('/run/shm')
  })

  it('drops headers when asked, and lays out 10k rows a line each (bench/table.mjs times it)', () => {
    Object.assign(tableOptions, {headers: false})
    expect(columns(['a'], [['x']])).toBe('x\n')
    const many = Array.from({length: 10_000}, (_, i) => [i, `svc-${i}`, `10.96.${i >> 8}.${i & 255}`, 'KUBE-SVC-ABCDEFGHIJKLMNOP'])
    const lines = columns(['n', 'name', 'ip', 'chain'], many).split('\n')
    expect(lines).toHaveLength(10_001)
    expect(lines[9999]).toBe('9999   svc-9999   10.96.39.15    KUBE-SVC-ABCDEFGHIJKLMNOP')
  })

  it('pads by what a terminal shows: wide and combining characters measured, control characters escaped first', () => {
    Object.assign(tableOptions, {headers: true, width: Infinity})
    const out = columns(['name', 'x'], [['\u4e2d\u6587', 1], ['e\u0301t\u00e9', 2], ['a\x1b[2Jb', 3], ['tab\there', 4]])
    expect(out).toBe([
      'NAME        X', // the column is 9 wide: the escaped cells
      '\u4e2d\u6587        1', // two wide characters: four columns
      'e\u0301t\u00e9         2', // three columns: the accent combines
      'a\\x1b[2Jb   3', // ESC written out
      'tab\\there   4',
      '',
    ].join('\n'))
  })
})

describe('elide', () => {
  it('keeps start and end of an ID, more of the end of a path, and never exceeds the width', () => {
    expect(elide('0f9b4aa1a22dd3c8e1', 13)).toBe('0f9b4...3c8e1')
    expect(elide('/var/lib/kubelet/pods/abc/etc-hosts', 20)).toBe('/var/l...c/etc-hosts')
    for (const w of [4, 8, 13, 20]) expect(elide('x'.repeat(50), w).length).toBe(w)
    expect(elide('short', 20)).toBe('short')
  })

  it('measures wide characters by their width, not their length', () => {
    // 10 characters, 20 columns: printable ASCII alone is as wide as it is long
    expect(elide('界'.repeat(10), 13)).toBe('界'.repeat(5) + '...' + '界'.repeat(5))
    expect(elide('界'.repeat(6), 13)).toBe('界'.repeat(6))
  })
})

describe('humanized values', () => {
  it('prints sizes one way, in binary units', () => {
    expect([bytes(209715200), bytes(314572800), bytes(3313664), bytes(454656), bytes(512), bytes(0), bytes(null)]).toEqual(['200Mi', '300Mi', '3.2Mi', '444Ki', '512', '0', undefined])
    expect(bytes(5 * 1024 ** 3 + 1)).toBe('5Gi')
  })

  it('prints AGE as kubectl does', () => {
    expect([age(45), age(150), age(5 * 60), age(75 * 60), age(5 * 3600), age(50 * 3600), age(9 * 86400), age(null)]).toEqual(['45s', '2m30s', '5m', '1h15m', '5h', '2d2h', '9d', undefined])
  })
})

describe('foldLines', () => {
  it('folds prose past the width under its value column, and leaves short lines alone', () => {
    const line = 'FAIL kubelet   why: without a kubelet no pod on this node is started, watched or reported to the API server'
    const folded = foldLines(line, 60).split('\n')
    expect(folded.length).toBeGreaterThan(1)
    for (const l of folded) expect(l.length).toBeLessThanOrEqual(60)
    expect(folded[1].startsWith(' '.repeat(15))).toBe(true)
    expect(foldLines('short line', 60)).toBe('short line')
  })

  it('folds a line of wide characters that is shorter than the width but wider', () => {
    const line = 'name   ' + Array.from({length: 8}, () => '界界界界').join(' ')
    expect(line.length).toBeLessThan(60)
    expect(foldLines(line, 60).split('\n')).toHaveLength(2)
  })
})
