import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CriLogJoiner, parseCriLine, parseCriLog, parseRfc3339Nano} from '../../../src/parse/cri-log.js'
import {CORPUS, HAVE_CORPUS, NO_CORPUS_MESSAGE} from '../../helpers/corpus.js'

const corpus = join(CORPUS, 'cri-logs')

describe('parseRfc3339Nano', () => {
  it('reads Z, +00:00 and -04:00 offsets to the same instant', () => {
    const z = parseRfc3339Nano('2020-01-26T07:17:29.346494690Z')
    expect(z).toBe(1580023049346494690n)
    expect(parseRfc3339Nano('2020-01-26T07:17:29.346494690+00:00')).toBe(z)
    expect(parseRfc3339Nano('2020-01-26T03:17:29.346494690-04:00')).toBe(z)
    expect(parseRfc3339Nano('2020-01-26T12:47:29.34649469+05:30')).toBe(z)
  })
  it('keeps all nine fraction digits and accepts none', () => {
    expect(parseRfc3339Nano('2016-10-06T00:17:09.669794203Z')! - parseRfc3339Nano('2016-10-06T00:17:09.669794202Z')!).toBe(1n)
    expect(parseRfc3339Nano('2016-10-06T00:17:09Z')).toBe(1475713029000000000n)
  })
  it('rejects what is not RFC3339', () => {
    for (const bad of ['2016-10-06 00:17:09Z', '2016-10-06T00:17:09', '2016-13-06T00:17:09Z', '2016-10-06T00:17:09.1234567890Z', 'yesterday']) {
      expect(parseRfc3339Nano(bad), bad).toBeUndefined()
    }
  })
})

describe('parseCriLine', () => {
  it('splits time, stream, tag and keeps the text byte for byte (spaces included)', () => {
    expect(parseCriLine('2024-05-01T10:00:00.5Z stderr F   indented  text ')).toEqual({
      time: '2024-05-01T10:00:00.5Z', unixNano: 1714557600500000000n, stream: 'stderr', partial: false, text: '  indented  text ',
    })
  })
  it('takes the first of several ":"-separated tags and an empty message', () => {
    expect(parseCriLine('2024-05-01T10:00:00Z stdout P:x ').partial).toBe(true)
    expect(parseCriLine('2024-05-01T10:00:00Z stdout F').text).toBe('')
  })
  it('names the field that is wrong', () => {
    expect(() => parseCriLine('2024-05-01T10:00:00Z stdlog F x')).toThrow(/stream "stdlog"/)
    expect(() => parseCriLine('2024-05-01T10:00:00Z stdout X x')).toThrow(/tag "X"/)
    expect(() => parseCriLine('{"log":"docker json-file","stream":"stdout"}')).toThrow(/not a CRI log line|time/)
  })
})

describe('CriLogJoiner', () => {
  it('joins P fragments per stream, even when the other stream interleaves', () => {
    const {entries, bad} = parseCriLog([
      '2024-05-01T10:00:00.1Z stdout P out-a ',
      '2024-05-01T10:00:00.2Z stderr F err whole',
      '2024-05-01T10:00:00.3Z stdout P out-b ',
      '2024-05-01T10:00:00.4Z stdout F out-c',
      '',
    ].join('\n'))
    expect(bad).toEqual([])
    expect(entries.map((e) => [e.stream, e.text, e.time, e.incomplete])).toEqual([
      ['stderr', 'err whole', '2024-05-01T10:00:00.2Z', false],
      ['stdout', 'out-a out-b out-c', '2024-05-01T10:00:00.1Z', false],
    ])
  })
  it('carries an open fragment across files and numbers bad lines per file', () => {
    const j = new CriLogJoiner()
    expect(j.push('2024-05-01T10:00:00Z stdout P head-')).toEqual([])
    j.startFile()
    expect(j.push('garbage')).toEqual([])
    expect(j.push('2024-05-01T10:00:01Z stdout F tail').map((e) => e.text)).toEqual(['head-tail'])
    expect(j.bad).toEqual([{line: 1, message: expect.stringMatching(/not a CRI log line/)}])
  })
})

describe('a line split inside a character', () => {
  // containerd cuts long lines every 16 KiB of bytes, wherever that falls: here inside "語"
  const text = 'x'.repeat(16383) + '日本語'.repeat(3)
  const bytes = Buffer.from(text)
  const cut = 16384 + 2 // one byte into the second character
  const file = Buffer.concat([
    Buffer.from('2024-05-01T10:00:00.1Z stdout P '), bytes.subarray(0, cut), Buffer.from('\n'),
    Buffer.from('2024-05-01T10:00:00.2Z stdout F '), bytes.subarray(cut), Buffer.from('\n'),
  ])

  it('comes back whole: the fragments are joined as bytes, then decoded', () => {
    const {entries, bad} = parseCriLog(file)
    expect(bad).toEqual([])
    expect(entries.map((e) => e.text)).toEqual([text])
    expect(entries[0].text).not.toContain('\uFFFD')
  })

  it('also when the fragments are in two files (rotation between them)', () => {
    const j = new CriLogJoiner()
    const newline = file.indexOf(0x0a)
    const out = [...j.push(file.subarray(0, newline)), ...j.push(file.subarray(newline + 1, file.length - 1))]
    expect(out.map((e) => e.text)).toEqual([text])
  })
})

describe('corpus cri-logs', () => {
  it.skipIf(!HAVE_CORPUS)('spec example: two P lines with no F are shown at EOF, joined, marked incomplete', () => {
    const text = readFileSync(join(corpus, 'spec-example-partial-lines-k8s-pr55922.log'), 'utf8')
    expect(parseCriLog(text)).toEqual({
      entries: [{time: '2016-10-06T00:17:09.669794202Z', unixNano: 1475713029669794202n, stream: 'stdout', text: 'log content 1log content 2', incomplete: true}],
      bad: [],
    })
  })
  it.skipIf(!HAVE_CORPUS)('CRI-O +00:00 offsets: five whole stderr lines, in order', () => {
    const text = readFileSync(join(corpus, 'crio-openshift-alertmanager-proxy-crio-3181.log'), 'utf8')
    const {entries, bad} = parseCriLog(text)
    expect(bad).toEqual([])
    const lines = text.trimEnd().split('\n')
    expect(entries).toHaveLength(lines.length)
    entries.forEach((entry, i) => {
      // every field re-assembles to the line as written
      expect(`${entry.time} ${entry.stream} F ${entry.text}`).toBe(lines[i])
      expect(entry.incomplete).toBe(false)
    })
    expect(entries[0].unixNano).toBe(parseRfc3339Nano('2020-01-26T03:17:29.346494690Z'))
    expect(entries[3].text).toBe('2020/01/26 03:17:29 oauthproxy.go:200: mapping path "/" => upstream "http://localhost:9093/"')
  })
  // with ../shared/corpus present, a missing cri-logs folder fails here (readdirSync throws)
  it.skipIf(!HAVE_CORPUS)('every .log file in the corpus parses with no bad line', () => {
    const files = readdirSync(corpus).filter((f) => f.endsWith('.log'))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      const {entries, bad} = parseCriLog(readFileSync(join(corpus, f), 'utf8'))
      expect(bad, f).toEqual([])
      expect(entries.length, f).toBeGreaterThan(0)
    }
  })
  if (!HAVE_CORPUS) it.skip(`corpus tests: ${NO_CORPUS_MESSAGE}`, () => {})
})
