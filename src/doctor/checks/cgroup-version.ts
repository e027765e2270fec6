import type {Host} from '../../host/host.js'
import {type Check, pass, warn} from '../check.js'

export interface CgroupVersionFacts {
  /** /sys/fs/cgroup/cgroup.controllers exists: the unified (v2) hierarchy is mounted there */
  unified: boolean
  /** a v1 controller folder (memory) exists */
  v1Memory: boolean
}

export const cgroupVersion: Check<CgroupVersionFacts> = {
  id: 'cgroup-version',
  area: 'runtime',
  title: 'cgroup v2',
  why: 'cgroup v1 support is in maintenance since Kubernetes 1.31 and newer kubelets refuse it by default; v2 gives memory.high, PSI and reliable OOM accounting',
  gather: async (host: Host) => ({
    unified: (await host.stat('/sys/fs/cgroup/cgroup.controllers')) !== undefined,
    v1Memory: (await host.stat('/sys/fs/cgroup/memory'))?.kind === 'dir',
  }),
  evaluate({unified, v1Memory}) {
    if (unified) return pass('cgroup v2 (unified hierarchy at /sys/fs/cgroup)')
    return warn(`cgroup v1${v1Memory ? ' (controllers under /sys/fs/cgroup/<controller>)' : ''}`, 'boot with systemd.unified_cgroup_hierarchy=1 (or a distribution default of cgroup v2) before upgrading the kubelet past 1.34')
  },
}
