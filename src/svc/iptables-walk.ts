// Follows one new connection through an iptables table the way the kernel would: rule by rule,
// into jumped chains and back, splitting on `-m statistic --probability`. What the rules ask
// about the packet that a trace cannot know (its source, marks, affinity) is kept as a
// condition: such a rule is followed as a branch but does not consume the packet.

import ipaddr from 'ipaddr.js'
import {BUILTIN_TARGETS, type IptablesChain, type IptablesDump, type IptablesRule, type IptablesTable, computeDestinationPort, destinationPort, parseHostPort} from '../parse/iptables.js'
import {singleAddress} from '../parse/route.js'
import type {PathHop} from './types.js'

export interface Packet {
  /** null: "some local address of the node" (a NodePort) */
  dst: string | null
  dport: number
  protocol: string
  /** Whether dst is a local address; null when unknown. */
  dstLocal: boolean | null
}

export interface Outcome {
  /** DNAT, ACCEPT, DROP, REJECT, ... or DANGLING for a jump to a chain that is not there. */
  target: string
  rule: IptablesRule
  /** Share of the walk's packets ending here, if `conditions` hold. */
  probability: number
  conditions: string[]
  path: WalkHop[]
  dnat: {ip: string; port: number | null} | null
  /** Masquerade marks set on the way: the condition of each ('' = always). */
  masquerade: Array<{chain: string; when: string}>
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

const TERMINAL = new Set(['ACCEPT', 'DROP', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'QUEUE', 'NFQUEUE', 'TPROXY', 'SYNPROXY'])
const EPSILON = 1e-12
const MAX_DEPTH = 40
const WALK_BUDGET = 200_000

type Parsed = [ipaddr.IPv4 | ipaddr.IPv6, number]
const cidrCache = new Map<string, Parsed | null>()

function parsedCidr(cidr: string): Parsed | null {
  let parsed = cidrCache.get(cidr)
  if (parsed === undefined) {
    try {
      parsed = ipaddr.parseCIDR(cidr)
    } catch {
      parsed = null
    }
    if (cidrCache.size > 100_000) cidrCache.clear()
    cidrCache.set(cidr, parsed)
  }
  return parsed
}

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

const v4Cidrs = new Map<string, {net: number; size: number} | null>()

function contains(cidr: string, ip: string): boolean | null {
  if (!cidr.includes(':') && !ip.includes(':')) {
    let net = v4Cidrs.get(cidr)
    if (net === undefined) {
      const [base, bits] = cidr.split('/')
      const start = ipv4(base)
      const len = Number(bits)
      net = start === null || !(len >= 0 && len <= 32) ? null : {net: start - (start % 2 ** (32 - len)), size: 2 ** (32 - len)}
      if (v4Cidrs.size > 100_000) v4Cidrs.clear()
      v4Cidrs.set(cidr, net)
    }
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

const indexes = new WeakMap<IptablesChain, ChainIndex>()

function indexOf(chain: IptablesChain): ChainIndex {
  let index = indexes.get(chain)
  if (index) return index
  index = {exact: new Map(), byPort: new Map(), any: []}
  chain.rules.forEach((rule, i) => {
    const exact = rule.destination && !rule.destination.negated ? exactAddress(rule.destination.cidr) : null
    if (exact) {
      const list = index!.exact.get(exact)
      if (list) list.push(i)
      else index!.exact.set(exact, [i])
      return
    }
    const port = destinationPort(rule)
    if (port && !port.negated && port.ports.length === 1) {
      const list = index!.byPort.get(port.ports[0])
      if (list) list.push(i)
      else index!.byPort.set(port.ports[0], [i])
      return
    }
    index!.any.push(i)
  })
  indexes.set(chain, index)
  return index
}

/** Rules of the chain that could match the packet, in chain order. */
function candidates(chain: IptablesChain, packet: Packet): IptablesRule[] {
  if (chain.rules.length < 64) return chain.rules
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

/** Does the rule match the packet? yes, no, or "if these conditions hold". */
const NO_CONDITIONS: string[] = Object.freeze([]) as unknown as string[]
const NO_MATCH: Evaluation = Object.freeze({matches: false, conditions: NO_CONDITIONS, probability: null})

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
          if (port && port.ports.includes(packet.dport) === port.negated) return NO_MATCH
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

const markChains = new WeakMap<IptablesChain, boolean>()

/** Does a chain only set marks (KUBE-MARK-MASQ and look-alikes)? */
function isMarkChain(chain: IptablesChain | undefined): boolean {
  if (!chain) return false
  let yes = markChains.get(chain)
  if (yes === undefined) {
    yes = chain.rules.length > 0 && chain.rules.every((r) => r.target?.name === 'MARK')
    markChains.set(chain, yes)
  }
  return yes
}

export class TableWalker {
  private readonly table: IptablesTable | undefined
  readonly problems = new Set<string>()

  constructor(dump: IptablesDump, tableName: string) {
    this.table = dump.tables.get(tableName)
  }

  chain(name: string): IptablesChain | undefined {
    return this.table?.chains.get(name)
  }

  private readonly targets = new WeakMap<IptablesRule, IptablesChain | null>()

  /** The chain a rule jumps to, looked up once per rule. */
  targetChain(rule: IptablesRule): IptablesChain | undefined {
    let chain = this.targets.get(rule)
    if (chain === undefined) {
      chain = (rule.target && this.table?.chains.get(rule.target.name)) || null
      this.targets.set(rule, chain)
    }
    return chain ?? undefined
  }

  private readonly jumpTargets = new Map<string, boolean>()

  isJumpTarget(name: string, rule: IptablesRule): boolean {
    const known = this.jumpTargets.get(name)
    if (known !== undefined) return known
    const yes = this.isJumpTargetUncached(name, rule)
    // a chain name is a chain whatever rule names it; an unknown name depends on its options
    if (this.table?.chains.has(name) || BUILTIN_TARGETS.has(name)) this.jumpTargets.set(name, yes)
    return yes
  }

  private isJumpTargetUncached(name: string, rule: IptablesRule): boolean {
    if (this.table?.chains.has(name)) return true
    if (BUILTIN_TARGETS.has(name)) return false
    // an unknown target with options is an extension target, without options a missing chain
    for (const _ in rule.target?.options ?? {}) return false
    return true
  }

  /** Walks `root` for `packet`; `mass` is the share of packets entering it. */
  /** Rule evaluations left in this walk: conditional branches on a large rule set must not explode. */
  private budget = 0

  walk(root: string, packet: Packet, mass = 1): WalkResult {
    const outcomes: Outcome[] = []
    const problems: string[] = []
    this.budget = WALK_BUDGET
    const fallthrough = this.walkChain(root, packet, mass, [], [], [], outcomes, problems, [root])
    return {outcomes, fallthrough: fallthrough.returned + fallthrough.passed, problems}
  }

  /**
   * Returns how much of `mass` comes back to the caller: `returned` by RETURN or the chain's end,
   * `passed` by a goto'd chain's end (which returns to the caller's caller).
   */
  private walkChain(
    name: string, packet: Packet, mass: number, conditions: string[], path: WalkHop[],
    masquerade: Array<{chain: string; when: string}>, outcomes: Outcome[], problems: string[], stack: string[],
  ): {returned: number; passed: number} {
    const chain = this.chain(name)
    if (!chain) return {returned: mass, passed: 0}
    let remaining = mass
    let returned = 0
    let passed = 0
    let marks = masquerade
    for (const rule of candidates(chain, packet)) {
      if (remaining <= EPSILON && conditions.length === 0) break
      if (--this.budget < 0) {
        if (this.budget === -1) problems.push(`walk from ${stack[0]} stopped after ${WALK_BUDGET} rules: conditional branches not all followed`)
        break
      }
      const ev = evaluate(rule, packet)
      if (!ev.matches) continue
      const p = ev.probability ?? 1
      const taken = remaining * p
      const conditional = ev.conditions.length > 0
      const branchConditions = conditional ? [...conditions, ...ev.conditions] : conditions
      const target = rule.target
      if (!target || !target.name) continue
      if (target.name === 'RETURN') {
        if (!conditional) {
          remaining -= taken
          returned += taken
        }
        continue
      }
      if (target.name === 'MARK') {
        if (this.isMasqueradeMark(rule)) marks = [...marks, {chain: name, when: ev.conditions.join(', ')}]
        continue
      }
      const next = this.targetChain(rule)
      // KUBE-MARK-MASQ and the like only set a mark: note it, no branch
      if (next && isMarkChain(next)) {
        if (this.setsMasqueradeMark(next)) marks = [...marks, {chain: name, when: ev.conditions.join(', ')}]
        continue
      }
      const hop: WalkHop = {
        table: rule.table, chain: name, rule: rule.text, line: rule.line,
        ruleProbability: ev.probability, next: null,
      }
      if (p < 1) hop.probability = taken
      if (conditional) hop.condition = ev.conditions.join(', ')
      if (ev.affinitySeconds !== undefined) hop.affinitySeconds = ev.affinitySeconds
      const hopPath = [...path, hop]
      if (TERMINAL.has(target.name)) {
        const dnat = target.name === 'DNAT' ? dnatOf(rule) : null
        outcomes.push({target: target.name, rule, probability: taken, conditions: branchConditions, path: hopPath, dnat, masquerade: marks})
        if (!conditional) remaining -= taken
        continue
      }
      if (!this.isJumpTarget(target.name, rule)) continue // LOG, CT, ... : non-terminating
      hop.next = target.name
      if (!next) {
        const problem = `${rule.table} ${name} line ${rule.line}: jump to chain ${target.name}, which does not exist`
        problems.push(problem)
        this.problems.add(problem)
        outcomes.push({target: 'DANGLING', rule, probability: taken, conditions: branchConditions, path: hopPath, dnat: null, masquerade: marks})
        continue
      }
      if (stack.includes(target.name) || stack.length > MAX_DEPTH) {
        const problem = `${rule.table} ${name} line ${rule.line}: jump to ${target.name} loops back`
        problems.push(problem)
        this.problems.add(problem)
        continue
      }
      const back = this.walkChain(target.name, packet, taken, branchConditions, hopPath, marks, outcomes, problems, [...stack, target.name])
      if (conditional) continue
      if (target.via === 'goto') {
        remaining -= taken
        passed += back.returned + back.passed
      } else {
        remaining = remaining - taken + back.returned + back.passed
      }
    }
    // the chain's end returns to the caller, as RETURN does
    return {returned: returned + Math.max(0, remaining), passed}
  }

  private readonly masqChains = new Map<string, boolean>()

  private setsMasqueradeMark(chain: IptablesChain): boolean {
    let yes = this.masqChains.get(chain.name)
    if (yes === undefined) {
      yes = chain.rules.some((r) => this.isMasqueradeMark(r))
      this.masqChains.set(chain.name, yes)
    }
    return yes
  }

  private masqMarkBits: string | null | undefined

  /** The mark KUBE-MARK-MASQ sets, e.g. "0x4000". */
  masqueradeMark(): string | null {
    if (this.masqMarkBits !== undefined) return this.masqMarkBits
    const rule = this.chain('KUBE-MARK-MASQ')?.rules.find((r) => r.target?.name === 'MARK')
    this.masqMarkBits = rule ? markValue(rule) : null
    return this.masqMarkBits
  }

  private isMasqueradeMark(rule: IptablesRule): boolean {
    const mark = markValue(rule)
    const masq = this.masqueradeMark()
    return mark !== null && (masq === null || mark === masq) && rule.chain === 'KUBE-MARK-MASQ'
  }
}

/** MARK --or-mark 0x4000 / --set-xmark 0x4000/0x4000 / --set-mark 0x4000 -> "0x4000". */
export function markValue(rule: IptablesRule): string | null {
  const o = rule.target?.options ?? {}
  const raw = o['or-mark']?.[0] ?? o['set-xmark']?.[0] ?? o['set-mark']?.[0]
  return raw ? raw.split('/')[0] : null
}

const dnats = new WeakMap<IptablesRule, {ip: string; port: number | null} | null>()

export function dnatOf(rule: IptablesRule): {ip: string; port: number | null} | null {
  let d = dnats.get(rule)
  if (d === undefined) {
    d = computeDnat(rule)
    dnats.set(rule, d)
  }
  return d
}

function computeDnat(rule: IptablesRule): {ip: string; port: number | null} | null {
  const to = rule.target?.options['to-destination']?.[0]
  if (!to) return null
  const {ip, port} = parseHostPort(to)
  return {ip: canonicalIp(ip), port}
}
