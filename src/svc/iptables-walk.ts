// Follows one new connection through an iptables table the way the kernel would: rule by rule,
// into jumped chains and back, splitting on `-m statistic --probability`. What the rules ask
// about the packet that a trace cannot know (its source, marks, affinity) is kept as a
// condition: such a rule is followed as a branch but does not consume the packet.
// What the rules read do not show (a jump to a chain not in them, the cut-off end of a service
// chain in a partial capture) ends that share of the packets as unknown: it is never assumed to
// come back and be DNATed by later rules.

import ipaddr from 'ipaddr.js'
import {BUILTIN_TARGETS, type IptablesChain, type IptablesDump, type IptablesRule, type IptablesTable, computeDestinationPort, destinationPort, isCompleteTable, parseHostPort} from '../parse/iptables.js'
import {chainRole} from '../parse/kube-chains.js'
import {singleAddress} from '../parse/route.js'
import {memo} from './memo.js'
import type {PathHop} from './types.js'

export interface Packet {
  /** null: "some local address of the node" (a NodePort) */
  dst: string | null
  /** null: any port (a frontend rule that names none) */
  dport: number | null
  protocol: string
  /** Whether dst is a local address; null when unknown. */
  dstLocal: boolean | null
}

export interface Outcome {
  /**
   * DNAT, ACCEPT, DROP, REJECT, ...; DANGLING for a jump to a chain that is not in the rules read, PARTIAL for
   * packets that reach the end of a service chain in a partial capture (its other rules may just not be shown).
   */
  target: string
  rule: IptablesRule
  /** Share of the walk's packets ending here, if `conditions` hold. */
  probability: number
  conditions: string[]
  path: WalkHop[]
  dnat: DnatTarget | null
  /** Masquerade marks set on the way: the condition of each ('' = always). */
  masquerade: Array<{chain: string; when: string}>
  /** DANGLING / PARTIAL: why this share's fate is unknown. */
  unknown?: {chain: string; reason: string}
}

/** Where a DNAT rule sends the packet; `problem` when the rule names no usable address. */
export interface DnatTarget {
  ip: string
  port: number | null
  problem?: string
}

export interface WalkHop extends PathHop {
  line: number
  ruleProbability: number | null
  /** The chain the rule sends the packet to, if any. */
  next: string | null
  affinitySeconds?: number | null
}

export interface WalkResult {
  outcomes: Outcome[]
  /** Share of packets that fell off the root chain without a verdict. */
  fallthrough: number
  problems: string[]
}

/** Whether an outcome's fate is unknown (the rules read do not show it). */
export function isUnknownOutcome(o: Outcome): boolean {
  return o.target === 'DANGLING' || o.target === 'PARTIAL'
}

const TERMINAL = new Set(['ACCEPT', 'DROP', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'QUEUE', 'NFQUEUE', 'TPROXY', 'SYNPROXY'])
const EPSILON = 1e-12
const MAX_DEPTH = 40
const WALK_BUDGET = 200_000
/** Roles whose missing chain hides the packet's fate; any other missing chain is assumed to return. */
const HIDES_FATE = new Set(['services', 'nodeports', 'portals', 'service-port', 'service-local', 'service-external', 'service-firewall', 'service-xlb', 'endpoint'])
/** Chains whose cut-off end in a partial capture hides the rest of the packets' fate. */
const ENDS_UNKNOWN_WHEN_CUT = new Set(['service-port', 'service-local', 'service-external', 'service-firewall', 'service-xlb', 'endpoint'])

type Parsed = [ipaddr.IPv4 | ipaddr.IPv6, number]

const parsedCidr = memo((cidr: string): Parsed | null => {
  try {
    return ipaddr.parseCIDR(cidr)
  } catch {
    return null
  }
})

/** Canonical text of an address: IPv6 compressed, IPv4 as is. */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip
  try {
    return ipaddr.parse(ip).toString()
  } catch {
    return ip
  }
}

