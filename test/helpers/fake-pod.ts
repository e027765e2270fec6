// Lays out a pod on the real kernel the way the kubelet and CRI-O (cgroupfs driver) would: cgroups under
// kubepods, a sandbox and a container in their own namespaces, bind mounts from the kubelet's
// pod dir, a veth with an address, CRI log files and links, and the runtime's config.json.
// Everything made is recorded and removed by destroy(), also after a failed assertion.
import {randomBytes, randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {execa} from 'execa'

export interface FakePod {
  namespace: string
  name: string
  uid: string
  sandboxId: string
  containerId: string
  container: string
  sandboxPid: number
  containerPid: number
  ip: string
  hostVeth: string
  cgroupDirs: string[]
  memoryLimit: number
  cpuShares: number
  cpuQuota: number
  pidsMax: number
  logFile: string
  logLink: string
  hostsFile: string
  volumeDir: string
  destroy(): Promise<void>
}

const CGROUP_ROOT = '/sys/fs/cgroup'

/** v1 hierarchies mounted here, by folder name under /sys/fs/cgroup. */
function v1Hierarchies(): string[] {
  return readdirSync(CGROUP_ROOT).filter((d) => d !== 'unified' && existsSync(`${CGROUP_ROOT}/${d}/cgroup.procs`))
}

async function childPid(pid: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
    if (children) return Number(children.split(' ')[0])
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`process ${pid} has no child`)
}

/** Waits until `pid` runs `argv0` (it has exec'd past its setup shell). */
async function waitExec(pid: number, argv0: RegExp): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]
    if (argv0.test(cmd)) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`process ${pid} never exec'd ${argv0}`)
}

