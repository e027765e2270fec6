import type {Host} from '../../host/host.js'
import {type Check, fail, pass, skip} from '../check.js'

/**
 * One backend's KUBE-* chain and rule lines; null when its save program is not installed;
 * {error} when it ran but could not read the rules (without CAP_NET_ADMIN both backends refuse).
 */
export type BackendReading = number | null | {error: string}

export interface IptablesBackendFacts {
  legacy: BackendReading
  nft: BackendReading
}

/** Lines that declare or fill a KUBE-* chain in iptables-save output. */
export function countKubeLines(save: string): number {
  return save.split('\n').filter((l) => /^(:KUBE-|-A KUBE-)/.test(l)).length
}

/** The first line a save program said when it failed, less its "iptables-save v1.8.9 (legacy): " banner; else its exit code. */
function failure(stderr: string, exitCode: number): string {
  const line = stderr.split('\n').map((l) => l.trim()).find(Boolean)?.replace(/^[\w-]+ v[\d.]+ \([^)]*\): /, '')
  return line ? line.slice(0, 200) : `exit ${exitCode}`
}

const PROGRAMS = {legacy: 'iptables-legacy-save', nft: 'iptables-nft-save'} as const

export const iptablesBackend: Check<IptablesBackendFacts> = {
  id: 'iptables-backend',
  area: 'runtime',
  title: 'KUBE- rules in one iptables backend only',
  why: 'iptables-legacy and iptables-nft keep separate tables: if kube-proxy and the host (or the CNI) use different ones, half the rules are never consulted',
  async gather(host: Host) {
    const read = async (program: string): Promise<BackendReading> => {
      const r = await host.run([program])
      if (!r) return null
      return r.exitCode === 0 ? countKubeLines(r.stdout) : {error: failure(r.stderr, r.exitCode)}
    }
    return {legacy: await read(PROGRAMS.legacy), nft: await read(PROGRAMS.nft)}
  },
  evaluate({legacy, nft}) {
    if (legacy === null && nft === null) return skip('neither iptables-legacy-save nor iptables-nft-save is installed')
    const backends = [['legacy', legacy], ['nft', nft]] as const
    const unread = backends.flatMap(([name, r]) => (r !== null && typeof r === 'object' ? [`${PROGRAMS[name]}: ${r.error}`] : []))
    // a backend not read may hold the other half of the KUBE- rules: no verdict
    if (unread.length) {
      const others = backends.flatMap(([name, r]) => (r === null ? [`${PROGRAMS[name]} is not installed`] : typeof r === 'number' ? [`${name} holds ${r} KUBE- lines`] : []))
      return skip(`could not read the rules: ${[...unread, ...others].join('; ')}`)
    }
    const seen = `KUBE- lines: legacy ${legacy ?? 'n/a'}, nft ${nft ?? 'n/a'}`
    if (typeof legacy === 'number' && legacy > 0 && typeof nft === 'number' && nft > 0) {
      return fail(seen, 'pick the backend kube-proxy uses (its KUBE-IPTABLES-HINT chain says which), flush KUBE- chains from the other (iptables-legacy -t nat -F / -X for each KUBE- chain), and set update-alternatives --set iptables to match')
    }
    return pass(seen)
  },
}
