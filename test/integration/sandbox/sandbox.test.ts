// The seed's pods built by `nodedoc sandbox` on the real kernel, checked from inside and outside.
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CLI_ENV, IS_ROOT, cli, ensureBuilt, manifestFile, podYaml, suffix, testCidr} from './helpers.js'
import {itemsOf} from '../../helpers/volatile.js'
import type {ProcessRecord} from '../../../src/pods/types.js'

const run = IS_ROOT ? describe : describe.skip
const id = suffix()
const ns = `nd-sbx-${id}`
const cidr = testCidr()
const names = {core: `core-k8s-${id}`, greedy: `greedy-${id}`, tiny: `tiny-${id}`, duo: `duo-${id}`}
const sleepers = `    - name: any-old-name-will-do\n      image: busybox\n      command: ['sleep', '10000']\n`
const greedyContainer = `    - name: greedy\n      image: busybox\n      command: ['sleep', '10000']\n      resources:\n        requests: {memory: 100Mi}\n        limits: {memory: 200Mi}\n`
const duoContainers = `    - name: writer
      image: busybox
      command: ['sh', '-c', 'echo hello > /scratch/greeting; echo written; echo oops >&2; exec sleep 10000']
      volumeMounts: [{name: scratch, mountPath: /scratch}]
    - name: reader
      image: busybox
      command: ['sleep', '10000']
      volumeMounts:
        - {name: scratch, mountPath: /scratch}
        - {name: host-etc, mountPath: /host/etc, readOnly: true}
`
const duoVolumes = `  volumes:\n    - {name: scratch, emptyDir: {}}\n    - {name: host-etc, hostPath: {path: /etc}}\n`

interface Listed {name: string; podIp: string; podUid: string; hostVeth: string; containers: Array<{name: string; id: string; pid: number}>}
let listed: Record<string, Listed> = {}
const exec = (name: string, argv: string[], container?: string) => cli(['sandbox', 'exec', name, ...(container ? ['-c', container] : []), '--', ...argv])
const created: string[] = []

async function create(name: string, yaml: string, extra: string[] = []) {
  const result = await cli(['sandbox', 'create', '-f', manifestFile(yaml), '--name', name, '--pod-cidr', cidr, ...extra])
  if (result.exitCode === 0) created.push(name)
  return result
}