export async function createFakePod(options: {qos?: 'burstable' | 'besteffort' | 'guaranteed'} = {}): Promise<FakePod> {
  const suffix = randomBytes(3).toString('hex')
  const uid = randomUUID()
  const namespace = 'nd-test'
  const name = `fake-${suffix}`
  const container = 'app'
  const sandboxId = randomBytes(32).toString('hex')
  const containerId = randomBytes(32).toString('hex')
  const qos = options.qos ?? 'burstable'
  const podCgroup = qos === 'guaranteed' ? `kubepods/pod${uid}` : `kubepods/${qos}/pod${uid}`
  const undo: Array<() => unknown> = []
  const created: string[] = []
  const owned: string[] = []
  const mkdirOwned = (dir: string) => {
    // remember each level this pod makes, so teardown removes exactly those
    const missing: string[] = []
    for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d)
    for (const d of missing) {
      mkdirSync(d)
      created.push(d)
    }
  }
  const pod: Partial<FakePod> = {namespace, name, uid, sandboxId, containerId, container, memoryLimit: 200 * 1024 * 1024, cpuShares: 102, cpuQuota: 50000, pidsMax: 64}
  const destroy = async () => {
    for (const step of undo.reverse()) {
      try {
        await step()
      } catch {
        // keep tearing down
      }
    }
    // this pod's own folders go whole; shared parents (kubepods, /var/log/pods, ...) only when empty
    for (const dir of owned) rmSync(dir, {recursive: true, force: true})
    for (const dir of created.reverse()) {
      // a killed task leaves its cgroup a moment after the signal
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          rmdirSync(dir)
          break
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code
          // ENOTEMPTY: a shared parent still in use by someone else's pod
          if (code !== 'EBUSY' || !dir.startsWith(CGROUP_ROOT)) break
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    }
  }
  pod.destroy = destroy
  try {
    // cgroups in every v1 hierarchy, limits where the kubelet and runtime set them
    const hierarchies = v1Hierarchies()
    const cgroupDirs: string[] = []
    for (const h of hierarchies) {
      for (const leaf of [sandboxId, containerId]) {
        const dir = `${CGROUP_ROOT}/${h}/${podCgroup}/crio-${leaf}`
        mkdirOwned(dir)
        cgroupDirs.push(dir)
      }
      if (h === 'cpuset') {
        // a cpuset cgroup takes no tasks until it has cpus and mems: inherit them level by level
        const parts = podCgroup.split('/')
        const levels = [...parts.map((_, i) => parts.slice(0, i + 1).join('/')), `${podCgroup}/crio-${sandboxId}`, `${podCgroup}/crio-${containerId}`]
        for (const level of levels) {
          const d = `${CGROUP_ROOT}/cpuset/${level}`
          for (const f of ['cpuset.cpus', 'cpuset.mems']) if (!readFileSync(`${d}/${f}`, 'utf8').trim()) writeFileSync(`${d}/${f}`, readFileSync(`${dirname(d)}/${f}`))
        }
      }
    }
    pod.cgroupDirs = cgroupDirs
    const ctr = (h: string, f: string) => `${CGROUP_ROOT}/${h}/${podCgroup}/crio-${containerId}/${f}`
    writeFileSync(ctr('memory', 'memory.limit_in_bytes'), String(pod.memoryLimit))
    writeFileSync(ctr('cpu', 'cpu.shares'), String(pod.cpuShares))
    writeFileSync(ctr('cpu', 'cpu.cfs_quota_us'), String(pod.cpuQuota))
    writeFileSync(ctr('pids', 'pids.max'), String(pod.pidsMax))
    writeFileSync(`${CGROUP_ROOT}/memory/${podCgroup}/memory.limit_in_bytes`, String(pod.memoryLimit))

    // the kubelet's pod dir: etc-hosts, an emptyDir, a termination-log
    const podDir = `/var/lib/kubelet/pods/${uid}`
    owned.push(podDir)
    mkdirOwned(`${podDir}/volumes/kubernetes.io~empty-dir/cache`)
    mkdirOwned(`${podDir}/containers/${container}`)
    pod.hostsFile = `${podDir}/etc-hosts`
    pod.volumeDir = `${podDir}/volumes/kubernetes.io~empty-dir/cache`
    writeFileSync(pod.hostsFile, `127.0.0.1\tlocalhost\n10.251.0.2\t${name}\n`)
    writeFileSync(`${podDir}/containers/${container}/${suffix}0000`, '')

    // the runtime's config.json with CRI-O's annotations
    for (const [id, type] of [[sandboxId, 'sandbox'], [containerId, 'container']] as const) {
      const dir = `/run/containers/storage/overlay-containers/${id}/userdata`
      owned.push(dirname(dir))
      mkdirOwned(dir)
      const annotations: Record<string, string> = {
        'io.kubernetes.cri-o.ContainerType': type,
        'io.kubernetes.cri-o.SandboxID': sandboxId,
        'io.kubernetes.pod.name': name,
        'io.kubernetes.pod.namespace': namespace,
        'io.kubernetes.pod.uid': uid,
        'io.kubernetes.container.name': type === 'sandbox' ? 'POD' : container,
      }
      writeFileSync(`${dir}/config.json`, JSON.stringify({ociVersion: '1.0.2', process: {args: type === 'sandbox' ? ['/pause'] : ['sleep', '100000']}, annotations, linux: {cgroupsPath: `/${podCgroup}/crio-${id}`}}))
    }

    const joinCgroups = (id: string) => hierarchies.map((h) => `echo $$ > ${CGROUP_ROOT}/${h}/${podCgroup}/crio-${id}/cgroup.procs`).join('; ')

    // sandbox: new pid/net/ipc/uts/mnt namespaces, argv[0] "/pause"
    // each joins its cgroups from inside, as PID 1 of its namespace, so the unshare helpers stay outside like a shim
    const sandbox = execa('unshare', ['--pid', '--fork', '--net', '--ipc', '--uts', '--mount', '--mount-proc', 'bash', '-c', `${joinCgroups(sandboxId)}; exec -a /pause sleep 100000`], {detached: true, stdio: 'ignore', reject: false})
    undo.push(() => {
      sandbox.kill('SIGKILL')
      return sandbox
    })
    const unsharePid = sandbox.pid!
    pod.sandboxPid = await childPid(unsharePid)
    await waitExec(pod.sandboxPid, /^\/pause$/)
    undo.push(() => process.kill(pod.sandboxPid!, 'SIGKILL'))

    // container: joins the sandbox's net/ipc/uts, own pid and mnt namespaces, kubelet bind mounts
    const inside = `${joinCgroups(containerId)}; mount --bind ${pod.hostsFile} /etc/hosts && mount --bind ${pod.volumeDir} /mnt && exec sleep 100000`
    const ctrProc = execa('nsenter', ['-t', String(pod.sandboxPid), '-n', '-i', '-u', '--', 'unshare', '--pid', '--fork', '--mount', '--mount-proc', 'sh', '-c', inside], {detached: true, stdio: 'ignore', reject: false})
    undo.push(() => {
      ctrProc.kill('SIGKILL')
      return ctrProc
    })
    await waitExec(ctrProc.pid!, /unshare/)
    pod.containerPid = await childPid(ctrProc.pid!)
    await waitExec(pod.containerPid, /^sleep$/)
    undo.push(() => process.kill(pod.containerPid!, 'SIGKILL'))

    // veth: eth0 in the pod, the node side routed to the pod IP as kindnet does
    pod.hostVeth = `veth-nd${suffix}`
    pod.ip = `10.251.${Number.parseInt(suffix.slice(0, 2), 16)}.2`
    await execa('ip', ['link', 'add', pod.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pod.sandboxPid)])
    undo.push(() => execa('ip', ['link', 'del', pod.hostVeth!], {reject: false}))
    const inPod = (args: string[]) => execa('nsenter', ['-t', String(pod.sandboxPid), '-n', 'ip', ...args])
    await inPod(['addr', 'add', `${pod.ip}/24`, 'dev', 'eth0'])
    await inPod(['link', 'set', 'eth0', 'up'])
    await inPod(['link', 'set', 'lo', 'up'])
    await execa('ip', ['link', 'set', pod.hostVeth, 'up'])
    await execa('ip', ['route', 'add', pod.ip, 'dev', pod.hostVeth, 'scope', 'host'])

    // CRI log file and the kubelet's /var/log/containers link
    const logDir = `/var/log/pods/${namespace}_${name}_${uid}`
    owned.push(logDir)
    mkdirOwned(`${logDir}/${container}`)
    pod.logFile = `${logDir}/${container}/0.log`
    writeFileSync(pod.logFile, `2026-11-26T00:00:00.000000001Z stdout F hello from ${name}\n`)
    mkdirOwned('/var/log/containers')
    pod.logLink = `/var/log/containers/${name}_${namespace}_${container}-${containerId}.log`
    symlinkSync(pod.logFile, pod.logLink)
    undo.push(() => rmSync(pod.logLink!, {force: true}))
    return pod as FakePod
  } catch (error) {
    await destroy()
    throw error
  }
}
