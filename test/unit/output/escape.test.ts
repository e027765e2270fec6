import {describe, expect, it} from 'vitest'
import {escapeControl, escapeDeep, printable, printableLine, terminalSafe} from '../../../src/output/escape.js'
import {parseOutputFormat, renderOutput} from '../../../src/output/output.js'
import {columns} from '../../../src/output/table.js'

// what a hostile argv or log line carries: a title change, a screen clear, a clipboard write
// (OSC 52), a bidi override, and a newline that would make a table row of its own
const HOSTILE = 'sleep \x1b]0;owned\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07\u202eevil\nFORGED 1 2 3\r\x9b31m'

describe('escapeControl', () => {
  it('writes every control character out, leaves the rest', () => {
    expect(escapeControl(HOSTILE)).toBe('sleep \\x1b]0;owned\\x07\\x1b[2J\\x1b]52;c;ZWNobyBoaQ==\\x07\\u202eevil\\nFORGED 1 2 3\\r\\x9b31m')
    expect(escapeControl('plain text, ünïcödé, 日本語, tab\there')).toBe('plain text, ünïcödé, 日本語, tab\\there')
    expect(escapeControl('a\tb\x1bc', '\t')).toBe('a\tb\\x1bc')
    expect(escapeControl('\u2028\u2066\x7f\x00')).toBe('\\u2028\\u2066\\x7f\\x00')
  })

  it('escapes every string inside a record, keeps numbers and nulls', () => {
    expect(escapeDeep({a: HOSTILE, n: 1, z: null, list: [{b: 'x\ny'}]})).toEqual({a: escapeControl(HOSTILE), n: 1, z: null, list: [{b: 'x\\ny'}]})
    // copy on write: what needs no escape is the same object, what does is a copy (the input untouched)
    const record = {clean: {list: ['a', 'b']}, dirty: [{b: 'x\ny'}, {c: 'ok'}]}
    const escaped = escapeDeep(record)
    expect(escaped.clean).toBe(record.clean)
    expect(escaped.dirty[1]).toBe(record.dirty[1])
    expect(escaped.dirty).not.toBe(record.dirty)
    expect(record.dirty[0].b).toBe('x\ny')
    expect(escaped).toEqual({clean: {list: ['a', 'b']}, dirty: [{b: 'x\\ny'}, {c: 'ok'}]})
  })
})

describe('printable', () => {
  it('keeps tabs, line breaks and other scripts in a composed line, escapes what acts on a terminal', () => {
    expect(printable('a\u001b[31mb\r\u202ec\td\ne')).toBe('a\\x1b[31mb\\r\\u202ec\td\ne')
    expect(printable('名前 ok')).toBe('名前 ok')
  })

  it('cuts one untrusted line, its line breaks escaped', () => {
    expect(printableLine('x'.repeat(300), 10)).toBe('xxxxxxxxx…')
    expect(printableLine('a\nb\tc')).toBe('a\\nb\tc')
  })
})

describe('terminalSafe', () => {
  it('keeps line breaks and SGR colours, escapes every other sequence', () => {
    expect(terminalSafe('\x1b[1mbold\x1b[22m\nnext \x1b[31mred\x1b[39m')).toBe('\x1b[1mbold\x1b[22m\nnext \x1b[31mred\x1b[39m')
    expect(terminalSafe('a\x1b]0;t\x07b\x1b[2Jc\rd')).toBe('a\\x1b]0;t\\x07b\\x1b[2Jc\\rd')
  })
})

describe('tables', () => {
  it('a newline in a cell does not make a row', () => {
    const out = columns(['pid', 'command'], [[1, 'a\nFORGED 2 x'], [3, 'b']])
    expect(out.split('\n').filter(Boolean)).toHaveLength(3)
    expect(out).not.toMatch(/^FORGED/m)
  })

  it('renderOutput: tables and names escaped whatever the view does; JSON, YAML and jsonpath exact', () => {
    const view = (v: {command: string}) => `COMMAND: ${v.command}\n`
    const shape = {kind: 'Process', name: (r: {command: string}) => `process/${r.command}`}
    const at = {node: 'n', capturedAt: ''}
    const render = (format: string, value: {command: string}, options = {}) => renderOutput(value, parseOutputFormat(format), view, shape, at, options)
    expect(render('wide', {command: HOSTILE})).toBe(`COMMAND: ${escapeControl(HOSTILE)}\n`)
    expect(render('table', {command: HOSTILE})).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/)
    expect(render('name', {command: HOSTILE})).toBe(`process/${escapeControl(HOSTILE)}\n`)
    expect(render('custom-columns=CMD:.command', {command: HOSTILE})).toBe(`CMD\n${escapeControl(HOSTILE)}\n`)
    expect(JSON.parse(render('json', {command: HOSTILE})).command).toBe(HOSTILE)
    expect(render('jsonpath={.command}', {command: HOSTILE})).toBe(HOSTILE)
    expect(render('yaml', {command: HOSTILE})).not.toContain('\x1b')
    expect(render('wide', {command: 'x\x1b[2J'}, {raw: true})).toBe('COMMAND: x\x1b[2J\n')
  })
})
