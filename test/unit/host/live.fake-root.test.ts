// A fake node under --host-root whose pod controls what nodedoc reads: a cgroup path with ".."
// (as /proc/<pid>/cgroup reads inside a cgroup namespace) that, joined onto the cgroup mount,
// would land on a file the pod planted; an absolute link (resolved inside the root, as on the
// node) and a relative one climbing out of the root. The live host must stay inside the root.
import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {randomBytes, randomUUID} from 'node:crypto'
import {dirname, join, resolve} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {LiveHost} from '../../../src/host/live.js'
import {tempFolder} from '../../helpers/temp-folder.js'
import {itemsOf} from '../../helpers/volatile.js'

const ROOT = resolve(__dirname, '../../..')
const work = tempFolder('nodedoc-fakeroot-', plant)
const SECRET = 'SECRET-OF-THIS-MACHINE'
const secret = join(work, 'secret')
const root = join(work, 'node')

const uid = randomUUID()
const id = randomBytes(32).toString('hex')
const scope = `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`

function put(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), {recursive: true})
  writeFileSync(join(root, path), text)
}

function proc(pid: number, cgroup: string, cmdline: string | {link: string}): void {
  put(`proc/${pid}/cgroup`, `0::${cgroup}\n`)
  put(`proc/${pid}/stat`, `${pid} (sleep) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n`)
  put(`proc/${pid}/status`, `Name:\tsleep\nState:\tS (sleeping)\nPid:\t${pid}\nPPid:\t1\nNSpid:\t${pid}\t1\n`)
  if (typeof cmdline === 'string') put(`proc/${pid}/cmdline`, cmdline)
  else symlinkSync(cmdline.link, join(root, `proc/${pid}/cmdline`))
}

function plant(): void {
  writeFileSync(secret, `${SECRET}\0`)
  put('proc/1/mountinfo', '25 1 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n')
  proc(1, '/init.scope', 'init\0')
  // the pod's container, as a cgroup namespace shows it: three levels up, then the pod's path
  proc(4242, `/../../../${scope}`, 'sleep\x003600\0')
  // what "/sys/fs/cgroup/../../../<scope>" would reach if joined as text: the pod's own plant
  put(`${scope}/memory.max`, '4242\n')
  put(`${scope}/pids.max`, '4242\n')
  // and the real place, which nodedoc cannot know from a namespace-relative path
  put(`sys/fs/cgroup/${scope}/memory.max`, '1048576\n')
  // the container's cmdline as absolute and relative links
  proc(4243, `/${scope}`, {link: '/etc/pod-planted'})
  put('etc/pod-planted', 'inside-the-root\0')
  proc(4244, `/${scope}`, {link: '../../../..' + secret})
  put(`var/log/pods/default_evil_${uid}/app/0.log`, '2024-05-01T10:00:00Z stdout F hello\n')
}

function cli(args: string[]) {
  return execa(process.execPath, [join(ROOT, 'bin/run.js'), ...args, '--host-root', root], {reject: false, timeout: 30_000, env: {NO_COLOR: '1', NODE_ENV: 'production', CONTAINER_RUNTIME_ENDPOINT: 'unix:///nonexistent'}})
}

describe('--host-root with a pod that controls its paths', () => {
  it('a cgroup path with ".." is not joined onto the cgroup mount: no limit read off the plant', async () => {
    const r = await cli(['pod', 'evil', '-o', 'json'])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const pod = JSON.parse(String(r.stdout))
    const container = pod.containers.find((c: {id: string}) => c.id === id)
    expect(container.pid).toBe(4242)
    expect(container.cgroup.memoryLimitBytes).toBeNull()
    expect(container.cgroup.pidsMax).toBeNull()
    expect(String(r.stderr)).toContain('warning: cgroup path with ".." (seen from inside a cgroup namespace): limits and usage not read')
    expect(String(r.stderr)).toContain(`/../../../${scope}`)
  })

  it('absolute links resolve inside the root, links climbing out are refused', async () => {
    const r = await cli(['ps', '-A', '-o', 'json'])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const procs = itemsOf<{pid: number; command: string}>(JSON.parse(String(r.stdout)))
    expect(procs.find((p) => p.pid === 4243)?.command).toBe('inside-the-root')
    expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET)
    expect(String(r.stderr)).toMatch(/refused: the path leads out of the root \("\.\." or a link\): \/proc\/4244\/cmdline/)
  })

  it('a path with ".." above the root is refused by the host itself', async () => {
    const host = new LiveHost(root)
    expect(await host.readFile('/../secret')).toBeUndefined()
    expect(await host.readFile('/sys/fs/cgroup/../../../../../../secret')).toBeUndefined()
    expect(await host.readFile(`/sys/fs/cgroup/../../../${scope}/memory.max`)).toBe('4242\n') // inside the root: a plain path
    expect(host.warnings.list().join('\n')).toMatch(/refused: the path leads out of the root/)
  })
})