/** The one address a /32 (or IPv6 /128) names, canonical; null for a wider range. */
export function exactAddress(cidr: string): string | null {
  const ip = singleAddress(cidr)
  return ip === null ? null : canonicalIp(ip)
}

function ipv4(ip: string): number | null {
  const parts = ip.split('.')
  if (parts.length !== 4) return null
  let n = 0
  for (const p of parts) {
    const v = Number(p)
    if (!(v >= 0 && v <= 255) || p === '') return null
    n = n * 256 + v
  }
  return n
}

const v4Network = memo((cidr: string): {net: number; size: number} | null => {
  const [base, bits] = cidr.split('/')
  const start = ipv4(base)
  const len = Number(bits)
  return start === null || !(len >= 0 && len <= 32) ? null : {net: start - (start % 2 ** (32 - len)), size: 2 ** (32 - len)}
})

function contains(cidr: string, ip: string): boolean | null {
  if (!cidr.includes(':') && !ip.includes(':')) {
    const net = v4Network(cidr)
    const address = ipv4(ip)
    if (!net || address === null) return null
    return address >= net.net && address < net.net + net.size
  }
  const parsed = parsedCidr(cidr)
  if (!parsed) return null
  let address: ipaddr.IPv4 | ipaddr.IPv6
  try {
    address = ipaddr.parse(ip)
  } catch {
    return null
  }
  if (address.kind() !== parsed[0].kind()) return false
  return address.match(parsed)
}

/** Per chain: rule indexes by exact destination address and, for the rest, by destination port. */
interface ChainIndex {
  exact: Map<string, number[]>
  byPort: Map<number, number[]>
  any: number[]
}

function push<K>(map: Map<K, number[]>, key: K, i: number): void {
  const list = map.get(key)
  if (list) list.push(i)
  else map.set(key, [i])
}

const indexOf = memo((chain: IptablesChain): ChainIndex => {
  const index: ChainIndex = {exact: new Map(), byPort: new Map(), any: []}
  chain.rules.forEach((rule, i) => {
    const parsed = rule.isParsed
    const exact = rule.destination && !rule.destination.negated ? exactAddress(rule.destination.cidr) : null
    if (exact) push(index.exact, exact, i)
    else {
      const port = destinationPort(rule)
      if (port && !port.negated && port.ports.length === 1) push(index.byPort, port.ports[0], i)
      else index.any.push(i)
    }
    // parsed only to be indexed: 10k frontend rules kept parsed until their service's turn would fill the heap
    if (!parsed) rule.release()
  })
  return index
})

/** Rules of the chain that could match the packet, in chain order. */
function candidates(chain: IptablesChain, packet: Packet): IptablesRule[] {
  if (chain.rules.length < 64 || packet.dport === null) return chain.rules
  const index = indexOf(chain)
  const lists: number[][] = [index.any]
  const byPort = index.byPort.get(packet.dport)
  if (byPort) lists.push(byPort)
  if (packet.dst !== null) {
    const exact = index.exact.get(canonicalIp(packet.dst))
    if (exact) lists.push(exact)
  }
  const merged = lists.length === 1 ? lists[0] : lists.flat().sort((a, b) => a - b)
  return merged.map((i) => chain.rules[i])
}

interface Evaluation {
  matches: boolean
  conditions: string[]
  probability: number | null
  affinitySeconds?: number | null
}

function neg(negated: boolean): string {
  return negated ? 'not ' : ''
}

const NO_CONDITIONS: string[] = Object.freeze([]) as unknown as string[]
const NO_MATCH: Evaluation = Object.freeze({matches: false, conditions: NO_CONDITIONS, probability: null})

