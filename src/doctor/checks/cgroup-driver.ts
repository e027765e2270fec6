import {type Host, hostPath} from '../../host/host.js'
import * as YAML from 'yaml'
import {type Check, fail, pass, skip} from '../check.js'
import {findProcess, flagValue, scanProcesses} from '../facts/processes.js'
import {byteOrder} from '../../parse/order.js'

export type Driver = 'systemd' | 'cgroupfs'

export interface CgroupDriverFacts {
  kubelet: {driver: Driver; source: string} | null
  runtime: {name: 'containerd' | 'cri-o'; driver: Driver; source: string} | null
}

/** containerd: runc's `SystemdCgroup = true` in config.toml; absent means cgroupfs. */
export function containerdDriver(configToml: string): Driver {
  const match = /^\s*SystemdCgroup\s*=\s*(true|false)\s*$/m.exec(configToml)
  return match?.[1] === 'true' ? 'systemd' : 'cgroupfs'
}

/** CRI-O: `cgroup_manager = "cgroupfs"`; its default is systemd. The last file read wins. */
export function crioDriver(configs: string[]): Driver | undefined {
  let driver: Driver | undefined
  for (const text of configs) {
    const match = /^\s*cgroup_manager\s*=\s*"(systemd|cgroupfs)"/m.exec(text)
    if (match) driver = match[1] as Driver
  }
  return driver
}

export const cgroupDriver: Check<CgroupDriverFacts> = {
  id: 'cgroup-driver',
  area: 'runtime',
  title: 'kubelet and runtime agree on the cgroup driver',
  why: 'with cgroupfs on one side and systemd on the other, pod cgroups land in two trees: sandboxes fail to start or limits are not applied',
  async gather(host: Host) {
    const procs = await scanProcesses(host)
    let kubelet: CgroupDriverFacts['kubelet'] = null
    const k = findProcess(procs, 'kubelet')
    if (k) {
      const flag = flagValue(k.argv, '--cgroup-driver')
      const configPath = flagValue(k.argv, '--config')
      const configText = configPath ? await host.readFile(configPath) : undefined
      let fromConfig: string | undefined
      try {
        fromConfig = configText ? (YAML.parse(configText) as {cgroupDriver?: string} | null)?.cgroupDriver : undefined
      } catch {
        host.warnings.add(`yaml:${configPath}`, 'kubelet config is not YAML', configPath)
      }
      if (flag) kubelet = {driver: flag as Driver, source: '--cgroup-driver'}
      else if (fromConfig) kubelet = {driver: fromConfig as Driver, source: `${configPath} cgroupDriver`}
      else kubelet = {driver: 'cgroupfs', source: 'kubelet default'}
    }
    let runtime: CgroupDriverFacts['runtime'] = null
    const crio = findProcess(procs, 'crio')
    const containerdToml = await host.readFile('/etc/containerd/config.toml')
    if (crio) {
      const texts = [await host.readFile('/etc/crio/crio.conf')]
      for (const e of ((await host.readDir('/etc/crio/crio.conf.d')) ?? []).sort((a, b) => byteOrder(a.name, b.name))) texts.push(await host.readFile(hostPath('/etc/crio/crio.conf.d', e.name)))
      runtime = {name: 'cri-o', driver: crioDriver(texts.filter((t): t is string => t !== undefined)) ?? 'systemd', source: '/etc/crio/crio.conf(.d)'}
    } else if (findProcess(procs, 'containerd') || containerdToml !== undefined) {
      runtime = {name: 'containerd', driver: containerdDriver(containerdToml ?? ''), source: containerdToml === undefined ? 'containerd default (no config.toml)' : '/etc/containerd/config.toml SystemdCgroup'}
    }
    return {kubelet, runtime}
  },
  evaluate({kubelet, runtime}) {
    if (!kubelet) return skip('no kubelet process to compare with')
    if (!runtime) return skip(`kubelet uses ${kubelet.driver} (${kubelet.source}); no containerd or cri-o found`)
    const seen = `kubelet ${kubelet.driver} (${kubelet.source}), ${runtime.name} ${runtime.driver} (${runtime.source})`
    if (kubelet.driver !== runtime.driver) {
      const fix = runtime.name === 'containerd'
        ? `make them equal: SystemdCgroup = ${kubelet.driver === 'systemd'} under [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options], or cgroupDriver: ${runtime.driver} in the kubelet config; then restart both`
        : `make them equal: cgroup_manager = "${kubelet.driver}" in /etc/crio/crio.conf.d, or cgroupDriver: ${runtime.driver} in the kubelet config`
      return fail(seen, fix)
    }
    return pass(seen)
  },
}
