import {describe, expect, it} from 'vitest'
import {
  DEFAULT_CAPABILITIES, GATE_SCRIPT, type Step, containerChain, containerLogLink, describeOp, fstabField, hostsFile, planSandbox, resolveOp, stepDependencies,
} from '../../../src/sandbox/plan.js'
import type {Op} from '../../../src/write/ops.js'
import {SANDBOX_ID, UID, config} from './plan-fixture.js'

const find = (steps: Step[], id: string) => {
  const step = steps.find((s) => s.id === id)
  if (!step) throw new Error(`no step ${id} in ${steps.map((s) => s.id).join(' ')}`)
  return step
}
// the pause's shell: mounts the pod's shm, writes the pod's hostname (in its own UTS namespace), then execs the pause
const pauseShell = ['sh', '-c', 'mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm "$1" && echo "$3" > /proc/sys/kernel/hostname && exec "$2" infinity 2>/dev/null', 'sh', '/run/nodedoc/sandboxes/core-k8s/shm', '/run/nodedoc/sandboxes/core-k8s/pause', 'core-k8s']
// with the host's UTS namespace (hostNetwork), no hostname is written
const hostPauseShell = ['sh', '-c', 'mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm "$1" && exec "$2" infinity 2>/dev/null', 'sh', '/run/nodedoc/sandboxes/core-k8s/shm', '/run/nodedoc/sandboxes/core-k8s/pause']
const argv = (step: Step) => (step.op as Extract<Op, {kind: 'run' | 'spawnPause'}>).argv
const DEVICE_NODES = '/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty'

