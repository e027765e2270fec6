// A node laid out under a root folder, as `--host-root` reads one: one Burstable pod "shop/web"
// (containers hog, OOM-killed once, and grow, and the sandbox) in any of cgroup v1/v2 and the
// cgroupfs/systemd drivers. The control files' text is real (test/fixtures/cgroup-v1: this
// project's test node; cgroup-v2: public captures); only v2's one-number files are written here.
import {cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {tempFolder} from './temp-folder.js'

const FIXTURES = join(import.meta.dirname, '../fixtures')
export const fixture = (path: string) => readFileSync(join(FIXTURES, path), 'utf8')
/** /proc/stat btime of every such node */
export const BTIME = 1764540000

export interface Layout {
  version: 1 | 2
  driver: 'cgroupfs' | 'systemd'
}

// v1 nodes carry the IDs of the test node's real OOM kill (kernel-log fixture), v2 nodes those of a public one
export const IDS = {
  1: {uid: '80c2e436-efbf-4368-af0a-4ce6b8b95f6d', hog: '7f05c3d7d4730e54e3652ade6e1f2d01b27afe6f9041d2edc1ba6aed478b4d86', kernelLog: 'kernel-log/test-node-6.18-memcg-oom-dd.txt', pid: 14781, task: 'dd', uptime: 6342.807748},
  2: {uid: 'eded8c65-6e8e-4c6e-a889-3e427565c740', hog: 'ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95', kernelLog: 'kernel-log/gpud-70-syslog-systemd-cri-containerd.txt', pid: 461754, task: 'pt_main_thread', uptime: null},
}
export const GROW = 'b'.repeat(64)
export const SANDBOX = 'a'.repeat(64)

export function paths(layout: Layout) {
  const {uid} = IDS[layout.version]
  const pod = layout.driver === 'cgroupfs' ? `/kubepods/burstable/pod${uid}` : `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice`
  const ctr = (id: string) => (layout.driver === 'cgroupfs' ? `${pod}/${id}` : `${pod}/cri-containerd-${id}.scope`)
  return {pod, hog: ctr(IDS[layout.version].hog), grow: ctr(GROW), sandbox: ctr(SANDBOX)}
}

/**
 * A node with one Burstable pod "shop/web": containers hog (OOM-killed once) and grow, and the
 * sandbox. Its root folder's path; the folder is laid out before the tests of the suite this is
 * called in, and removed after them.
 */
export function buildNode(layout: Layout): string {
  return tempFolder(`nodedoc-layout-v${layout.version}-${layout.driver}-`, (root) => layOut(layout, root))
}

function layOut(layout: Layout, root: string): void {
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), {recursive: true})
    writeFileSync(join(root, path), text)
  }
  const {uid, hog} = IDS[layout.version]
  const p = paths(layout)
  const controllers = ['cpu', 'cpuacct', 'memory', 'pids']
  put('/proc/1/mountinfo', ['20 1 8:1 / / rw - ext4 /dev/vda1 rw', '30 20 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
    ...(layout.version === 1 ? controllers.map((c, i) => `${31 + i} 30 0:${28 + i} / /sys/fs/cgroup/${c} rw,relatime - cgroup cgroup rw,${c}`) : ['31 30 0:28 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate'])].join('\n') + '\n')
  put('/proc/stat', `cpu  1 2 3 4 5 6 7 0 0 0\nbtime ${BTIME}\n`)
  if (layout.version === 1) {
    const copy = (from: string, to: string) => {
      for (const c of controllers) mkdirSync(join(root, 'sys/fs/cgroup', c, to), {recursive: true})
      for (const file of ['cpu.cfs_period_us', 'cpu.cfs_quota_us', 'cpu.stat', 'cpuacct.usage', 'memory.limit_in_bytes', 'memory.oom_control', 'memory.stat', 'memory.usage_in_bytes', 'pids.current', 'pids.events', 'pids.max']) {
        const controller = file.startsWith('cpuacct') ? 'cpuacct' : file.split('.')[0]
        cpSync(join(FIXTURES, 'cgroup-v1', from, file), join(root, 'sys/fs/cgroup', controller, to, file))
      }
    }
    copy('test-node-burner-pod', p.pod)
    copy('test-node-hog-hog', p.hog)
    copy('test-node-grower-grow', p.grow)
    copy('test-node-burner-burn', p.sandbox)
  } else {
    const cg = (path: string, files: Record<string, string>) => {
      for (const [file, text] of Object.entries(files)) put(`/sys/fs/cgroup${path}/${file}`, text)
    }
    const memoryStat = fixture('cgroup-v2/runc-fs2-memory.stat')
    cg(p.pod, {'cpu.stat': fixture('cgroup-v2/k0s-4954-pod-slice.cpu.stat'), 'cpu.max': 'max 100000\n', 'memory.current': '7400000000\n', 'memory.max': '8589934592\n', 'memory.stat': memoryStat,
      'memory.events': 'low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n', 'pids.current': '9\n', 'pids.max': 'max\n', 'pids.events': 'max 0\n'})
    cg(p.hog, {'cpu.stat': fixture('cgroup-v2/k0s-4954-container-scope.cpu.stat'), 'cpu.max': '50000 100000\n', 'memory.current': '7000000000\n', 'memory.max': '8589934592\n', 'memory.stat': memoryStat,
      'memory.events': 'low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n', 'pids.current': '7\n', 'pids.max': '1024\n', 'pids.events': 'max 2\n'})
    cg(p.grow, {'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n', 'cpu.max': 'max 100000\n', 'memory.current': '0\n', 'memory.max': 'max\n', 'memory.events': 'oom_kill 0\n', 'pids.current': '0\n', 'pids.max': 'max\n', 'pids.events': 'max 0\n'})
    cg(p.sandbox, {'pids.current': '1\n'})
  }
  const annotations = (type: string, name?: string) => ({'io.kubernetes.cri.container-type': type, 'io.kubernetes.cri.sandbox-id': SANDBOX, 'io.kubernetes.cri.sandbox-name': 'web', 'io.kubernetes.cri.sandbox-namespace': 'shop', ...(name ? {'io.kubernetes.cri.container-name': name} : {})})
  put(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${SANDBOX}/config.json`, JSON.stringify({annotations: annotations('sandbox')}))
  put(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${GROW}/config.json`, JSON.stringify({annotations: annotations('container', 'grow')}))
  const logs = `/var/log/pods/shop_web_${uid}`
  put(`${logs}/hog/0.log`, '')
  put(`${logs}/hog/1.log`, '')
  put(`${logs}/grow/0.log`, '')
  mkdirSync(join(root, 'var/log/containers'), {recursive: true})
  symlinkSync(`${logs}/hog/1.log`, join(root, `var/log/containers/web_shop_hog-${hog}.log`))
}
