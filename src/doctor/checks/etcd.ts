import {type Host, hostPath} from '../../host/host.js'
import {type Check, fail, pass, skip, warn} from '../check.js'
import {findProcess, flagValue, scanProcesses} from '../facts/processes.js'

export const ETCD_MANIFEST = '/etc/kubernetes/manifests/etcd.yaml'
const DEFAULT_DATA_DIR = '/var/lib/etcd'

export interface EtcdFacts {
  process: {pid: number; argv: string[]} | null
  manifest: boolean
  /** /var/log/containers entries for etcd */
  logs: string[]
  dataDir: {path: string; exists: boolean} | null
  /** etcdctl endpoint health output; null when not run (no etcdctl, no endpoint) */
  health: {ok: boolean; output: string} | null
}

/** The client URL etcdctl should use: the first advertised (or listened) one, 0.0.0.0 made local. */
export function clientEndpoint(argv: string[]): string | undefined {
  const urls = flagValue(argv, '--advertise-client-urls') ?? flagValue(argv, '--listen-client-urls')
  return urls?.split(',')[0]?.replace('://0.0.0.0', '://127.0.0.1')
}

export const etcd: Check<EtcdFacts> = {
  id: 'etcd',
  area: 'control-plane',
  title: 'etcd on this node: running, logged, configured, healthy',
  why: 'etcd holds the whole cluster state; a control-plane node whose etcd is down or unhealthy takes the API server with it',
  async gather(host: Host) {
    const proc = findProcess(await scanProcesses(host), 'etcd')
    const manifest = (await host.stat(ETCD_MANIFEST)) !== undefined
    const logs = ((await host.readDir('/var/log/containers')) ?? []).map((e) => e.name).filter((n) => /^etcd/.test(n))
    const manifestText = manifest ? await host.readFile(ETCD_MANIFEST) : undefined
    const dataPath = (proc && flagValue(proc.argv, '--data-dir')) ?? (manifestText ? /--data-dir=(\S+)/.exec(manifestText)?.[1] : undefined) ?? (proc || manifest ? DEFAULT_DATA_DIR : undefined)
    const dataDir = dataPath ? {path: dataPath, exists: (await host.stat(dataPath))?.kind === 'dir'} : null
    let health: EtcdFacts['health'] = null
    const endpoint = proc ? clientEndpoint(proc.argv) : undefined
    if (proc && endpoint) {
      const argv = ['etcdctl', `--endpoints=${endpoint}`, '--command-timeout=3s']
      if (endpoint.startsWith('https')) {
        const ca = flagValue(proc.argv, '--trusted-ca-file')
        const cert = flagValue(proc.argv, '--cert-file')
        const key = flagValue(proc.argv, '--key-file')
        if (ca) argv.push(`--cacert=${ca}`)
        if (cert) argv.push(`--cert=${cert}`)
        if (key) argv.push(`--key=${key}`)
      }
      const r = await host.run([...argv, 'endpoint', 'health'], {timeoutMs: 8000})
      if (r) health = {ok: r.exitCode === 0 && /is healthy/.test(r.stdout + r.stderr), output: (r.stdout + r.stderr).trim().split('\n')[0] ?? ''}
    }
    return {process: proc ? {pid: proc.pid, argv: proc.argv} : null, manifest, logs, dataDir, health}
  },
  evaluate({process, manifest, logs, dataDir, health}) {
    if (!process && !manifest && logs.length === 0) return skip('no etcd process, manifest or log: not a control-plane node (or etcd runs elsewhere)')
    const parts = [
      process ? `etcd PID ${process.pid}` : 'no etcd process',
      manifest ? ETCD_MANIFEST : 'no static pod manifest',
      logs.length ? `log ${hostPath('/var/log/containers', logs[0])}` : 'no log in /var/log/containers',
      dataDir ? `data dir ${dataDir.path}${dataDir.exists ? '' : ' (missing)'}` : 'no data dir',
      health ? `etcdctl: ${health.output}` : 'etcdctl not run',
    ]
    const seen = parts.join('; ')
    if (manifest && !process) return fail(seen, `the kubelet should run etcd from ${ETCD_MANIFEST}: read the etcd container log (nodedoc logs etcd-<node> -n kube-system) and the kubelet log`)
    if (dataDir && !dataDir.exists) return fail(seen, `etcd's --data-dir ${dataDir.path} is missing: restore it from a snapshot (etcdctl snapshot restore) or fix the flag`)
    if (health && !health.ok) return fail(seen, 'etcd does not answer health: check its log for "raft" / "leader" errors, disk latency (fsync), and member list')
    if (manifest && logs.length === 0) return warn(seen, 'a static-pod etcd should have a log under /var/log/containers: check that the kubelet started it')
    return pass(seen)
  },
}
