import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseConntrack, parseConntrackLine} from '../../../src/parse/conntrack.js'
import {parseOomKills} from '../../../src/parse/kernel-log.js'
import {parseResolvConf, searchFanOut} from '../../../src/parse/resolv-conf.js'
import {describeExit, parseContainerdStatus, parseCrioExit} from '../../../src/parse/runtime-status.js'
import {answers, parseProcNetSockets} from '../../../src/parse/sockets.js'

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/why', name), 'utf8')

describe('resolv.conf', () => {
  it('reads the file containerd wrote for a pod', () => {
    expect(parseResolvConf(fixture('resolv.conf'))).toEqual({
      nameservers: ['10.96.0.10'], search: ['why-x.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5, timeout: null, attempts: null, options: [], unknownLines: 0,
    })
    expect(searchFanOut(parseResolvConf(fixture('resolv.conf')), 2)).toBe(3)
  })

  it('follows the resolver: the last search line wins, options add up and are capped, comments and junk are not kept', () => {
    const conf = parseResolvConf('# hi\nsearch a b\ndomain c\nnameserver 10.0.0.1 ; x\noptions ndots:99 timeout:2\noptions attempts:9 rotate\n\u001b[31mjunk\n')
    expect(conf).toEqual({nameservers: ['10.0.0.1'], search: ['c'], ndots: 15, timeout: 2, attempts: 5, options: ['rotate'], unknownLines: 1})
  })
})

describe('runtime exit records', () => {
  it('reads containerd\'s status file: running, then OOMKilled while still running', () => {
    expect(parseContainerdStatus(fixture('containerd-status-running.json'))).toEqual({
      pid: 481, exitCode: null, reason: null, message: null, startedAt: '2026-11-30T22:47:56.415Z', finishedAt: null,
    })
    expect(parseContainerdStatus(fixture('containerd-status-oomkilled-running.json')).reason).toBe('OOMKilled')
  })

  it('reads an exited one and CRI-O\'s exit file', () => {
    const exited = parseContainerdStatus('{"Version":"v1","Pid":9,"StartedAt":1796078876415122630,"FinishedAt":1796078880000000000,"ExitCode":137,"Reason":"OOMKilled"}')
    expect(exited).toMatchObject({exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-11-30T22:48:00.000Z'})
    expect(parseCrioExit('137\n')).toBe(137)
    expect(parseCrioExit('x')).toBeNull()
    expect(describeExit(137)).toBe('exit 137 (SIGKILL)')
    expect(describeExit(1)).toBe('exit 1')
  })
})

describe('kernel OOM lines', () => {
  it('reads the oom-kill line of a memory cgroup kill', () => {
    expect(parseOomKills(fixture('dmesg-oom.txt'))).toEqual([{
      uptimeSeconds: 5891.218184,
      oomMemcg: '/kubepods/burstable/podb5f321d3-dd1b-46f5-a8b9-2b4e62e27979',
      taskMemcg: '/kubepods/burstable/podb5f321d3-dd1b-46f5-a8b9-2b4e62e27979/da687a4ce3b1c5700552edb8d1b7589daf3a3ccff0d1bf19f83cb223ef2d570b',
      task: 'python3', pid: 507,
    }])
  })
})

describe('/proc/net sockets', () => {
  it('reads bound udp sockets, v4 and v6, and tcp listeners', () => {
    const udp = parseProcNetSockets(fixture('proc-net-udp.txt'), 'udp', 'ipv4').sockets
    const udp6 = parseProcNetSockets(fixture('proc-net-udp6.txt'), 'udp', 'ipv6').sockets
    expect(udp.find((s) => s.localPort === 5353)).toMatchObject({localAddress: '127.0.0.1', peerAddress: '0.0.0.0', peerPort: 0, state: 'UNCONN'})
    expect(udp6.find((s) => s.localPort === 5354)).toMatchObject({localAddress: '::', peerPort: 0})
    expect(answers([...udp, ...udp6], 'udp', '10.1.2.3', 5354)?.localPort).toBe(5354)
    expect(answers(udp, 'udp', '10.1.2.3', 5353)).toBeUndefined()
    const tcp = parseProcNetSockets(fixture('proc-net-tcp.txt'), 'tcp', 'ipv4').sockets
    expect(tcp.length).toBeGreaterThan(0)
    expect(tcp.find((s) => s.state === 'LISTEN' && s.localAddress === '127.0.0.1')).toBeDefined()
  })
})

describe('conntrack', () => {
  it('reads conntrack -L and /proc/net/nf_conntrack lines alike', () => {
    const cli = 'udp      17 28 src=10.88.0.5 dst=10.96.0.10 sport=40000 dport=53 src=10.88.0.6 dst=10.88.0.5 sport=53 dport=40000 mark=0 use=1'
    const proc = 'ipv4     2 udp      17 28 src=10.88.0.5 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.96.0.10 dst=10.88.0.5 sport=53 dport=40000 mark=0 zone=0 use=2'
    expect(parseConntrackLine(cli)).toMatchObject({protocol: 'udp', timeout: 28, state: null, original: {src: '10.88.0.5', dst: '10.96.0.10', sport: 40000, dport: 53}, reply: {src: '10.88.0.6', dst: '10.88.0.5', sport: 53, dport: 40000}, flags: []})
    expect(parseConntrackLine(proc)).toMatchObject({reply: {src: '10.96.0.10'}, flags: ['UNREPLIED']})
    expect(parseConntrack('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n')).toEqual([])
    const tcp = parseConntrackLine('tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [ASSURED] mark=0 use=1')
    expect(tcp).toMatchObject({state: 'ESTABLISHED', flags: ['ASSURED']})
  })
})
