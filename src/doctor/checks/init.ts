import type {Host} from '../../host/host.js'
import {parseCmdline} from '../../parse/proc.js'
import {type Check, pass, skip, warn} from '../check.js'
import {scanProcesses} from '../facts/processes.js'

export interface InitFacts {
  comm: string | undefined
  argv: string[]
  /** parent chain of the kubelet, nearest first (comm names) */
  kubeletParents: string[] | null
}

export const init: Check<InitFacts> = {
  id: 'init',
  area: 'prereqs',
  title: 'an init system supervises the kubelet',
  why: 'the kubelet must be restarted when it dies and started at boot; without a supervisor a crash leaves the node NotReady',
  async gather(host: Host) {
    const comm = (await host.readFile('/proc/1/comm'))?.trim()
    const argv = parseCmdline((await host.readFile('/proc/1/cmdline')) ?? '')
    const procs = await scanProcesses(host)
    const byPid = new Map(procs.map((p) => [p.pid, p]))
    const kubelet = procs.find((p) => p.comm === 'kubelet' && p.state !== 'Z')
    let kubeletParents: string[] | null = null
    if (kubelet) {
      kubeletParents = []
      for (let p = byPid.get(kubelet.ppid); p && kubeletParents.length < 8; p = byPid.get(p.ppid)) {
        kubeletParents.push(p.comm)
        if (p.pid === 1) break
      }
    }
    return {comm, argv, kubeletParents}
  },
  evaluate({comm, argv, kubeletParents}) {
    if (!comm) return skip('/proc/1/comm not readable')
    const chain = kubeletParents ? `; kubelet's parents: ${kubeletParents.join(' <- ') || 'none'}` : '; no kubelet running'
    if (comm === 'systemd' || /systemd$/.test(argv[0] ?? '')) return pass(`PID 1 is systemd${chain}`)
    const supervisors = ['openrc', 's6-svscan', 'runsvdir', 'supervisord', 'init', 'containerd-shim', 'dumb-init', 'tini']
    if (kubeletParents?.some((p) => supervisors.some((s) => p.startsWith(s)) || p === 'systemd')) return pass(`PID 1 is ${comm}${chain}`)
    const cmdline = argv.join(' ') || 'no cmdline'
    return warn(`PID 1 is ${comm} (${cmdline.length > 60 ? `${cmdline.slice(0, 57)}...` : cmdline}), not systemd${chain}`, 'run the kubelet under systemd (kubelet.service with Restart=always) or another supervisor that restarts it')
  },
}
