// Whole-table questions about kube-proxy's iptables rules: are its entry chains hooked into the
// kernel's built-in chains, which of its chains does nothing jump to, which jumps go to chains the
// rules read do not hold. A partial capture answers "unknown" where a whole table would answer "no".

import {BUILTIN_TARGETS, type IptablesDump, isCompleteTable} from '../parse/iptables.js'
import {ENTRY_CHAINS, chainRole, isPerServicePortChain} from '../parse/kube-chains.js'
import {dnatOf, type TableWalker} from './iptables-walk.js'
import {serviceNameFromComment} from './iptables-frontends.js'

/** Whether packets reach an entry chain: true, false (the rules say they do not), or null (the rules read do not show). */
export interface Hook {
  hooked: boolean | null
  /** Why not, or why unknown: "nat PREROUTING does not jump to KUBE-SERVICES". */
  reason: string | null
}

export interface Hooks {
  /** PREROUTING -> KUBE-SERVICES (or the old KUBE-PORTALS-CONTAINER) */
  services: Hook
  /** KUBE-SERVICES -> KUBE-NODEPORTS */
  nodePorts: Hook
  problems: string[]
  notes: string[]
}

function jumpsTo(nat: TableWalker, from: string, to: (target: string) => boolean): boolean {
  return (nat.chain(from)?.rules ?? []).some((r) => to(r.targetName ?? ''))
}

/** How kube-proxy's nat entry chains hang from the kernel's hooks, as far as the rules read show. */
export function readHooks(dump: IptablesDump, nat: TableWalker): Hooks {
  const out: Hooks = {services: {hooked: null, reason: null}, nodePorts: {hooked: null, reason: null}, problems: [], notes: []}
  const table = dump.tables.get('nat')
  const whole = isCompleteTable(table)
  const toServices = (t: string) => t === 'KUBE-SERVICES' || t.startsWith('KUBE-PORTALS')
  if (nat.chain('PREROUTING')) {
    if (jumpsTo(nat, 'PREROUTING', toServices)) out.services = {hooked: true, reason: null}
    else if (whole) {
      out.services = {hooked: false, reason: 'not hooked: nat PREROUTING does not jump to KUBE-SERVICES'}
      out.problems.push('nat PREROUTING does not jump to KUBE-SERVICES: kube-proxy rules are not hooked in')
    } else out.services.reason = 'nat PREROUTING in this capture shows no jump to KUBE-SERVICES (the capture is partial)'
    if (whole && nat.chain('OUTPUT') && !jumpsTo(nat, 'OUTPUT', toServices)) out.problems.push('nat OUTPUT does not jump to KUBE-SERVICES: connections from the node itself are not DNATed')
  } else if (nat.chain('KUBE-SERVICES')) {
    out.notes.push('nat PREROUTING/OUTPUT not in this input: tracing from KUBE-SERVICES')
    out.services.reason = 'nat PREROUTING is not in the rules read'
  }
  if (nat.chain('KUBE-SERVICES')) {
    if (jumpsTo(nat, 'KUBE-SERVICES', (t) => t === 'KUBE-NODEPORTS')) out.nodePorts = {hooked: out.services.hooked === false ? false : true, reason: out.services.hooked === false ? out.services.reason : null}
    else if (whole) out.nodePorts = {hooked: false, reason: 'not hooked: nat KUBE-SERVICES does not jump to KUBE-NODEPORTS'}
    else out.nodePorts.reason = 'nat KUBE-SERVICES in this capture shows no jump to KUBE-NODEPORTS (the capture is partial)'
  } else out.nodePorts.reason = 'nat KUBE-SERVICES is not in the rules read'
  if (out.nodePorts.hooked === false && out.services.hooked !== false && nat.chain('KUBE-NODEPORTS')?.rules.length) {
    out.problems.push('nat KUBE-SERVICES does not jump to KUBE-NODEPORTS: NodePorts are not hooked in')
  }
  return out
}