/** Does the rule match the packet? yes, no, or "if these conditions hold". */
export function evaluate(rule: IptablesRule, packet: Packet): Evaluation {
  let conditions: string[] = NO_CONDITIONS
  const need = (text: string) => {
    if (conditions === NO_CONDITIONS) conditions = []
    conditions.push(text)
  }
  let probability: number | null = null
  let affinitySeconds: number | null | undefined
  if (rule.protocol && rule.protocol.name !== 'all' && rule.protocol.name !== '0') {
    if ((rule.protocol.name === packet.protocol) === rule.protocol.negated) return NO_MATCH
  }
  if (rule.destination) {
    if (packet.dst === null) {
      // a NodePort packet goes to some local address: never a single cluster IP
      if (exactAddress(rule.destination.cidr) && !rule.destination.negated) return NO_MATCH
      need(`to ${neg(rule.destination.negated)}${rule.destination.cidr}`)
    } else {
      const inside = contains(rule.destination.cidr, packet.dst)
      if (inside === null) need(`to ${neg(rule.destination.negated)}${rule.destination.cidr}`)
      else if (inside === rule.destination.negated) return NO_MATCH
    }
  }
  if (rule.source) need(`from ${neg(rule.source.negated)}${rule.source.cidr}`)
  if (rule.inInterface) need(`in ${neg(rule.inInterface.negated)}${rule.inInterface.name}`)
  if (rule.outInterface) need(`out ${neg(rule.outInterface.negated)}${rule.outInterface.name}`)
  for (const m of rule.matches) {
    switch (m.module) {
      case 'comment':
      case 'nfacct':
        continue
      case 'tcp':
      case 'udp':
      case 'sctp':
      case 'multiport':
      case null:
        if (m.name === 'dport' || m.name === 'destination-port' || m.name === 'dports' || m.name === 'destination-ports') {
          const port = computeDestinationPort([m])
          if (packet.dport === null) need(`to port ${neg(m.negated)}${m.values.join(',')}`)
          else if (port && port.ports.includes(packet.dport) === port.negated) return NO_MATCH
          continue
        }
        need(`${neg(m.negated)}--${m.name} ${m.values.join(' ')}`.trim())
        continue
      case 'addrtype':
        if (m.name === 'dst-type') {
          const local = m.values[0] === 'LOCAL'
          if (packet.dstLocal === null || !local) need(`destination ${neg(m.negated)}type ${m.values.join(',')}`)
          else if ((packet.dstLocal === true) === m.negated) return NO_MATCH
          continue
        }
        need(`source ${neg(m.negated)}type ${m.values.join(',')}`)
        continue
      case 'statistic':
        if (m.name === 'probability') probability = Number(m.values[0])
        else if (m.name === 'every') need(`every ${m.values[0]}th packet`)
        continue
      case 'recent':
        if (m.name === 'rcheck' || m.name === 'update') {
          const seconds = rule.matches.find((o) => o.module === 'recent' && o.name === 'seconds')
          affinitySeconds = seconds ? Number(seconds.values[0]) : null
          const name = rule.matches.find((o) => o.module === 'recent' && o.name === 'name')
          need(`client seen in ${name?.values[0] ?? 'recent list'}${seconds ? ` within ${seconds.values[0]}s` : ''} (session affinity)`)
        }
        continue
      case 'conntrack':
      case 'state':
        if (m.name === 'ctstate' || m.name === 'state') {
          // a new connection, not yet DNATed
          const states = m.values.join(',').split(',')
          if (states.includes('NEW') === m.negated) return NO_MATCH
          continue
        }
        need(`conntrack ${neg(m.negated)}--${m.name} ${m.values.join(' ')}`)
        continue
      case 'mark':
        need(`mark ${neg(m.negated)}${m.values.join(' ')}`)
        continue
      default:
        need(`-m ${m.module} ${neg(m.negated)}--${m.name} ${m.values.join(' ')}`.trim())
    }
  }
  return {matches: true, conditions, probability, affinitySeconds}
}

/** MARK --or-mark 0x4000 / --set-xmark 0x4000/0x4000 / --set-mark 0x4000 -> "0x4000". */
export function markValue(rule: IptablesRule): string | null {
  const o = rule.target?.options ?? {}
  const raw = o['or-mark']?.[0] ?? o['set-xmark']?.[0] ?? o['set-mark']?.[0]
  return raw ? raw.split('/')[0] : null
}