run('nodedoc sandbox on the real kernel', () => {
  beforeAll(async () => {
    ensureBuilt()
    for (const [name, yaml, extra] of [
      [names.core, podYaml(names.core, ns, sleepers), []],
      [names.greedy, podYaml(names.greedy, ns, greedyContainer), []],
      [names.tiny, podYaml(names.tiny, ns, sleepers), ['--pod-pids-limit', '4']],
      [names.duo, podYaml(names.duo, ns, duoContainers, duoVolumes), []],
    ] as Array<[string, string, string[]]>) {
      const r = await create(name, yaml, extra)
      if (r.exitCode !== 0) throw new Error(`create ${name}: ${r.stderr}`)
    }
    const ls = await cli(['sandbox', 'ls', '-o', 'json'])
    listed = Object.fromEntries(itemsOf<Listed>(JSON.parse(String(ls.stdout))).map((s) => [s.name, s]))
  })

  afterAll(async () => {
    for (const name of created) await cli(['sandbox', 'rm', name])
    for (const name of created) expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
    for (const s of Object.values(listed)) {
      for (const c of ['cpu', 'memory', 'pids']) {
        for (const qos of ['besteffort', 'burstable', '']) expect(existsSync(`/sys/fs/cgroup/${c}/kubepods/${qos}/pod${s.podUid}`.replace('//', '/'))).toBe(false)
      }
    }
  })

  it('shows only the pod processes inside, with its own PID 1', async () => {
    const r = await exec(names.core, ['ps', '-o', 'pid,args'])
    expect(r.exitCode).toBe(0)
    const rows = String(r.stdout).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/, 2))
    expect(rows[0]).toEqual(['1', 'sleep'])
    expect(rows.map(([, cmd]) => cmd).sort()).toEqual(['ps', 'sleep'])
    expect(listed[names.core].containers[0].pid).toBeGreaterThan(1)
  })

  it("gives the container the pod's environment only, as runc would: nothing of the CLI's (its cwd as OLDPWD)", async () => {
    const pid = listed[names.core].containers[0].pid
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).sort()
    expect(environ).toEqual(['HOSTNAME=' + names.core, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'])
    // and so does a command run with sandbox exec
    const r = await exec(names.core, ['env'])
    expect(r.exitCode).toBe(0)
    expect(String(r.stdout).trim().split('\n').sort()).toEqual(['HOSTNAME=' + names.core, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'])
  })

  it('cannot signal a host process from inside', async () => {
    const host = spawn('sleep', ['300'], {detached: true, stdio: 'ignore'})
    try {
      const r = await exec(names.core, ['kill', '-9', String(host.pid)])
      expect(r.exitCode).not.toBe(0)
      expect(String(r.stderr)).toMatch(/No such process/)
      expect(() => process.kill(host.pid!, 0)).not.toThrow()
    } finally {
      host.kill('SIGKILL')
    }
  })

  it('cannot reach paths outside its root', async () => {
    const secret = `/tmp/nd-secret-${id}`
    writeFileSync(secret, 'host only\n')
    try {
      expect(existsSync(secret)).toBe(true)
      const cat = await exec(names.core, ['cat', secret])
      expect(cat.exitCode).not.toBe(0)
      expect((await exec(names.core, ['ls', '/.oldroot'])).exitCode).not.toBe(0)
      expect((await exec(names.core, ['ls', '/run/nodedoc'])).exitCode).not.toBe(0)
      const mountinfo = String((await exec(names.core, ['cat', '/proc/self/mountinfo'])).stdout).split('\n')
      expect(mountinfo[0]).toMatch(/ \/ \/ rw,[^ ]* - overlay overlay /)
      expect(mountinfo.some((l) => / - ext4 /.test(l) && !/ \/etc\/(hosts|hostname|resolv\.conf) /.test(l))).toBe(false)
      // /dev/shm is the pod's own tmpfs (mounted by the pause's shell before any container copied the host's mounts), not the state dir's
      expect(mountinfo.filter((l) => / \/dev\/shm /.test(l)).map((l) => l.split(' - ')[1].split(' ').slice(0, 2).join(' '))).toEqual(['tmpfs shm'])
    } finally {
      rmSync(secret, {force: true})
    }
  })

  it('has eth0 with its IP, reaches another sandbox and has no route out', async () => {
    const core = listed[names.core]
    const greedy = listed[names.greedy]
    expect(core.podIp).not.toBe(greedy.podIp)
    const addr = await exec(names.core, ['ip', '-o', '-4', 'addr', 'show', 'eth0'])
    expect(String(addr.stdout)).toContain(`inet ${core.podIp}/24`)
    const ping = await exec(names.core, ['ping', '-c', '3', '-i', '0.2', '-W', '3', greedy.podIp])
    expect(ping.exitCode, String(ping.stdout) + ping.stderr).toBe(0)
    expect(String((await exec(names.core, ['ip', 'route'])).stdout)).not.toMatch(/default/)
    const hostRoute = await import('execa').then(({execa}) => execa('ip', ['route', 'show', `${core.podIp}/32`]))
    expect(String(hostRoute.stdout).trim()).toBe(`${core.podIp} dev ${core.hostVeth} scope host`)
  })

  it('runs with the default capabilities and no_new_privs', async () => {
    const r = await exec(names.core, ['grep', '-E', '^(CapEff|CapBnd|NoNewPrivs)', '/proc/self/status'])
    expect(String(r.stdout).replace(/\t/g, ' ').trim().split('\n')).toEqual(['CapEff: 00000000a80425fb', 'CapBnd: 00000000a80425fb', 'NoNewPrivs: 1'])
  })

  it('gets OOM-killed past its memory limit and the OOM counter rises', async () => {
    const g = listed[names.greedy]
    const cg = `/sys/fs/cgroup/memory/kubepods/burstable/pod${g.podUid}/${g.containers[0].id}`
    expect(readFileSync(`${cg}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(200 * 2 ** 20))
    const kills = () => Number(/oom_kill (\d+)/.exec(readFileSync(`${cg}/memory.oom_control`, 'utf8'))![1])
    const before = kills()
    const r = await exec(names.greedy, ['tail', '/dev/zero'])
    expect(r.exitCode).toBe(137)
    expect(kills()).toBe(before + 1)
    expect(Number(readFileSync(`${cg}/memory.failcnt`, 'utf8'))).toBeGreaterThan(0)
    // the container itself lives on: only the greedy process was picked
    expect((await exec(names.greedy, ['true'])).exitCode).toBe(0)
  })

  it('cannot fork past a tiny pids limit', async () => {
    const t = listed[names.tiny]
    expect(readFileSync(`/sys/fs/cgroup/pids/kubepods/besteffort/pod${t.podUid}/pids.max`, 'utf8').trim()).toBe('4')
    const r = await exec(names.tiny, ['sh', '-c', 'for i in 1 2 3 4 5 6; do sleep 1 & done; wait'])
    expect(String(r.stderr)).toMatch(/can't fork/)
  })

  it('writes CRI logs with the /var/log/containers link, shares emptyDir and keeps hostPath read-only', async () => {
    const d = listed[names.duo]
    const writer = d.containers.find((c) => c.name === 'writer')!
    const log = `/var/log/pods/${ns}_${names.duo}_${d.podUid}/writer/0.log`
    let text = ''
    for (let i = 0; i < 100 && !/oops/.test(text); i++) {
      text = existsSync(log) ? readFileSync(log, 'utf8') : ''
      await new Promise((r) => setTimeout(r, 20))
    }
    const lines = text.trim().split('\n')
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(expect.arrayContaining(['stdout F written', 'stderr F oops']))
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (stdout|stderr) [PF] /)
    expect(readlinkSync(`/var/log/containers/${names.duo}_${ns}_writer-${writer.id}.log`)).toBe(log)
    expect(String((await exec(names.duo, ['cat', '/scratch/greeting'], 'reader')).stdout)).toBe('hello')
    const write = await exec(names.duo, ['sh', '-c', 'echo x > /host/etc/nd-should-not-exist'], 'reader')
    expect(String(write.stderr)).toMatch(/Read-only file system/)
    expect(existsSync('/etc/nd-should-not-exist')).toBe(false)
    expect(String((await exec(names.duo, ['hostname'], 'reader')).stdout).trim()).toBe(names.duo)
    // both containers share the pod network namespace: one IP
    expect(String((await exec(names.duo, ['ip', '-o', '-4', 'addr', 'show', 'eth0'], 'reader')).stdout)).toContain(d.podIp)
  })

  it('is a pod like any other to nodedoc pod, logs and ps', async () => {
    const r = await cli(['pod', names.duo, '-n', ns, '-o', 'json'])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const report = JSON.parse(String(r.stdout))
    expect(report).toMatchObject({namespace: ns, name: names.duo, uid: listed[names.duo].podUid, qosClass: 'BestEffort', ips: [listed[names.duo].podIp]})
    expect(report.containers.map((c: {name: string}) => c.name).filter(Boolean).sort()).toEqual(['reader', 'writer'])
    const logs = await cli(['logs', names.duo, '-n', ns, '-c', 'writer'])
    expect(String(logs.stdout).split('\n')).toContain('written')
    const ps = itemsOf<ProcessRecord>(JSON.parse(String((await cli(['ps', '-o', 'json'])).stdout))).filter((p) => p.pod?.namespace === ns && p.pod.name === names.duo)
    expect(ps.map((p) => (p.sandbox ? 'POD' : p.container?.name)).sort()).toEqual(['POD', 'reader', 'writer'])
  })

  it('compares a sandbox with itself: no differences', async () => {
    const r = await cli(['compare', names.core, '-n', ns, '--with', names.core, '-o', 'json'])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const result = JSON.parse(String(r.stdout))
    expect(result.differences).toBe(0)
    expect(result.rows.length).toBeGreaterThan(20)
    expect(result.rows.find((row: {row: string}) => row.row === 'capabilities')).toMatchObject({kernel: 'default', reference: 'default'})
  })

  it('compares a sandbox with its own spec (no differences) and with a changed one (exactly the changed rows)', async () => {
    const same = manifestFile(podYaml(names.greedy, ns, greedyContainer))
    const none = JSON.parse(String((await cli(['compare', names.greedy, '-n', ns, '--spec', same, '-o', 'json'])).stdout))
    expect(none.rows.filter((row: {differs: boolean}) => row.differs)).toEqual([])
    const changed = manifestFile(podYaml(names.greedy, ns, greedyContainer.replace('limits: {memory: 200Mi}', 'limits: {memory: 300Mi}').replace("'10000'", "'20000'")))
    const r = await cli(['compare', names.greedy, '-n', ns, '--spec', changed, '-o', 'json'])
    const result = JSON.parse(String(r.stdout))
    expect(result.rows.filter((row: {differs: boolean}) => row.differs).map((row: {scope: string; row: string; spec: string; kernel: string}) => [row.scope, row.row, row.spec, row.kernel])).toEqual([
      ['pod', 'memory limit', String(300 * 2 ** 20), String(200 * 2 ** 20)],
      ['greedy', 'command', 'sleep 20000', 'sleep 10000'],
      ['greedy', 'memory limit', String(300 * 2 ** 20), String(200 * 2 ** 20)],
    ])
    const table = await cli(['compare', names.greedy, '-n', ns, '--spec', changed])
    expect(String(table.stdout)).toMatch(/\b3\s+differences\b/) // the heading may fold at 80 columns
    expect(String(table.stdout)).toContain('! greedy: the main process runs "sleep 10000", the spec says "sleep 20000"')
  })

  it('gives sandboxes created at the same moment distinct IPs', async () => {
    const cidr4 = testCidr()
    const batch = [0, 1, 2, 3].map((i) => `par${i}-${id}`)
    try {
      const results = await Promise.all(batch.map((name) => cli(['sandbox', 'create', '-f', manifestFile(podYaml(name, ns, sleepers)), '--name', name, '--pod-cidr', cidr4, '-o', 'json'])))
      for (const r of results) expect(r.exitCode, String(r.stderr)).toBe(0)
      const ips = results.map((r) => JSON.parse(String(r.stdout)).podIp)
      expect(new Set(ips).size).toBe(4)
    } finally {
      await cli(['sandbox', 'rm', ...batch])
    }
  })

  it('refuses a second sandbox of the same name and leaves the first alone', async () => {
    const r = await cli(['sandbox', 'create', '-f', manifestFile(podYaml(names.core, ns, sleepers)), '--name', names.core])
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr).trim()).toBe(`error: sandbox ${names.core} already exists (remove it with: nodedoc sandbox rm ${names.core})`)
    expect((await exec(names.core, ['true'])).exitCode).toBe(0)
  })

  it('refuses a manifest that does not parse with one line naming line and column, and makes nothing', async () => {
    const bad = manifestFile(readFileSync(`${__dirname}/../../fixtures/sandbox/broken-indent.yaml`, 'utf8'))
    const r = await cli(['sandbox', 'create', '-f', bad, '--name', `bad-${id}`])
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr)).toBe(`error: ${bad}:5:1: invalid YAML: All mapping items must start at the same column`)
    expect(existsSync(`/run/nodedoc/sandboxes/bad-${id}`)).toBe(false)
  })

  it('needs root, and says so', async () => {
    const {execa} = await import('execa')
    const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, 'bin/run.js', 'sandbox', 'create', '-f', `${__dirname}/../../fixtures/sandbox/core-k8s.yaml`, '--name', `nobody-${id}`], {cwd: `${__dirname}/../../..`, reject: false, env: CLI_ENV})
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr).trim()).toBe('error: sandbox create needs root (namespaces, mounts, cgroups, veths)')
  })

  it('with --isolation chroot shows what is missing: the host process table', async () => {
    const name = `weak-${id}`
    const r = await create(name, podYaml(name, ns, sleepers), ['--isolation', 'chroot'])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    expect(String(r.stderr)).toMatch(/warning: --isolation chroot: no namespaces/)
    // no /proc in a bare chroot: ps has nothing to read, and PID 1 is the host's init
    const ps = await exec(name, ['ps'])
    expect(String(ps.stdout).trim().split('\n')).toHaveLength(1)
    const rm = await cli(['sandbox', 'rm', name])
    expect(String(rm.stdout)).toBe(`${name}: removed`)
    const again = await cli(['sandbox', 'rm', name])
    expect(String(again.stdout), String(again.stderr)).toBe(`${name}: not found (nothing to remove)`)
  })
})