/** kube-proxy's entry chains the nat table lacks (a capture with service chains but not these cannot name frontends). */
export function missingEntryChains(nat: TableWalker): string[] {
  return nat.hasKubeProxyChains() ? ENTRY_CHAINS.filter((c) => !nat.chain(c)) : []
}

export interface ChainChecks {
  /** Per-service-port chains (KUBE-SVC, SVL, EXT, FW, XLB, SEP) nothing jumps to. */
  unreferenced: Array<{table: string; chain: string}>
  /** Chains rules jump to that the rules read never declare nor fill: each once. */
  missing: Array<{table: string; chain: string; jumps: number; firstLine: number}>
  problems: string[]
}

const FAMILY = /^(KUBE-[A-Z]+)-/

/** Chains nothing jumps to, and jumps to chains that are not there: whole-dump questions. */
export function chainChecks(dump: IptablesDump): ChainChecks {
  const out: ChainChecks = {unreferenced: [], missing: [], problems: []}
  for (const table of dump.tables.values()) {
    // the first line that jumps to each target (jumps are counted later, for the few missing targets)
    const referenced = new Map<string, number>()
    for (const chain of table.chains.values()) for (const rule of chain.rules) {
      const target = rule.targetName
      if (target && !referenced.has(target)) referenced.set(target, rule.line)
    }
    const whole = isCompleteTable(table)
    const where = whole ? '' : ' (in this capture: the rules that jump to them may just not be shown)'
    // per family, so a cut capture does not print one line per chain
    const byFamily = new Map<string, string[]>()
    const hasBuiltins = [...table.chains.values()].some((c) => c.policy !== null)
    for (const chain of table.chains.values()) {
      if (chain.policy !== null || referenced.has(chain.name)) continue
      if (isPerServicePortChain(chain.name)) {
        out.unreferenced.push({table: table.name, chain: chain.name})
        const dnat = chain.rules.map((r) => (r.targetName === 'DNAT' ? r : null)).find((r) => r !== null)
        const to = dnat ? dnatOf(dnat) : null
        const what = dnat ? ` (DNAT ${to ? `${to.ip}:${to.port ?? '*'}` : '?'}${dnat.comment ? `, ${serviceNameFromComment(dnat.comment) ?? dnat.comment}` : ''})` : ''
        const family = FAMILY.exec(chain.name)![1]
        const list = byFamily.get(family) ?? []
        list.push(`${chain.name}${what}`)
        byFamily.set(family, list)
      } else if (hasBuiltins && chain.name.startsWith('KUBE-') && chainRole(chain.name) !== 'canary') {
        out.problems.push(`${table.name} chain ${chain.name} is not jumped to by any rule${where}`)
      }
    }
    for (const [family, chains] of byFamily) out.problems.push(`${table.name} ${family} chains not jumped to by any rule${where}: ${chains.join(', ')}`)
    const missing = new Map<string, {jumps: number; firstLine: number}>()
    for (const [target, firstLine] of referenced) if (!table.chains.has(target) && !BUILTIN_TARGETS.has(target)) missing.set(target, {jumps: 0, firstLine})
    if (missing.size === 0) continue
    for (const chain of table.chains.values()) for (const rule of chain.rules) {
      const seen = missing.get(rule.targetName ?? '')
      if (!seen) continue
      // an unknown target with options is an extension target (parsed only for these few)
      if (Object.keys(rule.target?.options ?? {}).length > 0) missing.delete(rule.targetName!)
      else seen.jumps++
    }
    for (const [chain, seen] of missing) out.missing.push({table: table.name, chain, ...seen})
  }
  if (out.missing.length) {
    out.problems.push(`jumps to chains not in the rules read: ${out.missing.map((m) => `${m.table} ${m.chain} (${m.jumps} jump${m.jumps === 1 ? '' : 's'}, first at line ${m.firstLine})`).join(', ')}`)
  }
  return out
}