/** Does a chain only set marks (KUBE-MARK-MASQ and look-alikes)? */
function isMarkChain(chain: IptablesChain): boolean {
  return chain.rules.length > 0 && chain.rules.every((r) => r.target?.name === 'MARK')
}

/** The DNAT a rule does, with a problem when its --to-destination names no address (or 0.0.0.0, or port 0). */
export function dnatOf(rule: IptablesRule): DnatTarget | null {
  return rule.derived('dnat', computeDnat)
}

function computeDnat(rule: IptablesRule): DnatTarget | null {
  if (rule.target?.name !== 'DNAT') return null
  const values = rule.target.options['to-destination'] ?? []
  const first = values.length === 1 ? values[0] : values.find((v) => v !== '') ?? ''
  const {ip, port} = parseHostPort(first)
  const target: DnatTarget = {ip: ip ? canonicalIp(ip) : '', port}
  const written = () => (values.length ? values.map((v) => `--to-destination ${v || '(nothing)'}`).join(' ') : 'no --to-destination')
  if (!ip) target.problem = `DNAT names no address (${written()})`
  else if (target.ip === '0.0.0.0' || target.ip === '::') target.problem = `DNAT to ${target.ip}, which is no endpoint (${written()})`
  else if (port === 0) target.problem = `DNAT to port 0 (${written()})`
  else if (values.length > 1 && values.filter((v) => v !== '').length > 1) target.problem = `DNAT rule names ${values.length} destinations (${written()}); the first is taken`
  return target
}

/** One branch of a walk: the packets that took it and what holds for them. */
interface Branch {
  mass: number
  conditions: string[]
  path: WalkHop[]
  marks: Array<{chain: string; when: string}>
  /** chains entered so far, to stop loops */
  stack: string[]
}

/** What one walk collects. */
interface WalkState {
  packet: Packet
  outcomes: Outcome[]
  problems: string[]
  root: string
}

export class TableWalker {
  private readonly table: IptablesTable | undefined
  /** Whether the rules read are the whole table: if not, the end of a service chain hides the rest. */
  readonly partial: boolean
  readonly problems = new Set<string>()
  /** Rule evaluations left in this walk: conditional branches on a large rule set must not explode. */
  private budget = 0

  constructor(dump: IptablesDump, tableName: string) {
    this.table = dump.tables.get(tableName)
    this.partial = !!this.table && !isCompleteTable(this.table)
  }

  chain(name: string): IptablesChain | undefined {
    return this.table?.chains.get(name)
  }

  chainNames(): IterableIterator<string> {
    return (this.table?.chains ?? new Map<string, IptablesChain>()).keys()
  }

  /** Whether the table holds any chain kube-proxy makes. */
  hasKubeProxyChains(): boolean {
    for (const name of this.chainNames()) if (chainRole(name) !== null) return true
    return false
  }

  /** Every chain some rule of the table jumps or goes to (read without parsing the rules). */
  referencedChains(): Set<string> {
    return this.referencedOnce(this)
  }

  private readonly referencedOnce = memo((_: TableWalker): Set<string> => {
    const out = new Set<string>()
    for (const chain of this.table?.chains.values() ?? []) for (const rule of chain.rules) {
      const target = rule.targetName
      if (target) out.add(target)
    }
    return out
  })

  /** The chain a rule jumps to (one Map lookup: remembering it per rule cost more than it saved). */
  targetChain(rule: IptablesRule): IptablesChain | null {
    return (rule.target && this.table?.chains.get(rule.target.name)) || null
  }

  /** Chains walked since the caller last set this (svc -A releases a traced service's own chains). */
  entered: Set<string> | null = null

