#!/usr/bin/env node
// Writes a synthetic node snapshot (docs/snapshot.md layout): PODS pods of a sandbox and two
// containers each, the rest of PROCS as host processes, laid out as containerd + cgroupfs v1 do.
// --net: the node's network too, as `ip -j` printed it (routes of both families, links, netns
// ids), each pod a /32 route to its own veth (ptp-style); every 10th pod (i % 10 == 9) on the
// node's network; every 5th (i % 5 == 0) an IPv6 address too; every 7th (i % 7 == 3) a sysfs
// that names its veth's ifindex. Pod 3's route is pod 4's veth (a misroute); 10.244.0.0/16 also
// goes into the node on cni0 (an address there no pod owns: a stale endpoint).
// usage: node bench/gen-node-snapshot.mjs DIR [PODS=110] [PROCS=3000] [--net]
import {existsSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {dirname, join} from 'node:path'

const argv = process.argv.slice(2)
const NET = argv.includes('--net')
const [dir, podsArg = '110', procsArg = '3000'] = argv.filter((a) => a !== '--net')
if (!dir) {
  console.error('usage: gen-node-snapshot.mjs DIR [PODS] [PROCS]')
  process.exit(2)
}
const PODS = Number(podsArg)
const PROCS = Number(procsArg)
const CONTROLLERS = ['memory', 'cpu,cpuacct', 'pids', 'blkio', 'devices', 'freezer', 'name=systemd']
const hex = (seed, n) => createHash('sha256').update(String(seed)).digest('hex').slice(0, n)
const uidOf = (i) => {
  const h = hex(`pod${i}`, 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
const put = (path, text) => {
  const file = join(dir, 'fs', path)
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, text)
}
const link = (path, target) => {
  const file = join(dir, 'fs', path)
  mkdirSync(dirname(file), {recursive: true})
  symlinkSync(target, file)
}
const NS = ['net', 'pid', 'ipc', 'uts', 'mnt', 'cgroup', 'user', 'time']
const HOST_NS = Object.fromEntries(NS.map((t, i) => [t, 4026531830 + i]))

let pid = 100
function proc({ppid, comm, argv, cgroupPath, nsPid, ns = HOST_NS}) {
  const p = pid++
  put(`/proc/${p}/stat`, `${p} (${comm}) S ${ppid} ${p} ${p} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${1000 + p} 0 0\n`)
  put(`/proc/${p}/status`, `Name:\t${comm}\nState:\tS (sleeping)\nPPid:\t${ppid}\nUid:\t0\t0\t0\t0\nNSpid:\t${p}${nsPid ? `\t${nsPid}` : ''}\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\n`)
  put(`/proc/${p}/cmdline`, argv.join('\0') + '\0')
  put(`/proc/${p}/cgroup`, CONTROLLERS.map((c, i) => `${CONTROLLERS.length - i}:${c}:${cgroupPath}`).join('\n') + '\n')
  for (const t of NS) link(`/proc/${p}/ns/${t}`, `${t}:[${ns[t]}]`)
  return p
}

mkdirSync(join(dir, 'fs'), {recursive: true})
writeFileSync(join(dir, 'meta.json'), JSON.stringify({format: 1, hostname: 'synthetic-node', kernel: '6.1.0', capturedAt: new Date(0).toISOString(), nodedocVersion: 'bench', hostRoot: '/'}, null, 2))
put('/proc/2/status', 'Name:\tkthreadd\nState:\tS (sleeping)\nPPid:\t0\n')
for (const t of NS) link(`/proc/2/ns/${t}`, `${t}:[${HOST_NS[t]}]`)
const hostMountinfo = [
  '20 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
  '21 20 0:20 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
  ...CONTROLLERS.map((c, i) => `${30 + i} 21 0:${30 + i} / /sys/fs/cgroup/${c.replace('name=', '')} rw - cgroup cgroup rw,${c}`),
  '40 20 0:40 / /run rw - tmpfs tmpfs rw',
].join('\n') + '\n'
put('/proc/1/mountinfo', hostMountinfo)
put('/proc/1/net/route', 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n')

// --net: the node's routes and links as `ip -j` prints them (cmd/ in the snapshot), pods added one by one
const network = {
  v4: [
    {dst: 'default', gateway: '10.0.2.1', dev: 'eth0', protocol: 'dhcp', flags: []},
    {dst: '10.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.2.15', flags: []},
    {dst: '10.244.0.0/16', dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: '10.244.0.1', flags: []},
    {type: 'local', dst: '10.0.2.15', table: 'local', dev: 'eth0', protocol: 'kernel', scope: 'host', prefsrc: '10.0.2.15', flags: []},
  ],
  v6: [
    {dst: 'fd00::/64', dev: 'eth0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium'},
    {dst: 'default', gateway: 'fd00::1', dev: 'eth0', protocol: 'ra', metric: 1024, flags: [], pref: 'medium'},
    {type: 'local', dst: 'fd00::15', table: 'local', dev: 'eth0', protocol: 'kernel', metric: 0, flags: [], pref: 'medium'},
  ],
  links: [
    {ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], operstate: 'UNKNOWN', address: '00:00:00:00:00:00'},
    {ifindex: 2, ifname: 'eth0', flags: ['UP'], operstate: 'UP', address: '52:54:00:12:34:56'},
    {ifindex: 5, ifname: 'cni0', flags: ['UP'], operstate: 'UP', address: '0a:58:0a:f4:00:01', linkinfo: {info_kind: 'bridge'}},
  ],
  pod(i, sb, ip) {
    const veth = `veth${hex(`veth${i}`, 8)}`
    const ifindex = 10 + i
    // pod 3 misrouted: its /32 goes to pod 4's veth
    const routedDev = i === 3 ? `veth${hex('veth4', 8)}` : veth
    this.v4.push({dst: ip, dev: routedDev, scope: 'host', flags: []})
    this.links.push({ifindex, link_index: 3, ifname: veth, flags: ['UP'], operstate: 'UP', link_netnsid: i, address: `0a:58:00:00:${hex(`mac${i}`, 2)}:${hex(`mac${i}`, 4).slice(2)}`, linkinfo: {info_kind: 'veth'}})
    if (i % 7 === 3) {
      put(`/proc/${sb}/root/sys/class/net/eth0/ifindex`, '3\n')
      put(`/proc/${sb}/root/sys/class/net/eth0/iflink`, `${ifindex}\n`)
    }
    if (i % 5 === 0) {
      const v6 = `fd00:10:244::${(i + 2).toString(16)}`
      const full = v6.split('::')
      const groups = [...full[0].split(':'), ...Array(8 - full[0].split(':').length - 1).fill('0'), full[1]].map((g) => g.padStart(4, '0')).join('')
      put(`/proc/${sb}/net/if_inet6`, `${groups} 03 40 00 80     eth0\nfe80000000000000085800fffe000000 03 40 20 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n`)
      this.v6.push({dst: v6, dev: veth, metric: 1024, flags: [], pref: 'medium'})
    }
  },
  write() {
    const cmd = (argv, text) => {
      mkdirSync(join(dir, 'cmd'), {recursive: true})
      writeFileSync(join(dir, 'cmd', `${argv}.out`), text)
    }
    cmd('ip -j -4 route show table all', JSON.stringify(this.v4))
    cmd('ip -j -6 route show table all', JSON.stringify(this.v6))
    cmd('ip -j -d link show', JSON.stringify(this.links))
    cmd('ip -j netns list-id', '[]')
  },
}

const shim = proc({ppid: 1, comm: 'containerd', argv: ['/usr/bin/containerd'], cgroupPath: '/system.slice/containerd.service'})
for (let i = 0; i < PODS; i++) {
  const uid = uidOf(i)
  const qos = ['besteffort', 'burstable', ''][i % 3]
  const podPath = qos ? `/kubepods/${qos}/pod${uid}` : `/kubepods/pod${uid}`
  const name = i === 0 ? 'core-k8s' : `app-${i}`
  const namespace = i % 2 ? 'default' : 'team-a'
  const hostNetwork = NET && i % 10 === 9
  const podNs = Object.fromEntries(NS.map((t, k) => [t, ['net', 'ipc', 'uts'].includes(t) && !(hostNetwork && t === 'net') ? 4026540000 + i * 10 + k : HOST_NS[t]]))
  const sandboxId = hex(`sandbox${i}`, 64)
  const ip = `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}`
  const sb = proc({ppid: shim, comm: 'pause', argv: ['/pause'], cgroupPath: `${podPath}/${sandboxId}`, nsPid: 1, ns: {...podNs, pid: 4026550000 + i * 10, mnt: 4026560000 + i * 10}})
  put(`/proc/${sb}/net/fib_trie`, `Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- ${ip}\n        /32 host LOCAL\n`)
  put(`/proc/${sb}/net/dev`, 'Inter-|   Receive\n face |bytes\n    lo: 0\n  eth0: 0\n')
  put(`/proc/${sb}/net/route`, `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t0000F40A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n`)
  put(`/proc/${sb}/net/igmp`, 'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n1\tlo        :     1      V3\n3\teth0      :     1      V3\n')
  if (NET && !hostNetwork) network.pod(i, sb, ip)
  writeConfig(sandboxId, 'sandbox', null, sandboxId, name, namespace, uid)
  put(`/sys/fs/cgroup/memory${podPath}/${sandboxId}/cgroup.procs`, `${sb}\n`)
  counters(podPath, i)
  counters(`${podPath}/${sandboxId}`, i)
  for (const ctr of ['app', 'sidecar']) {
    const id = hex(`${ctr}${i}`, 64)
    const main = proc({ppid: shim, comm: 'sleep', argv: ['sleep', '10000'], cgroupPath: `${podPath}/${id}`, nsPid: 1, ns: {...podNs, pid: 4026570000 + i * 10 + (ctr === 'app' ? 1 : 2), mnt: 4026580000 + i * 10 + (ctr === 'app' ? 1 : 2)}})
    put(`/proc/${main}/mountinfo`, `1 0 0:50 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n2 1 8:1 /var/lib/kubelet/pods/${uid}/etc-hosts /etc/hosts rw - ext4 /dev/sda1 rw\n`)
    writeConfig(id, 'container', ctr, sandboxId, name, namespace, uid)
    put(`/sys/fs/cgroup/memory${podPath}/${id}/cgroup.procs`, `${main}\n`)
    counters(`${podPath}/${id}`, i)
    for (const c of CONTROLLERS) {
      const base = `/sys/fs/cgroup/${c.replace('name=', '')}${podPath}/${id}`
      if (c === 'memory') {
        put(`${base}/memory.limit_in_bytes`, '209715200\n')
        put(`${base}/memory.usage_in_bytes`, '1048576\n')
      }
      if (c === 'cpu,cpuacct') {
        put(`${base}/cpu.shares`, '102\n')
        put(`${base}/cpu.cfs_quota_us`, '-1\n')
        put(`${base}/cpu.cfs_period_us`, '100000\n')
      }
    }
    put(`/sys/fs/cgroup/memory${podPath}/cgroup.procs`, '')
    put(`/var/log/pods/${namespace}_${name}_${uid}/${ctr}/0.log`, `2026-11-26T00:00:00.000000000Z stdout F started ${ctr}\n`)
    link(`/var/log/containers/${name}_${namespace}_${ctr}-${id}.log`, `/var/log/pods/${namespace}_${name}_${uid}/${ctr}/0.log`)
  }
}
if (NET) network.write()
while (pid < 100 + PROCS) proc({ppid: 1, comm: 'worker', argv: ['/usr/sbin/worker', '--id', String(pid)], cgroupPath: '/system.slice/worker.service'})
for (const name of ['1', '2']) mkdirSync(join(dir, 'fs/proc', name), {recursive: true})
console.log(`wrote ${dir}: ${PODS} pods, ${pid - 100} processes`)

/** The counter files `top` and `events` read, with a v1 memory.stat as kernel 6.x writes it. */
function counters(path, i) {
  const cg = (controller, file, text) => put(`/sys/fs/cgroup/${controller}${path}/${file}`, text)
  const keys = ['cache', 'rss', 'rss_huge', 'shmem', 'mapped_file', 'dirty', 'writeback', 'workingset_refault_anon', 'workingset_refault_file', 'swap', 'swapcached', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable']
  const stat = [...keys.map((k) => `${k} ${(i * 4096) % 65536}`), 'hierarchical_memory_limit 9223372036854771712', 'hierarchical_memsw_limit 9223372036854771712', ...keys.map((k) => `total_${k} ${(i * 4096) % 65536}`)]
  cg('memory', 'memory.stat', stat.join('\n') + '\n')
  cg('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n')
  // containers have their limit and usage from above already
  if (!existsSync(join(dir, 'fs/sys/fs/cgroup/memory', path, 'memory.usage_in_bytes'))) cg('memory', 'memory.usage_in_bytes', `${1048576 + i * 4096}\n`)
  if (!existsSync(join(dir, 'fs/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes'))) cg('memory', 'memory.limit_in_bytes', '9223372036854771712\n')
  cg('cpu,cpuacct', 'cpuacct.usage', `${1e9 + i * 1e6}\n`)
  cg('cpu,cpuacct', 'cpu.stat', 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n')
  cg('pids', 'pids.current', '1\n')
  cg('pids', 'pids.max', 'max\n')
  cg('pids', 'pids.events', 'max 0\n')
}

function writeConfig(id, type, ctr, sandboxId, name, namespace, uid) {
  const annotations = {
    'io.kubernetes.cri.container-type': type,
    'io.kubernetes.cri.sandbox-id': sandboxId,
    'io.kubernetes.cri.sandbox-name': name,
    'io.kubernetes.cri.sandbox-namespace': namespace,
    'io.kubernetes.cri.sandbox-uid': uid,
    ...(ctr ? {'io.kubernetes.cri.container-name': ctr} : {}),
  }
  put(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${id}/config.json`, JSON.stringify({ociVersion: '1.1.0', process: {args: type === 'sandbox' ? ['/pause'] : ['sleep', '10000']}, annotations}))
}
