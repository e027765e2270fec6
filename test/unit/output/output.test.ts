import {describe, expect, it} from 'vitest'
import {type DocumentShape, envelope, parseOutputFormat, renderOutput, sortRecords, writeOutput} from '../../../src/output/output.js'
import {columns} from '../../../src/output/table.js'

interface Row {pid: number; name: string; pod: {ns: string} | null}
const rows: Row[] = [
  {pid: 30, name: 'sleep', pod: {ns: 'default'}},
  {pid: 4, name: 'pause', pod: {ns: 'kube-system'}},
  {pid: 200, name: 'agent', pod: null},
]
const LIST: DocumentShape<Row[]> = {kind: 'ProcessList', name: (r: Row) => `process/${r.pid}`}
const provenance = {node: 'worker-1', capturedAt: '2026-11-30T10:00:00.000Z'}
const table = (value: Row[]) => columns(['pid', 'name'], value.map((r) => [r.pid, r.name]))
const render = (format: string, options = {}) => renderOutput(rows, parseOutputFormat(format), table, LIST, provenance, options)

describe('output formats', () => {
  it('wraps JSON and YAML in one envelope: apiVersion, kind, node, capturedAt, then items or the record', () => {
    expect(JSON.parse(render('json'))).toEqual({apiVersion: 'nodedoc/v1', kind: 'ProcessList', node: 'worker-1', capturedAt: provenance.capturedAt, items: rows})
    expect(render('yaml')).toMatch(/^apiVersion: nodedoc\/v1\nkind: ProcessList\nnode: worker-1\n/)
    expect(envelope({name: 'x', uid: 'u'}, {kind: 'Pod'}, provenance)).toEqual({apiVersion: 'nodedoc/v1', kind: 'Pod', node: 'worker-1', capturedAt: provenance.capturedAt, name: 'x', uid: 'u'})
  })

  it('prints kubectl names, one per record', () => {
    expect(render('name')).toBe('process/30\nprocess/4\nprocess/200\n')
  })

  it('renders kubectl jsonpath templates: paths, wildcards, range, literals, filters', () => {
    expect(render('jsonpath={.items[*].pid}')).toBe('30 4 200')
    expect(render('jsonpath={range .items[*]}{.pid}{"\\t"}{.name}{"\\n"}{end}')).toBe('30\tsleep\n4\tpause\n200\tagent\n')
    expect(render('jsonpath={.items[?(@.name=="pause")].pid}')).toBe('4')
    expect(render('jsonpath=node {.node} at {.capturedAt}')).toBe(`node worker-1 at ${provenance.capturedAt}`)
    expect(render('jsonpath={.items[0].pod}')).toBe('{"ns":"default"}')
    expect(render('jsonpath=.kind')).toBe('ProcessList')
  })

  it('lays out custom columns, with or without headers, <none> where a path finds nothing', () => {
    expect(render('custom-columns=PID:.pid,NS:.pod.ns')).toBe('PID   NS\n30    default\n4     kube-system\n200   <none>\n')
    expect(render('custom-columns=PID:.pid', {noHeaders: true})).toBe('30\n4\n200\n')
  })

  it('sorts by a JSONPath: numbers as numbers, strings in byte order, missing values last', () => {
    expect(sortRecords(rows, LIST, '.pid').map((r) => r.pid)).toEqual([4, 30, 200])
    expect(sortRecords(rows, LIST, '{.name}').map((r) => r.name)).toEqual(['agent', 'pause', 'sleep'])
    expect(sortRecords(rows, LIST, '.pod.ns').map((r) => r.pid)).toEqual([30, 4, 200])
    expect(render('table', {sortBy: '.pid', noHeaders: true})).toBe('4     pause\n30    sleep\n200   agent\n')
  })

  it('refuses a format or template it cannot read, as a usage error', () => {
    for (const bad of ['bogus', 'jsonpath=', 'custom-columns=PID', 'jsonpath={range .items[*]}{.pid}', 'jsonpath={end}', 'jsonpath={.items[']) {
      expect(() => parseOutputFormat(bad), bad).toThrow(expect.objectContaining({exitCode: 2}))
    }
  })

  it('writes JSON in pieces, record by record, byte for byte what JSON.stringify makes of the whole document', () => {
    // what JSON.stringify treats specially: undefined fields and list entries, nested empties, dates, line breaks and quotes in strings
    const tricky = {
      mode: 'iptables', gone: undefined, fn: () => 1, empty: [], none: {}, at: new Date(0), n: null,
      items: [{a: 'x\ny "q" \u2028', b: [1, [2, []], {}], c: undefined}, undefined, 'plain', 3, [{d: [{e: 'deep'}]}], null],
      notes: ['one'],
    }
    const shape: DocumentShape<typeof tricky> = {kind: 'Tricky'}
    const whole = JSON.stringify(envelope(tricky, shape, provenance), null, 2) + '\n'
    const chunks: string[] = []
    writeOutput(tricky, {kind: 'json'}, () => '', shape, provenance, {}, (chunk) => chunks.push(chunk))
    expect(chunks.join('')).toBe(whole)
    expect(renderOutput(tricky, {kind: 'json'}, () => '', shape, provenance)).toBe(whole)
    expect(render('json')).toBe(JSON.stringify(envelope(rows, LIST, provenance), null, 2) + '\n')
    // a list of thousands goes out in many pieces, and still reads back whole
    const many = Array.from({length: 20_000}, (_, i) => ({pid: i, name: `process-${i}`.repeat(5), pod: i % 3 ? null : {ns: 'default'}}))
    const big: string[] = []
    writeOutput(many, {kind: 'json'}, table, LIST, provenance, {}, (chunk) => big.push(chunk))
    expect(big.length).toBeGreaterThan(2)
    expect(big.join('')).toBe(JSON.stringify(envelope(many, LIST, provenance), null, 2) + '\n')
  })
})