describe('planSandbox (core-k8s, full isolation)', () => {
  const plan = planSandbox(config('core-k8s.yaml'))
  const ctr = 'any-old-name-will-do'

  it('starts with the state dir and ends by opening the gate', () => {
    expect(plan.steps[0]).toMatchObject({id: 'state.dir', op: {kind: 'mkdir', path: '/run/nodedoc/sandboxes/core-k8s', exclusive: true}, undo: {kind: 'removeTree', path: '/run/nodedoc/sandboxes/core-k8s'}})
    expect(plan.steps.at(-1)).toMatchObject({id: `ctr.${ctr}.release`, op: {kind: 'release', container: ctr}})
    expect(new Set(plan.steps.map((s) => s.id)).size).toBe(plan.steps.length)
  })

  it('puts a BestEffort pod under kubepods/besteffort with minimum shares', () => {
    expect(plan.info.qos).toBe('BestEffort')
    expect(plan.info.podCgroupPath).toBe(`/kubepods/besteffort/pod${UID}`)
    expect(find(plan.steps, 'cgroup.memory.pod').undo).toEqual({kind: 'cgroupTree', path: `/sys/fs/cgroup/memory/kubepods/besteffort/pod${UID}`})
    expect(find(plan.steps, 'cgroup.memory.kubepods').undo).toEqual({kind: 'cgroupRmdirIfEmpty', path: '/sys/fs/cgroup/memory/kubepods'})
    expect(find(plan.steps, 'cgroup.pod.cpu.shares').op).toEqual({kind: 'write', path: `/sys/fs/cgroup/cpu/kubepods/besteffort/pod${UID}/cpu.shares`, content: '2'})
    expect(plan.steps.some((s) => s.id.endsWith('memory.limit_in_bytes'))).toBe(false)
    expect(plan.info.containers[0]).toMatchObject({oomScoreAdj: 1000, cgroupPath: `/kubepods/besteffort/pod${UID}/${'1'.repeat(64)}`})
  })

  it('starts the pause process in new net, uts and ipc namespaces and charges it to the pod', () => {
    expect(find(plan.steps, 'pause.start').op).toEqual({kind: 'spawnPause', argv: ['unshare', '--net', '--uts', '--ipc', '--', ...pauseShell], gated: 'self', ready: 'pause', before: {program: 'mount', what: "mounting the pod's shm tmpfs on /run/nodedoc/sandboxes/core-k8s/shm"}})
    expect(find(plan.steps, 'pause.cgroup').op).toMatchObject({kind: 'joinCgroup', ref: '{pause}'})
    expect((find(plan.steps, 'pause.cgroup').op as Extract<Op, {kind: 'joinCgroup'}>).dirs[2]).toBe(`/sys/fs/cgroup/memory/kubepods/besteffort/pod${UID}/${SANDBOX_ID}`)
    expect(find(plan.steps, 'pause.oom_score_adj')).toMatchObject({soft: true, op: {value: -998}})
  })

  it('wires the veth kindnet-style with no route out', () => {
    // both sides in one run: the host side's batch on stdin, forwarding on the host end, then the
    // pod side's batch entered into the pause's netns (its hostname is the pause's shell's)
    const podBatch = '/run/nodedoc/sandboxes/core-k8s/pod-net.batch'
    expect(find(plan.steps, 'net.veth').op).toEqual({kind: 'run', argv: ['sh', '-c', 'ip -batch - && echo 1 > "$1" && exec nsenter --target "$2" --net -- ip -batch "$3"', 'sh', '/proc/sys/net/ipv4/conf/vethnd0badcafe/forwarding', '{pause}', podBatch], stdin: 'link add vethnd0badcafe type veth peer name eth0 netns {pause}\naddress replace 10.250.0.1/32 dev vethnd0badcafe\nlink set vethnd0badcafe up\nroute replace 10.250.0.2/32 dev vethnd0badcafe scope host\n'})
    expect(find(plan.steps, 'net.veth').undo).toEqual({kind: 'run', argv: ['ip', 'link', 'del', 'vethnd0badcafe']})
    expect(find(plan.steps, 'net.pod-batch').op).toEqual({kind: 'write', path: podBatch, content: 'link set lo up\naddress add 10.250.0.2/24 dev eth0 noprefixroute\nlink set eth0 up\nroute add 10.250.0.1/32 dev eth0 scope link\nroute add 10.250.0.0/24 via 10.250.0.1 dev eth0 src 10.250.0.2\n'})
    expect(find(plan.steps, 'net.veth').after).toEqual(['pause.start', 'net.lease', 'net.pod-batch'])
    expect(plan.steps.some((s) => s.id === 'net.pod' || s.id === 'net.forwarding')).toBe(false)
    const commands = plan.steps.filter((s) => s.op.kind === 'run').map((s) => argv(s).join(' ') + ' ' + ((s.op as {stdin?: string}).stdin ?? ''))
    expect(commands.some((r) => /default|0\.0\.0\.0\/0/.test(r))).toBe(false)
    expect(plan.steps.some((s) => s.op.kind === 'run' && /iptables|nft/.test(argv(s)[0]))).toBe(false)
  })

  it('holds the container at a gate in its own pid and mount namespaces, dropping to the default capabilities', () => {
    const start = find(plan.steps, `ctr.${ctr}.start`).op as Extract<Op, {kind: 'startContainer'}>
    expect(start.chain).toEqual([
      'nsenter', '--target', '{pause}', '--net', '--ipc', '--uts', '--',
      'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
      'setpriv', '--no-new-privs', '--inh-caps=-all', `--bounding-set=-all,${DEFAULT_CAPABILITIES.map((c) => '+' + c).join(',')}`, '--',
      '/bin/sh', '-c', GATE_SCRIPT, '/', 'sleep', '10000',
    ])
    expect(start.gated).toBe('child')
    // held once it runs the gate's shell: every unshare and mount change of the chain is behind it
    expect(start.ready).toBe('sh')
    expect(start.env).toEqual({PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: 'core-k8s'})
    expect(start.logPath).toBe(`/var/log/pods/default_core-k8s_${UID}/${ctr}/0.log`)
  })

  it('mounts /proc from inside the pid namespace and pivots the root', () => {
    const merged = `/run/nodedoc/sandboxes/core-k8s/containers/${ctr}/rootfs`
    const dir = `/run/nodedoc/sandboxes/core-k8s/containers/${ctr}`
    // the mounts in two mount --all runs, in the order the separate runs had, each from the namespaces it needs
    expect(find(plan.steps, `ctr.${ctr}.fstab-root`).op).toEqual({kind: 'write', path: `${dir}/fstab.root`, content: [
      `overlay ${merged} overlay lowerdir=/run/nodedoc/layers/busybox-${'ab'.repeat(32)},upperdir=${dir}/upper,workdir=${dir}/work 0 0`,
      `proc ${merged}/proc proc nosuid,nodev,noexec 0 0`,
      `sysfs ${merged}/sys sysfs ro,nosuid,nodev,noexec 0 0`,
      `tmpfs ${merged}/dev tmpfs nosuid,strictatime,mode=755,size=65536k 0 0`,
    ].join('\n') + '\n'})
    // every mount point is made in the container's own upper layer before the overlay is mounted
    const points = plan.steps.filter((s) => s.id.startsWith(`ctr.${ctr}.point.`)).map((s) => s.op)
    expect(points).toEqual([
      ...['proc', 'sys', 'dev', 'etc', '.oldroot'].map((p) => ({kind: 'mkdir', path: `${dir}/upper/${p}`, like: `/run/nodedoc/layers/busybox-${'ab'.repeat(32)}/${p}`})),
      ...['hosts', 'hostname', 'resolv.conf'].map((f) => ({kind: 'write', path: `${dir}/upper/etc/${f}`, content: ''})),
    ])
    const binds = (find(plan.steps, `ctr.${ctr}.fstab-binds`).op as Extract<Op, {kind: 'write'}>).content.trim().split('\n')
    expect(binds.map((l) => l.split(' ')[1])).toEqual([`${merged}/dev/pts`, `${merged}/dev/shm`, `${merged}/etc/hosts`, `${merged}/etc/hostname`, `${merged}/etc/resolv.conf`])
    expect(binds[2]).toBe(`/run/nodedoc/sandboxes/core-k8s/hosts ${merged}/etc/hosts none bind 0 0`)
    // the root mounts, /dev, the binds and pivot_root in one run; without a static busybox on the host, the old root is detached by a second
    expect(argv(find(plan.steps, `ctr.${ctr}.pivot_root`))).toEqual(['nsenter', '--target', `{ctr:${ctr}}`, '--mount', '--pid', '--net', '--', 'sh', '-c', `mount --all --fstab "$1" && cp -a ${DEVICE_NODES} "$3/." "$4/dev/" && mount --all --fstab "$2" && pivot_root "$4" "$4/.oldroot"`, 'sh', `${dir}/fstab.root`, `${dir}/fstab.binds`, `${dir}/dev`, merged])
    expect(plan.steps.filter((s) => s.id.startsWith(`ctr.${ctr}.dev.`)).map((s) => s.op)).toEqual([
      ...[['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']].map(([name, target]) => ({kind: 'symlink', target, path: `${dir}/dev/${name}`})),
      {kind: 'mkdir', path: `${dir}/dev/pts`}, {kind: 'mkdir', path: `${dir}/dev/shm`},
    ])
    // nothing is made through /proc/<pid>/root but the old root's removal, which follows no link
    expect(plan.steps.filter((s) => 'path' in s.op && s.op.path.startsWith('/proc/{ctr:')).map((s) => s.id)).toEqual([`ctr.${ctr}.rmdir-oldroot`])
    expect(argv(find(plan.steps, `ctr.${ctr}.umount-oldroot`))).toEqual(['nsenter', '--target', `{ctr:${ctr}}`, '--mount', '--root=/', '--wd=/', '--', 'umount', '--lazy', `/proc/{ctr:${ctr}}/root/.oldroot`])
    expect(find(plan.steps, `ctr.${ctr}.rmdir-oldroot`).op).toEqual({kind: 'rmdir', path: `/proc/{ctr:${ctr}}/root/.oldroot`})
    // every mount a container gets happens in its own mount namespace: the host mount table sees only the pod shm
    expect(plan.steps.filter((s) => s.op.kind === 'run' && argv(s)[0] === 'mount')).toEqual([])
    // the shm is mounted by the pause's shell, in the host's mount namespace (no --mount), before
    // the pause execs; its umount is written down with its dir, before the pause can mount it
    const pause = find(plan.steps, 'pause.start')
    const shm = '/run/nodedoc/sandboxes/core-k8s/shm'
    expect(argv(pause)).not.toContain('--mount')
    expect(argv(pause).slice(argv(pause).indexOf('--') + 1)).toEqual(pauseShell)
    expect(find(plan.steps, 'shm.dir').undo).toEqual({kind: 'umount', path: shm})
    const ids = plan.steps.map((s) => s.id)
    expect(ids.indexOf('shm.dir')).toBeLessThan(ids.indexOf('pause.start'))
    const order = plan.steps.map((s) => s.id)
    expect(order.indexOf(`ctr.${ctr}.cgroup`)).toBeLessThan(order.indexOf(`ctr.${ctr}.pivot_root`))
    for (const id of ['dev.fd', 'point.etc/hosts', 'dev.pts', 'dev.shm', 'point..oldroot']) expect(order.indexOf(`ctr.${ctr}.${id}`)).toBeLessThan(order.indexOf(`ctr.${ctr}.pivot_root`))
    expect(order.indexOf(`ctr.${ctr}.umount-oldroot`)).toBeLessThan(order.indexOf(`ctr.${ctr}.rmdir-oldroot`))
    expect(order.indexOf(`ctr.${ctr}.rmdir-oldroot`)).toBeLessThan(order.indexOf(`ctr.${ctr}.release`))
  })

  it('detaches the old root in the pivot_root run with the host busybox, reached under /.oldroot, when it is static', () => {
    const withBusybox = planSandbox(config('core-k8s.yaml', {hostBusybox: '/usr/bin/busybox'}))
    const dir = `/run/nodedoc/sandboxes/core-k8s/containers/${ctr}`
    expect(argv(find(withBusybox.steps, `ctr.${ctr}.pivot_root`))).toEqual(['nsenter', '--target', `{ctr:${ctr}}`, '--mount', '--pid', '--net', '--', 'sh', '-c', `mount --all --fstab "$1" && cp -a ${DEVICE_NODES} "$3/." "$4/dev/" && mount --all --fstab "$2" && pivot_root "$4" "$4/.oldroot" && exec "$5" umount -l /.oldroot`, 'sh', `${dir}/fstab.root`, `${dir}/fstab.binds`, `${dir}/dev`, `${dir}/rootfs`, '/.oldroot/usr/bin/busybox'])
    const ids = withBusybox.steps.map((s) => s.id)
    expect(ids).not.toContain(`ctr.${ctr}.umount-oldroot`)
    expect(ids.indexOf(`ctr.${ctr}.rmdir-oldroot`)).toBe(ids.indexOf(`ctr.${ctr}.pivot_root`) + 1)
  })

  it('escapes what the manifest controls in the fstab', () => {
    expect(fstabField('/a b\tc\\d\ne')).toBe('/a\\040b\\011c\\134d\\012e')
  })

  it('records an undo for everything it makes outside the state dir', () => {
    const outside = plan.steps.filter((s) => {
      const op = s.op
      if (op.kind === 'lease' || op.kind === 'spawnPause' || op.kind === 'startContainer') return true
      if (op.kind === 'symlink') return !op.path.startsWith('/run/nodedoc/sandboxes/') && !op.path.startsWith('/proc/')
      if (op.kind === 'run') return ['ip link add', 'mount -t tmpfs'].some((p) => argv(s).join(' ').startsWith(p))
      // the dir the pause's shell mounts the pod's shm on
      return s.id === 'shm.dir'
    })
    expect(outside.length).toBeGreaterThan(4)
    for (const s of outside) expect(s.undo, s.id).not.toBeNull()
  })

  it('writes hosts with the pod IP and links the log like the kubelet', () => {
    expect(hostsFile('10.250.0.2', 'core-k8s')).toContain('\n10.250.0.2\tcore-k8s\n')
    expect(containerLogLink('/var/log', 'default', 'core-k8s', 'c', 'f'.repeat(64))).toBe(`/var/log/containers/core-k8s_default_c-${'f'.repeat(64)}.log`)
    expect(containerLogLink('/var/log', 'ns', 'p'.repeat(200), 'c', 'f'.repeat(64)).split('/').pop()!.length).toBe(255)
  })

  it('resolves process references and prints steps as commands', () => {
    const op = resolveOp(find(plan.steps, 'net.veth').op, {pause: 4242})
    expect(describeOp(op).split('\n')[1]).toBe('      link add vethnd0badcafe type veth peer name eth0 netns 4242')
    expect(describeOp(find(plan.steps, 'net.pod-batch').op).split('\n')).toEqual([
      'write /run/nodedoc/sandboxes/core-k8s/pod-net.batch <<EOF',
      '      link set lo up',
      '      address add 10.250.0.2/24 dev eth0 noprefixroute',
      '      link set eth0 up',
      '      route add 10.250.0.1/32 dev eth0 scope link',
      '      route add 10.250.0.0/24 via 10.250.0.1 dev eth0 src 10.250.0.2',
      '      EOF',
    ])
    // --isolation unshare: the same one run, without pivot_root
    expect(argv(find(planSandbox(config('core-k8s.yaml', {isolation: 'unshare'})).steps, `ctr.${ctr}.mount-root`)).slice(9, 10)).toEqual([`mount --all --fstab "$1" && cp -a ${DEVICE_NODES} "$3/." "$4/dev/" && mount --all --fstab "$2"`])
    expect(describeOp(find(plan.steps, `ctr.${ctr}.fstab-binds`).op).split('\n').slice(0, 2)).toEqual([
      `write /run/nodedoc/sandboxes/core-k8s/containers/${ctr}/fstab.binds <<EOF`,
      `      devpts /run/nodedoc/sandboxes/core-k8s/containers/${ctr}/rootfs/dev/pts devpts newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec 0 0`,
    ])
    const join = resolveOp(find(plan.steps, 'pause.cgroup').op, {pause: 4242})
    expect(join).toMatchObject({ref: '{pause}'})
    expect(describeOp(find(plan.steps, `ctr.${ctr}.start`).op)).toContain(`'${GATE_SCRIPT.replace(/'/g, "'\\''")}'`)
  })
})

