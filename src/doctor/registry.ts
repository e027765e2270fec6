import type {Check} from './check.js'
import {cgroupDriver} from './checks/cgroup-driver.js'
import {cgroupVersion} from './checks/cgroup-version.js'
import {cniIpLeaks} from './checks/cni-ip-leaks.js'
import {conntrackTable} from './checks/conntrack-table.js'
import {criSocket} from './checks/cri-socket.js'
import {disk} from './checks/disk.js'
import {etcd} from './checks/etcd.js'
import {init} from './checks/init.js'
import {iptablesBackend} from './checks/iptables-backend.js'
import {kubelet} from './checks/kubelet.js'
import {leakedCgroups} from './checks/leaked-cgroups.js'
import {memoryRequests} from './checks/memory-requests.js'
import {pids} from './checks/pids.js'
import {privileged} from './checks/privileged.js'
import {stalePodDirs} from './checks/stale-pod-dirs.js'
import {swap} from './checks/swap.js'
import {bridgeNfCallIptables, ipForward} from './checks/sysctl.js'
import {tools} from './checks/tools.js'
import {zombies} from './checks/zombies.js'

/** Every check, in the order doctor prints them. */
export const CHECKS: Array<Check<unknown>> = [
  swap, tools, init, kubelet,
  ipForward, bridgeNfCallIptables, conntrackTable,
  criSocket, cgroupDriver, cgroupVersion, iptablesBackend,
  zombies, privileged, leakedCgroups, stalePodDirs, cniIpLeaks,
  disk, pids, memoryRequests,
  etcd,
]
