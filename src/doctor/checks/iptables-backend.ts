import type {Host} from '../../host/host.js'
import {type Check, fail, pass, skip} from '../check.js'

export interface IptablesBackendFacts {
  /** KUBE-* chain and rule lines per backend; null when that save program is missing */
  legacy: number | null
  nft: number | null
}

/** Lines that declare or fill a KUBE-* chain in iptables-save output. */
export function countKubeLines(save: string): number {
  return save.split('\n').filter((l) => /^(:KUBE-|-A KUBE-)/.test(l)).length
}

export const iptablesBackend: Check<IptablesBackendFacts> = {
  id: 'iptables-backend',
  area: 'runtime',
  title: 'KUBE- rules in one iptables backend only',
  why: 'iptables-legacy and iptables-nft keep separate tables: if kube-proxy and the host (or the CNI) use different ones, half the rules are never consulted',
  async gather(host: Host) {
    const count = async (program: string) => {
      const r = await host.run([program])
      return r && r.exitCode === 0 ? countKubeLines(r.stdout) : null
    }
    return {legacy: await count('iptables-legacy-save'), nft: await count('iptables-nft-save')}
  },
  evaluate({legacy, nft}) {
    if (legacy === null && nft === null) return skip('neither iptables-legacy-save nor iptables-nft-save is installed')
    const seen = `KUBE- lines: legacy ${legacy ?? 'n/a'}, nft ${nft ?? 'n/a'}`
    if ((legacy ?? 0) > 0 && (nft ?? 0) > 0) {
      return fail(seen, 'pick the backend kube-proxy uses (its KUBE-IPTABLES-HINT chain says which), flush KUBE- chains from the other (iptables-legacy -t nat -F / -X for each KUBE- chain), and set update-alternatives --set iptables to match')
    }
    return pass(seen)
  },
}
