// The node facts that change what a spec implies: read through a Host from a node laid out under
// a temporary root (the processes' /proc files, the runtime's and kubelet's configs, the CNI
// config), then turned into what the spec layer needs.
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CompareError} from '../../../src/compare/compare.js'
import {cniNetworkShape, gatherNodeReadings, nodeFacts} from '../../../src/compare/node-facts.js'
import {CONTAINERD_CAPABILITIES} from '../../../src/compare/runtime-defaults.js'
import {LiveHost} from '../../../src/host/live.js'
import {parseCniConfig} from '../../../src/net/cni-config.js'
import {tempFolder} from '../../helpers/temp-folder.js'

describe('cniNetworkShape', () => {
  it('expects what the CNI config in use implies', () => {
    const bridge = parseCniConfig('10-bridge.conflist', JSON.stringify({cniVersion: '0.4.0', name: 'n', plugins: [{type: 'bridge', bridge: 'cbr0'}, {type: 'portmap'}]}))
    expect(cniNetworkShape({dir: '/etc/cni/net.d', inUse: bridge}).value).toBe('bridge cbr0')
    const ptp = parseCniConfig('10-kindnet.conflist', JSON.stringify({cniVersion: '0.3.1', name: 'kindnet', plugins: [{type: 'ptp'}, {type: 'portmap'}]}))
    expect(cniNetworkShape({dir: '/etc/cni/net.d', inUse: ptp}).value).toBe('veth /32 route')
    const cilium = parseCniConfig('05-cilium.conflist', JSON.stringify({cniVersion: '0.3.1', name: 'cilium', plugins: [{type: 'cilium-cni'}]}))
    expect(cniNetworkShape({dir: '/etc/cni/net.d', inUse: cilium})).toMatchObject({value: null, why: expect.stringMatching(/does not know/)})
    expect(cniNetworkShape({dir: '/etc/cni/net.d', inUse: null})).toEqual({value: null, why: 'no CNI config in /etc/cni/net.d'})
  })
})

describe('nodeFacts', () => {
  const readings = {nodeMemoryBytes: 1 << 30, runtime: null, kubelet: null, cni: {dir: '/etc/cni/net.d', inUse: null}, capLastCap: 40}
  it('raises negative oom_score_adj only when containerd restricts it', () => {
    const runtime = {name: 'containerd' as const, pid: 9, configPath: '/etc/containerd/config.toml', config: 'restrict_oom_score_adj = true\n', oomScoreAdj: -500, capBnd: '00000000a80425fb'}
    expect(nodeFacts({...readings, runtime}, 'containerd').oomFloor).toEqual({value: -500, why: 'containerd raises it to its own -500 (restrict_oom_score_adj = true in /etc/containerd/config.toml)'})
    expect(nodeFacts({...readings, runtime: {...runtime, config: ''}}, 'containerd').oomFloor).toBeNull()
    expect(nodeFacts({...readings, runtime}, 'containerd').allCapabilities).toEqual(CONTAINERD_CAPABILITIES.slice().sort((a, b) => capIndex(a) - capIndex(b)))
  })
  it('refuses a node without MemTotal in one line', () => {
    expect(() => nodeFacts({...readings, nodeMemoryBytes: null}, 'containerd')).toThrow(CompareError)
  })
})

const capIndex = (c: string) => ['chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap'].indexOf(c)

describe('gatherNodeReadings from a node under a root', () => {
  const root = tempFolder('nd-node-facts-')
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), {recursive: true})
    writeFileSync(join(root, path), text)
  }

  it("finds containerd and the kubelet by their comm, reads their configs, the CNI config in containerd's conf_dir, MemTotal and cap_last_cap", async () => {
    put('/proc/1/comm', 'init\n')
    put('/proc/1/cmdline', '/sbin/init\0')
    put('/proc/42/comm', 'containerd\n')
    put('/proc/42/cmdline', ['containerd', '--config', '/run/node/containerd.toml', ''].join('\0'))
    put('/proc/42/oom_score_adj', '-999\n')
    put('/proc/42/status', 'Name:\tcontainerd\nCapBnd:\t000001ffffffffff\nNoNewPrivs:\t0\nSeccomp:\t0\n')
    put('/run/node/containerd.toml', 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n  [plugins."io.containerd.grpc.v1.cri".cni]\n    conf_dir = "/run/node/cni"\n')
    put('/run/node/cni/10-bridge.conflist', JSON.stringify({cniVersion: '0.4.0', name: 'bridge', plugins: [{type: 'bridge', bridge: 'cni0'}, {type: 'portmap'}]}))
    put('/proc/77/comm', 'kubelet\n')
    put('/proc/77/cmdline', ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml', ''].join('\0'))
    put('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\nseccompDefault: true\n')
    put('/proc/meminfo', 'MemTotal:        2030964 kB\nMemFree:          102400 kB\n')
    put('/proc/sys/kernel/cap_last_cap', '40\n')
    const readings = await gatherNodeReadings(new LiveHost(root))
    expect(readings).toMatchObject({
      nodeMemoryBytes: 2030964 * 1024,
      runtime: {name: 'containerd', pid: 42, configPath: '/run/node/containerd.toml', oomScoreAdj: -999, capBnd: '000001ffffffffff'},
      kubelet: {configPath: '/var/lib/kubelet/config.yaml'},
      cni: {dir: '/run/node/cni', inUse: {file: '10-bridge.conflist'}},
      capLastCap: 40,
    })
    const facts = nodeFacts(readings, 'containerd')
    expect(facts.oomFloor).toEqual({value: -999, why: 'containerd raises it to its own -999 (restrict_oom_score_adj = true in /run/node/containerd.toml)'})
    expect(facts.seccompDefault).toEqual({value: true, why: 'the kubelet runs with --seccomp-default'})
    expect(facts.network).toMatchObject({value: 'bridge cni0'})
    expect(facts.allCapabilities).toHaveLength(41)
  })

  it('reads a node with neither runtime nor kubelet nor meminfo as unknowns, and nodeFacts then refuses in one line', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'nd-node-facts-empty-'))
    try {
      const readings = await gatherNodeReadings(new LiveHost(empty))
      expect(readings).toEqual({nodeMemoryBytes: null, runtime: null, kubelet: null, cni: {dir: '/etc/cni/net.d', inUse: null}, capLastCap: null})
      expect(() => nodeFacts(readings, 'unknown')).toThrow(new CompareError('cannot read MemTotal from /proc/meminfo (needed for oom_score_adj)'))
    } finally {
      rmSync(empty, {recursive: true, force: true})
    }
  })
})
