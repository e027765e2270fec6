// Findings provoked in a temp folder used as --host-root: a stale host-local IP file, a kubelet
// pod folder with no pod, a nearly full filesystem (a small tmpfs), a socket that is not CRI.
import {execFileSync, spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {type Server, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {byId, doctor} from './helpers.js'

let root: string
const mounts: string[] = []
let server: Server | undefined

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nodedoc-doctor-'))
})
afterAll(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', [m])
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  rmSync(root, {recursive: true, force: true})
})

describe('doctor with --host-root', () => {
  it('cni-ip-leaks: an allocation file whose sandbox does not exist is reported', () => {
    const net = join(root, 'var/lib/cni/networks/kindnet')
    mkdirSync(net, {recursive: true})
    const stale = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '')
    writeFileSync(join(net, '10.244.0.99'), `${stale}\neth0`)
    writeFileSync(join(net, 'last_reserved_ip.0'), '10.244.0.99')
    writeFileSync(join(net, 'lock'), '')
    const r = doctor(['cni-ip-leaks'], {hostRoot: root})
    const line = byId(r.results, 'cni-ip-leaks')
    expect(line).toMatchObject({status: 'WARN', seen: `1 of 1 allocations held by no running sandbox: kindnet/10.244.0.99 (${stale.slice(0, 12)})`})
    expect(line.items).toEqual([{dataDir: '/var/lib/cni/networks', network: 'kindnet', ip: '10.244.0.99', containerId: stale}])
    expect(r.status).toBe(0)
  })

  it('stale-pod-dirs: a kubelet pod folder for a pod with no cgroup is reported', () => {
    const uid = randomUUID()
    mkdirSync(join(root, 'var/lib/kubelet/pods', uid, 'volumes'), {recursive: true})
    const line = byId(doctor(['stale-pod-dirs'], {hostRoot: root}).results, 'stale-pod-dirs')
    expect(line).toMatchObject({status: 'WARN', items: [`/var/lib/kubelet/pods/${uid}`]})
  })

  it('disk: a filesystem filled past 90% fails, its inodes past 95% too', () => {
    const kubelet = join(root, 'var/lib/kubelet')
    const log = join(root, 'var/log')
    mkdirSync(log, {recursive: true})
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=1000', 'nodedoc-test', kubelet])
    mounts.push(kubelet)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=40', 'nodedoc-test', log])
    mounts.push(log)
    const before = byId(doctor(['disk'], {hostRoot: root}).results, 'disk')
    expect(before.status).toBe('PASS')
    writeFileSync(join(kubelet, 'filler'), Buffer.alloc(960 * 1024))
    for (let i = 0; i < 38; i++) writeFileSync(join(log, `f${i}`), '')
    const r = doctor(['disk'], {hostRoot: root})
    const line = byId(r.results, 'disk')
    expect(line.status).toBe('FAIL')
    expect(line.items!.map((d) => d.path).sort()).toEqual(['/var/lib/kubelet', '/var/log'])
    expect(line.seen).toMatch(/\/var\/lib\/kubelet 9\d(\.\d)?% space/)
    expect(r.status).toBe(1)
  })

  it('cri-socket: FAIL with no socket, FAIL with a socket that does not speak CRI', async () => {
    expect(byId(doctor(['cri-socket'], {hostRoot: root}).results, 'cri-socket')).toMatchObject({status: 'FAIL', seen: expect.stringMatching(/^no CRI socket at \/run\/containerd\/containerd.sock/)})
    mkdirSync(join(root, 'run/containerd'), {recursive: true})
    server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))
    await new Promise<void>((r) => server!.listen(join(root, 'run/containerd/containerd.sock'), () => r()))
    const line = byId(doctor(['cri-socket'], {hostRoot: root}).results, 'cri-socket')
    expect(line).toMatchObject({status: 'FAIL', seen: expect.stringMatching(/^\/run\/containerd\/containerd.sock present but no CRI answer/)})
  })

  it('tools: looks in the node\'s bin folders, not this process\'s PATH', () => {
    mkdirSync(join(root, 'usr/sbin'), {recursive: true})
    for (const t of ['iptables', 'ip']) writeFileSync(join(root, 'usr/sbin', t), '')
    mkdirSync(join(root, 'bin'), {recursive: true})
    symlinkSync('/usr/bin/mount', join(root, 'bin/mount'))
    const line = byId(doctor(['tools'], {hostRoot: root}).results, 'tools')
    expect(line).toMatchObject({status: 'FAIL', seen: 'missing: nsenter, unshare, ps, socat, conntrack', items: ['nsenter', 'unshare', 'ps']})
  })

  it('swap and cgroup-version read the node\'s files', () => {
    mkdirSync(join(root, 'proc'), {recursive: true})
    writeFileSync(join(root, 'proc/swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t1048572\t\t0\t\t-2\n')
    mkdirSync(join(root, 'sys/fs/cgroup'), {recursive: true})
    writeFileSync(join(root, 'sys/fs/cgroup/cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n')
    const r = doctor(['swap', 'cgroup-version'], {hostRoot: root})
    expect(byId(r.results, 'swap')).toMatchObject({status: 'FAIL', seen: 'swap on: /swapfile (file, 1024 MiB)'})
    expect(byId(r.results, 'cgroup-version')).toMatchObject({status: 'PASS'})
  })

  it('kubelet, init and cgroup-driver read a captured kubeadm node: processes, kubelet config, containerd config', () => {
    const node = mkdtempSync(join(tmpdir(), 'nodedoc-doctor-node-'))
    try {
      const proc = (pid: number, ppid: number, comm: string, argv: string[]) => {
        const dir = join(node, 'proc', String(pid))
        mkdirSync(dir, {recursive: true})
        // /proc/<pid>/stat: 52 fields; the ones read are pid, comm, state, ppid, starttime
        writeFileSync(join(dir, 'stat'), `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 ${Array(42).fill('0').join(' ')}\n`)
        writeFileSync(join(dir, 'comm'), `${comm}\n`)
        writeFileSync(join(dir, 'cmdline'), argv.join('\0') + '\0')
        writeFileSync(join(dir, 'status'), `Name:\t${comm}\nState:\tS (sleeping)\nPPid:\t${ppid}\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n`)
        writeFileSync(join(dir, 'cgroup'), `0::/system.slice/${comm}.service\n`)
      }
      proc(1, 0, 'systemd', ['/sbin/init'])
      proc(611, 1, 'containerd', ['/usr/bin/containerd'])
      proc(812, 1, 'kubelet', ['/usr/bin/kubelet', '--kubeconfig=/etc/kubernetes/kubelet.conf', '--config=/var/lib/kubelet/config.yaml', '--container-runtime-endpoint=unix:///run/containerd/containerd.sock'])
      mkdirSync(join(node, 'var/lib/kubelet'), {recursive: true})
      writeFileSync(join(node, 'var/lib/kubelet/config.yaml'), 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n')
      mkdirSync(join(node, 'etc/containerd'), {recursive: true})
      writeFileSync(join(node, 'etc/containerd/config.toml'), 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n')
      const r = doctor(['kubelet', 'init', 'cgroup-driver'], {hostRoot: node})
      expect(byId(r.results, 'init')).toMatchObject({status: 'PASS', seen: "PID 1 is systemd; kubelet's parents: systemd"})
      expect(byId(r.results, 'kubelet')).toMatchObject({status: 'WARN', seen: 'kubelet PID 812, 3 flags, --config /var/lib/kubelet/config.yaml, --kubeconfig /etc/kubernetes/kubelet.conf'})
      expect(byId(r.results, 'cgroup-driver')).toMatchObject({status: 'FAIL', seen: 'kubelet systemd (/var/lib/kubelet/config.yaml cgroupDriver), containerd cgroupfs (/etc/containerd/config.toml SystemdCgroup)'})
      expect(r.status).toBe(1)
      writeFileSync(join(node, 'etc/containerd/config.toml'), 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n')
      mkdirSync(join(node, 'etc/kubernetes'), {recursive: true})
      writeFileSync(join(node, 'etc/kubernetes/kubelet.conf'), 'apiVersion: v1\nkind: Config\n')
      const fixed = doctor(['kubelet', 'cgroup-driver'], {hostRoot: node})
      expect(fixed.results.map((x) => x.status)).toEqual(['PASS', 'PASS'])
      expect(fixed.status).toBe(0)
    } finally {
      rmSync(node, {recursive: true, force: true})
    }
  })
})