  /** Whether the target names a chain (present or not) rather than a built-in or extension target. */
  isJumpTarget(name: string, rule: IptablesRule): boolean {
    if (this.table?.chains.has(name)) return true
    if (BUILTIN_TARGETS.has(name)) return false
    // an unknown target with options is an extension target, without options a missing chain
    for (const _ in rule.target?.options ?? {}) return false
    return true
  }

  /** The mark KUBE-MARK-MASQ sets, else the mark kube-proxy's POSTROUTING masquerades (kube-proxy 1.1 had no KUBE-MARK-MASQ). */
  masqueradeMark(): string | null {
    return this.masqueradeMarkOnce(this)
  }

  private readonly masqueradeMarkOnce = memo((_: TableWalker): string | null => {
    const rule = this.chain('KUBE-MARK-MASQ')?.rules.find((r) => r.target?.name === 'MARK')
    if (rule) return markValue(rule)
    for (const name of ['KUBE-POSTROUTING', 'POSTROUTING']) {
      for (const r of this.chain(name)?.rules ?? []) {
        const mark = r.target?.name === 'MASQUERADE' ? r.matches.find((m) => m.module === 'mark' && m.name === 'mark' && !m.negated) : undefined
        if (mark) return mark.values[0].split('/')[0]
      }
    }
    return null
  })

  private isMasqueradeMark(rule: IptablesRule): boolean {
    const mark = markValue(rule)
    if (mark === null) return false
    const masq = this.masqueradeMark()
    return masq === null ? rule.chain === 'KUBE-MARK-MASQ' : mark === masq
  }

  private setsMasqueradeMark(chain: IptablesChain): boolean {
    return chain.name === 'KUBE-MARK-MASQ' || chain.rules.some((r) => this.isMasqueradeMark(r))
  }

  /** Walks `root` for `packet`; `mass` is the share of packets entering it. */
  walk(root: string, packet: Packet, mass = 1): WalkResult {
    const state: WalkState = {packet, outcomes: [], problems: [], root}
    this.budget = WALK_BUDGET
    const back = this.walkChain(root, {mass, conditions: [], path: [], marks: [], stack: [root]}, state)
    return {outcomes: state.outcomes, fallthrough: back.returned + back.passed, problems: state.problems}
  }

  private problem(state: WalkState, text: string): void {
    state.problems.push(text)
    this.problems.add(text)
  }

