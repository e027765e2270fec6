import type {Host} from '../../host/host.js'
import {type Check, fail, pass, warn} from '../check.js'
import {findProcess, flagValue, scanProcesses} from '../facts/processes.js'

export interface KubeletFacts {
  pid: number | null
  argv: string[]
  /** --config path and whether it could be read */
  config: {path: string; readable: boolean} | null
  kubeconfig: {path: string; readable: boolean} | null
}

export const kubelet: Check<KubeletFacts> = {
  id: 'kubelet',
  area: 'prereqs',
  title: 'kubelet running, flags and config found',
  why: 'without a kubelet no pod on this node is started, watched or reported to the API server',
  async gather(host: Host) {
    const proc = findProcess(await scanProcesses(host), 'kubelet')
    if (!proc) return {pid: null, argv: [], config: null, kubeconfig: null}
    const file = async (path: string | undefined) => (path ? {path, readable: (await host.readFile(path)) !== undefined} : null)
    return {pid: proc.pid, argv: proc.argv, config: await file(flagValue(proc.argv, '--config')), kubeconfig: await file(flagValue(proc.argv, '--kubeconfig'))}
  },
  evaluate({pid, argv, config, kubeconfig}) {
    if (pid === null) return fail('no kubelet process', 'start the kubelet (systemctl status kubelet; journalctl -u kubelet -e shows why it stopped)')
    const flags = argv.slice(1).filter((a) => a.startsWith('--')).length
    const seen = `kubelet PID ${pid}, ${flags} flags, --config ${config ? `${config.path}${config.readable ? '' : ' (unreadable)'}` : 'not given'}, --kubeconfig ${kubeconfig ? kubeconfig.path : 'not given'}`
    if (config && !config.readable) return fail(seen, `the kubelet was started with --config ${config.path} which cannot be read: restore it (kubeadm: /var/lib/kubelet/config.yaml)`)
    if (kubeconfig && !kubeconfig.readable) return warn(seen, `--kubeconfig ${kubeconfig.path} cannot be read: the kubelet may not reach the API server`)
    return pass(seen)
  },
}
