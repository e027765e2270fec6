import {readFileSync, readdirSync, readlinkSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {parseCmdline, parseNamespaceLink, parseProcStat, parseProcStatus, statFromStatus} from '../../../src/parse/proc.js'

// real text, read from this very process
describe('/proc/<pid> files of this process', () => {
  it('stat', () => {
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'))!
    expect(stat.pid).toBe(Number(readlinkSync('/proc/self')))
    expect(stat.ppid).toBeGreaterThan(0)
    expect(stat.state).toMatch(/^[RSD]$/)
    expect(stat.startTime).toBeGreaterThan(0)
  })
  it('stat with spaces and parentheses in comm', () => {
    const line = '4242 (a (weird) name) Z 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0'
    expect(parseProcStat(line)).toEqual({pid: 4242, comm: 'a (weird) name', state: 'Z', ppid: 1, startTime: 987654})
  })
  it('status', () => {
    const status = parseProcStatus(readFileSync('/proc/self/status', 'utf8'))!
    expect(status.name).toBe(readFileSync('/proc/self/comm', 'utf8').trim())
    expect(status.nsPid).toEqual([Number(readlinkSync('/proc/self'))])
    expect(status.uid).toHaveLength(4)
    expect(status.capEff).toMatch(/^[0-9a-f]{16}$/)
    expect(status.noNewPrivs).toBe(false)
  })
  it('status of a process nested in a PID namespace', () => {
    const text = 'Name:\tsleep\nState:\tS (sleeping)\nPPid:\t4200\nNSpid:\t4242\t7\t1\nUid:\t0\t0\t0\t0\nNoNewPrivs:\t1\nSeccomp:\t2\n'
    expect(parseProcStatus(text)).toMatchObject({state: 'S', nsPid: [4242, 7, 1], noNewPrivs: true, seccomp: 2})
  })
  it('garbage is refused, not thrown on', () => {
    expect(parseProcStat('not a stat line')).toBeUndefined()
    expect(parseProcStatus('nothing: here')).toBeUndefined()
  })
  it('cmdline', () => {
    expect(parseCmdline(readFileSync('/proc/self/cmdline', 'utf8'))).toEqual(process.argv.length ? expect.arrayContaining([process.execPath.split('/').pop() === 'node' ? expect.stringMatching(/node/) : expect.any(String)]) : [])
    expect(parseCmdline('sleep\u000010000\u0000')).toEqual(['sleep', '10000'])
    expect(parseCmdline('')).toEqual([])
  })
  it('namespace links', () => {
    expect(parseNamespaceLink(readlinkSync('/proc/self/ns/net'))).toBeGreaterThan(4026531000)
    expect(parseNamespaceLink('pid_for_children:[4026531836]')).toBe(4026531836)
    expect(parseNamespaceLink('garbage')).toBeUndefined()
  })
})

describe('statFromStatus: what stat says, from status', () => {
  it('agrees with stat for every process on this machine (kernel threads included)', () => {
    let compared = 0
    for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let statusText: string, before: string, after: string
      try {
        before = readFileSync(`/proc/${name}/stat`, 'utf8')
        statusText = readFileSync(`/proc/${name}/status`, 'utf8')
        after = readFileSync(`/proc/${name}/stat`, 'utf8')
      } catch {
        continue // exited meanwhile
      }
      const [first, stat] = [parseProcStat(before)!, parseProcStat(after)!]
      // only a process that was the same one, under the same name, across the three reads: one
      // that exec'd (a new comm) or exited and whose PID was taken again (a new start time) is
      // another process by the time status is read; a mismatch of a steady process still fails
      if (first.comm !== stat.comm || first.startTime !== stat.startTime) continue
      const fromStatus = statFromStatus(statusText, parseProcStatus(statusText)!)
      // a process may change state or parent between the reads; comm is what can differ for good
      if (fromStatus) {
        expect(fromStatus.comm).toBe(stat.comm)
        compared++
      } else expect(stat.comm).toMatch(/[\\\n]/)
    }
    expect(compared).toBeGreaterThan(10)
    const self = statFromStatus(readFileSync('/proc/self/status', 'utf8'), parseProcStatus(readFileSync('/proc/self/status', 'utf8'))!)!
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'))!
    expect(self).toEqual({comm: stat.comm, state: stat.state, ppid: stat.ppid})
  })
  it('says nothing where status cannot stand for stat', () => {
    // the kernel escapes "\\" and "\n" in Name only: comm is then not Name as it is
    const escaped = 'Name:\ta\\nb\nState:\tS (sleeping)\nPPid:\t1\n'
    expect(statFromStatus(escaped, parseProcStatus(escaped)!)).toBeUndefined()
    const noParent = 'Name:\tsleep\nState:\tS (sleeping)\n'
    expect(statFromStatus(noParent, parseProcStatus(noParent)!)).toBeUndefined()
    const oddState = 'Name:\tsleep\nState:\t?? (what)\nPPid:\t1\n'
    expect(statFromStatus(oddState, parseProcStatus(oddState)!)).toBeUndefined()
    const zombie = 'Name:\tdefunct thing\nState:\tZ (zombie)\nPPid:\t4200\nNSpid:\t4242\n'
    expect(statFromStatus(zombie, parseProcStatus(zombie)!)).toEqual({comm: 'defunct thing', state: 'Z', ppid: 4200})
  })
  it('status read as a Map of its lines and split(/\\s+/) read it, on every process of this machine', () => {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      let text: string
      try {
        text = readFileSync(`/proc/${pid}/status`, 'utf8')
      } catch {
        continue // exited meanwhile
      }
      expect(parseProcStatus(text)).toEqual(statusByMap(text))
    }
  })
  it('words split at every character \\s matches, and at no other', () => {
    for (let code = 0; code < 0x10000; code++) {
      const c = String.fromCharCode(code)
      const text = `Name:\tx\nState:\tS${c}y\nNSpid:\t${c}4242${c}${c}7${c}\nUid:\t1${c}2\nGid:\t${c}\nSeccomp:\t2\n`
      expect(parseProcStatus(text), `U+${code.toString(16)}`).toEqual(statusByMap(text))
    }
  })
  it('status keys read once each, the last of a repeated key counting', () => {
    expect(parseProcStatus('Name:\ta\nState:\tR (running)\nName:\tb\nweird line\n:\tnothing\nPPid:\t9')).toMatchObject({name: 'b', state: 'R', ppid: 9})
  })
})

/** The plain reading of a status (a Map of its lines, split(/\s+/)): what parseProcStatus must give, without the Map. */
function statusByMap(text: string): ReturnType<typeof parseProcStatus> {
  const fields = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  if (!fields.has('Name') || !fields.has('State')) return undefined
  const numbers = (key: string) => (fields.get(key) ?? '').split(/\s+/).filter(Boolean).map(Number)
  const optional = (key: string) => (fields.has(key) ? Number(fields.get(key)) : null)
  return {
    name: fields.get('Name')!,
    state: fields.get('State')!.split(/\s+/)[0],
    ppid: Number(fields.get('PPid') ?? 0),
    nsPid: numbers('NSpid'),
    uid: numbers('Uid'),
    gid: numbers('Gid'),
    capEff: fields.get('CapEff') ?? null,
    capBnd: fields.get('CapBnd') ?? null,
    noNewPrivs: fields.has('NoNewPrivs') ? fields.get('NoNewPrivs') === '1' : null,
    seccomp: optional('Seccomp'),
    threads: optional('Threads'),
  }
}