describe('planSandbox variants', () => {
  it('gives the greedy pod Burstable limits by the kubelet formulas', () => {
    const plan = planSandbox(config('greedy.yaml', {podPidsLimit: 6}))
    const writes = Object.fromEntries(plan.steps.filter((s) => s.op.kind === 'write' && s.op.path.startsWith('/sys/fs/cgroup')).map((s) => {
      const op = s.op as Extract<Op, {kind: 'write'}>
      return [op.path.replace(`/sys/fs/cgroup/`, '').replace(UID, 'UID').replace('1'.repeat(64), 'CTR'), op.content]
    }))
    expect(writes).toEqual({
      'cpu/kubepods/burstable/podUID/cpu.shares': '256',
      'cpu/kubepods/burstable/podUID/cpu.cfs_period_us': '100000',
      'cpu/kubepods/burstable/podUID/cpu.cfs_quota_us': '50000',
      'memory/kubepods/burstable/podUID/memory.limit_in_bytes': '209715200',
      'pids/kubepods/burstable/podUID/pids.max': '6',
      'cpu/kubepods/burstable/podUID/CTR/cpu.shares': '256',
      'cpu/kubepods/burstable/podUID/CTR/cpu.cfs_period_us': '100000',
      'cpu/kubepods/burstable/podUID/CTR/cpu.cfs_quota_us': '50000',
      'memory/kubepods/burstable/podUID/CTR/memory.limit_in_bytes': '209715200',
    })
    expect(plan.info.containers[0].oomScoreAdj).toBe(996)
  })

  it('shares the pid namespace through the pause process with shareProcessNamespace', () => {
    const cfg = config('core-k8s.yaml')
    cfg.manifest = {...cfg.manifest, shareProcessNamespace: true}
    const plan = planSandbox(cfg)
    expect(find(plan.steps, 'pause.start').op).toMatchObject({argv: ['unshare', '--net', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--', ...pauseShell], gated: 'child'})
    const {chain, gated} = containerChain(cfg, cfg.manifest.containers[0], '/r')
    expect(chain.slice(0, 12)).toEqual(['nsenter', '--target', '{pause}', '--net', '--ipc', '--uts', '--pid', '--', 'unshare', '--mount', '--propagation', 'private'])
    expect(chain[12]).toBe('--')
    expect(gated).toBe('child')
  })

  it('skips the network and the namespaces the host shares with hostNetwork', () => {
    const cfg = config('core-k8s.yaml', {network: null})
    cfg.manifest = {...cfg.manifest, hostNetwork: true}
    const plan = planSandbox(cfg)
    expect(plan.steps.some((s) => s.id.startsWith('net.'))).toBe(false)
    expect(find(plan.steps, 'pause.start').op).toMatchObject({argv: ['unshare', '--ipc', '--', ...hostPauseShell]})
    expect(containerChain(cfg, cfg.manifest.containers[0], '/r').chain.slice(0, 5)).toEqual(['nsenter', '--target', '{pause}', '--ipc', '--'])
  })

  it('builds weaker sandboxes on purpose, and says so', () => {
    const chroot = planSandbox(config('core-k8s.yaml', {isolation: 'chroot', network: null, rootfs: {kind: 'busybox', binary: '/bin/busybox', applets: ['sh', 'ls', 'ps', 'sleep']}}))
    expect(chroot.warnings[0]).toMatch(/^--isolation chroot: no namespaces/)
    expect(chroot.steps.some((s) => s.op.kind === 'spawnPause')).toBe(false)
    expect((find(chroot.steps, 'ctr.any-old-name-will-do.start').op as Extract<Op, {kind: 'startContainer'}>).chain).toEqual(['/bin/sh', '-c', GATE_SCRIPT, '/', 'chroot', '/run/nodedoc/sandboxes/core-k8s/rootfs', 'sleep', '10000'])
    const unshare = planSandbox(config('core-k8s.yaml', {isolation: 'unshare'}))
    expect(unshare.warnings[0]).toMatch(/^--isolation unshare: chroot instead of pivot_root/)
    expect(unshare.steps.some((s) => s.id.endsWith('pivot_root'))).toBe(false)
    const chain = (find(unshare.steps, 'ctr.any-old-name-will-do.start').op as Extract<Op, {kind: 'startContainer'}>).chain
    expect(chain).not.toContain('setpriv')
  })

  it('mounts volumes, read-only where asked, and keeps emptyDirs in the kubelet pod dir', () => {
    const plan = planSandbox(config('two-containers.yaml'))
    expect(plan.info.qos).toBe('Guaranteed')
    expect(plan.info.podCgroupPath).toBe(`/kubepods/pod${UID}`)
    expect(find(plan.steps, 'volume.scratch').op).toEqual({kind: 'mkdir', path: `/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~empty-dir/scratch`})
    expect(find(plan.steps, 'kubelet.pod').undo).toEqual({kind: 'removeTree', path: `/var/lib/kubelet/pods/${UID}`})
    const withFile = planSandbox(config('two-containers.yaml', {fileVolumes: ['host-etc']}))
    const binds = (name: string) => (find(withFile.steps, `ctr.${name}.fstab-binds`).op as Extract<Op, {kind: 'write'}>).content.trim().split('\n')
    const target = '/run/nodedoc/sandboxes/duo/containers/reader/rootfs/host/debian_version'
    // a file hostPath gets a file mount point; readOnly binds and remounts read-only
    expect(binds('reader')).toContain(`/etc/debian_version ${target} none bind,ro 0 0`)
    expect(find(withFile.steps, 'ctr.reader.point.host/debian_version').op).toEqual({kind: 'write', path: '/run/nodedoc/sandboxes/duo/containers/reader/upper/host/debian_version', content: ''})
    expect(withFile.steps.some((s) => s.id === 'ctr.writer.point.host/debian_version')).toBe(false)
    expect(binds('writer').some((l) => l.includes('debian_version'))).toBe(false)
    expect(plan.info.containers.map((c) => c.oomScoreAdj)).toEqual([-997, -997])
    // both containers are held until both are set up, then released in order
    expect(plan.steps.slice(-2).map((s) => s.id)).toEqual(['ctr.writer.release', 'ctr.reader.release'])
  })

  it('writes cgroup v2 files in one tree and enables controllers level by level', () => {
    const plan = planSandbox(config('greedy.yaml', {cgroup: {version: 2, driver: 'systemd', mountRoot: '/tmp/cg', controllers: ['']}}))
    const slice = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice`
    expect(plan.info.podCgroupPath).toBe(slice)
    expect(find(plan.steps, 'cgroup.subtree.root').op).toEqual({kind: 'write', path: '/tmp/cg/cgroup.subtree_control', content: '+cpu +memory +pids'})
    expect(find(plan.steps, 'ctr.greedy.memory.max').op).toEqual({kind: 'write', path: `/tmp/cg${slice}/cri-containerd-${'1'.repeat(64)}.scope/memory.max`, content: '209715200'})
    expect(find(plan.steps, 'ctr.greedy.cpu.max').op).toMatchObject({content: '50000 100000'})
    expect(find(plan.steps, 'cgroup.unified.pod').undo).toEqual({kind: 'cgroupTree', path: `/tmp/cg${slice}`})
  })
})

describe('the order a plan keeps while its lanes run at once', () => {
  /** Every step a step waits for, directly or not. */
  function waitsFor(steps: Step[]): Map<string, Set<string>> {
    const deps = stepDependencies(steps)
    const all = new Map<string, Set<string>>()
    for (const [i, step] of steps.entries()) all.set(step.id, new Set(deps[i].flatMap((k) => [steps[k].id, ...all.get(steps[k].id)!])))
    return all
  }
  const cases = [['core-k8s.yaml', 'full'], ['core-k8s.yaml', 'unshare'], ['core-k8s.yaml', 'chroot'], ['two-containers.yaml', 'full']] as const

  it.each(cases)('%s, --isolation %s: each step waits for what it uses, and the gates open last', (file, isolation) => {
    const plan = planSandbox(config(file, {isolation, ...(isolation === 'chroot' ? {network: null} : {})}))
    const before = waitsFor(plan.steps)
    const ids = plan.steps.map((s) => s.id)
    const release = plan.steps.findIndex((s) => s.op.kind === 'release')
    // the first gate opens after everything else
    for (const id of ids.slice(0, release)) expect(before.get(ids[release])!.has(id), id).toBe(true)
    for (const step of plan.steps) {
      const mine = before.get(step.id)!
      if (step.id !== 'state.dir') expect(mine.has('state.dir'), step.id).toBe(true)
      const ref = JSON.stringify(step.op)
      // a step naming a process waits for the step that starts it
      if (ref.includes('{pause}')) expect(mine.has('pause.start'), step.id).toBe(true)
      for (const [, name] of ref.matchAll(/\{ctr:([a-z0-9-]+)\}/g)) if (step.id !== `ctr.${name}.start`) expect(mine.has(`ctr.${name}.start`), step.id).toBe(true)
      if (step.id === 'net.veth') expect(mine.has('net.lease'), step.id).toBe(true)
      const c = /^ctr\.([a-z0-9-]+)\./.exec(step.id)?.[1]
      if (!c) continue
      if (step.id === `ctr.${c}.start`) expect([...mine].filter((id) => [`ctr.${c}.dir`, `logs.${c}.dir`].includes(id)).sort()).toEqual([`ctr.${c}.dir`, `logs.${c}.dir`])
      if (step.id === `ctr.${c}.cgroup`) for (const id of ids.filter((x) => x.startsWith(`ctr.${c}.cgroup.`))) expect(mine.has(id), id).toBe(true)
      // the root is built by one run (unshare: mount-root; full: pivot_root) after all it mounts and every mount point
      if (step.id === `ctr.${c}.mount-root` || step.id === `ctr.${c}.pivot_root`) for (const id of ['rootfs.layer', `ctr.${c}.upper`, `ctr.${c}.work`, `ctr.${c}.fstab-root`, 'shm.dir', 'pause.start', 'state.hosts', 'state.hostname', 'state.resolv', `ctr.${c}.fstab-binds`, ...ids.filter((x) => x.startsWith('volume.') || x.startsWith(`ctr.${c}.point.`) || x.startsWith(`ctr.${c}.dev`))]) expect(mine.has(id), id).toBe(true)
    }
  })

  it('makes the cgroups of each v1 hierarchy in a lane of its own, and builds the root while the process joins them', () => {
    const plan = planSandbox(config('two-containers.yaml'))
    const before = waitsFor(plan.steps)
    const ids = plan.steps.map((s) => s.id)
    const c = 'writer'
    expect(ids).toContain(`ctr.${c}.cgroup.cpu`)
    expect(before.get(`ctr.${c}.cgroup.memory`)!.has('cgroup.memory.pod')).toBe(true)
    for (const other of ['cpu', 'cpuacct', 'pids']) expect(before.get(`ctr.${c}.cgroup.memory`)!.has(`cgroup.${other}.pod`), other).toBe(false)
    expect(before.get(`ctr.${c}.cgroup`)!.has(`ctr.${c}.cgroup.pids`)).toBe(true)
    expect(before.get(`ctr.${c}.pivot_root`)!.has(`ctr.${c}.cgroup`)).toBe(false)
    expect(before.get(`ctr.${c}.release`)!.has(`ctr.${c}.oom_score_adj`)).toBe(true)
  })

  it('refuses a plan whose step waits for a later one', () => {
    const steps: Step[] = [{id: 'a', why: '', op: {kind: 'rmdir', path: '/a'}, undo: null, after: ['b']}, {id: 'b', why: '', op: {kind: 'rmdir', path: '/b'}, undo: null}]
    expect(() => stepDependencies(steps)).toThrow('plan: step a waits for b, which does not come before it')
  })
})