  /**
   * Returns how much of the branch's mass comes back to the caller: `returned` by RETURN or the chain's end,
   * `passed` by a goto'd chain's end (which returns to the caller's caller).
   */
  private walkChain(name: string, branch: Branch, state: WalkState): {returned: number; passed: number} {
    const chain = this.chain(name)
    if (!chain) return {returned: branch.mass, passed: 0}
    this.entered?.add(name)
    let remaining = branch.mass
    let returned = 0
    let passed = 0
    let marks = branch.marks
    for (const rule of candidates(chain, state.packet)) {
      if (remaining <= EPSILON && branch.conditions.length === 0) break
      if (--this.budget < 0) {
        if (this.budget === -1) state.problems.push(`walk from ${state.root} stopped after ${WALK_BUDGET} rules: conditional branches not all followed`)
        break
      }
      const ev = evaluate(rule, state.packet)
      if (!ev.matches) continue
      const target = rule.target
      if (!target || !target.name) continue
      const taken = remaining * (ev.probability ?? 1)
      const conditional = ev.conditions.length > 0
      const when = ev.conditions.join(', ')
      if (target.name === 'RETURN') {
        if (!conditional) {
          remaining -= taken
          returned += taken
        }
        continue
      }
      if (target.name === 'MARK') {
        if (this.isMasqueradeMark(rule)) marks = [...marks, {chain: name, when}]
        continue
      }
      const next = this.targetChain(rule)
      // KUBE-MARK-MASQ / KUBE-MARK-DROP by name (only those need their role here, and it is asked often)
      const markRole = target.name.startsWith('KUBE-MARK-') ? chainRole(target.name) : null
      // KUBE-MARK-MASQ and look-alikes only set a mark: note it, no branch (also when the capture lacks the chain)
      if ((next && isMarkChain(next) && markRole !== 'mark-drop') || (!next && markRole === 'mark-masquerade')) {
        if (markRole === 'mark-masquerade' || (next && this.setsMasqueradeMark(next))) marks = [...marks, {chain: name, when}]
        continue
      }
      const hop = this.hop(rule, name, ev, taken, when)
      const sub: Branch = {mass: taken, conditions: conditional ? [...branch.conditions, ...ev.conditions] : branch.conditions, path: [...branch.path, hop], marks, stack: branch.stack}
      // KUBE-MARK-DROP marks the packet for KUBE-FIREWALL to drop: for this connection, the end
      if (TERMINAL.has(target.name) || markRole === 'mark-drop') {
        state.outcomes.push(this.outcome(markRole === 'mark-drop' ? 'DROP' : target.name, rule, sub))
        if (!conditional) remaining -= taken
        continue
      }
      if (!this.isJumpTarget(target.name, rule)) continue // LOG, CT, ... : non-terminating
      hop.next = target.name
      if (!next) {
        // not in the rules read: a kube-proxy chain's share is unknown; another component's chain is taken to return
        const role = chainRole(target.name)
        if (role === null || !HIDES_FATE.has(role)) continue
        state.outcomes.push({...this.outcome('DANGLING', rule, sub), unknown: {chain: target.name, reason: `chain ${target.name} not in the rules`}})
        this.problem(state, `${rule.table} ${name} line ${rule.line}: jump to chain ${target.name}, which is not in the rules`)
        if (!conditional) remaining -= taken
        continue
      }
      if (branch.stack.includes(target.name) || branch.stack.length > MAX_DEPTH) {
        this.problem(state, `${rule.table} ${name} line ${rule.line}: jump to ${target.name} loops back`)
        continue
      }
      sub.stack = [...branch.stack, target.name]
      const back = this.walkChain(target.name, sub, state)
      if (conditional) continue
      if (target.via === 'goto') {
        remaining -= taken
        passed += back.returned + back.passed
      } else {
        remaining = remaining - taken + back.returned + back.passed
      }
    }
    // the chain's end returns to the caller, as RETURN does; in a partial capture a service chain's end may just be cut
    if (remaining > EPSILON && this.partial && ENDS_UNKNOWN_WHEN_CUT.has(chainRole(name) ?? '')) {
      const rule = chain.rules.at(-1) ?? (branch.path.length ? this.ruleOf(branch.path.at(-1)!) : undefined)
      if (rule) {
        state.outcomes.push({
          target: 'PARTIAL', rule, probability: remaining, conditions: branch.conditions, path: branch.path, dnat: null, masquerade: marks,
          unknown: {chain: name, reason: chain.rules.length ? `the rest of ${name} is not in the capture` : `none of ${name}'s rules are in the capture`},
        })
        return {returned, passed}
      }
    }
    return {returned: returned + Math.max(0, remaining), passed}
  }

  /** The rule a hop was made from (a hop always names one rule of this table). */
  private ruleOf(hop: WalkHop): IptablesRule {
    return this.chain(hop.chain)!.rules.find((r) => r.line === hop.line)!
  }

  private hop(rule: IptablesRule, chain: string, ev: Evaluation, taken: number, when: string): WalkHop {
    const hop: WalkHop = {table: rule.table, chain, rule: rule.text, line: rule.line, ruleProbability: ev.probability, next: null}
    if ((ev.probability ?? 1) < 1) hop.probability = taken
    if (when) hop.condition = when
    if (ev.affinitySeconds !== undefined) hop.affinitySeconds = ev.affinitySeconds
    return hop
  }

  private outcome(target: string, rule: IptablesRule, branch: Branch): Outcome {
    return {target, rule, probability: branch.mass, conditions: branch.conditions, path: branch.path, dnat: target === 'DNAT' ? dnatOf(rule) : null, masquerade: branch.marks}
  }
}
