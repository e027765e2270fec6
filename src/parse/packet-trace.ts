// What the kernel says while it walks one traced packet through the rules, in three dialects:
//  - `nft -a monitor trace` (nf_tables: kube-proxy's nftables mode, any nft table)
//      trace id c6e46d07 ip nat KUBE-SERVICES rule meta l4proto tcp ... jump KUBE-SVC-X # handle 13 (verdict jump KUBE-SVC-X)
//  - `xtables-monitor --trace` (iptables-nft: rules printed back in iptables syntax)
//       TRACE: 2 d44d8ada nat:KUBE-SVC-X:rule:0x17:JUMP:KUBE-SEP-Y  -4 -t nat -A KUBE-SVC-X ... -j KUBE-SEP-Y
//  - the kernel log of the legacy TRACE target (iptables-legacy: table, chain and rule number only)
//      [ 4648.72] TRACE: nat:KUBE-SVC-X:rule:2 IN=cni0 OUT= ... SRC=10.88.0.5 DST=10.96.0.10 ... SPT=40001 DPT=80 ...
// Each becomes the same TraceEvent; the rule text of a legacy event is filled in later from the
// rule set, by chain and rule number.

export type TraceEventKind = 'packet' | 'rule' | 'policy' | 'return'

export interface TraceEvent {
  /** the trace id (nf_tables) or a key made of the packet's addresses (legacy) */
  id: string
  kind: TraceEventKind
  family: string
  table: string
  chain: string
  /** nf_tables rule handle */
  handle: number | null
  /** legacy rule number (1-based) within the chain */
  ruleNumber: number | null
  /** the rule as the tool printed it; null when it did not (legacy, or a rule the monitor did not know) */
  rule: string | null
  /** "jump KUBE-SVC-X", "goto service-...", "accept", "drop", "continue", "return"; null when unknown (legacy) */
  verdict: string | null
  /** packet fields, on 'packet' events and legacy lines: SRC, DST, SPT, DPT, PROTO, IN, OUT */
  fields?: Record<string, string>
}

const NFT_LINE = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (packet: |rule |unknown rule handle |policy |return)(.*)$/

/** `counter packets 3 bytes 180` is a count that changes under us; it is not part of the rule. */
function withoutCounters(text: string): string {
  return text.replace(/\s*counter packets \d+ bytes \d+/g, '').replace(/\s+/g, ' ').trim()
}

/** nft's own words for a packet ("ip saddr 10.0.0.1 tcp sport 40001 ...") as SRC/DST/SPT/DPT fields. */
function nftPacketFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  const pick = (re: RegExp, key: string) => {
    const m = re.exec(text)
    if (m) fields[key] = m[1]
  }
  pick(/\bip6? saddr (\S+)/, 'SRC')
  pick(/\bip6? daddr (\S+)/, 'DST')
  pick(/\b(?:tcp|udp|sctp) sport (\d+)/, 'SPT')
  pick(/\b(?:tcp|udp|sctp) dport (\d+)/, 'DPT')
  pick(/\biif "([^"]+)"/, 'IN')
  pick(/\boif "([^"]+)"/, 'OUT')
  const proto = /\b(tcp|udp|sctp) (?:sport|dport)/.exec(text)
  if (proto) fields.PROTO = proto[1].toUpperCase()
  return fields
}

/** `nft -a monitor trace` (or `nft -a monitor`) output: the trace lines, in order. */
export function parseNftTrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = []
  for (const line of text.split('\n')) {
    const m = NFT_LINE.exec(line.trimEnd())
    if (!m) continue
    const [, id, family, table, chain, what, rest] = m
    const base = {id, family, table, chain, handle: null, ruleNumber: null, rule: null, verdict: null}
    if (what === 'packet: ') {
      out.push({...base, kind: 'packet', fields: nftPacketFields(rest)})
    } else if (what === 'rule ' || what === 'unknown rule handle ') {
      // "... # handle 13 (verdict jump X)" with -a; "2 (verdict continue)" for an unknown rule
      const tail = /^(.*?)\s*(?:# handle (\d+)\s*)?\(verdict ([^)]*)\)\s*$/.exec(rest)
      if (!tail) continue
      const unknown = what !== 'rule '
      const handle = unknown ? Number(tail[1]) : tail[2] ? Number(tail[2]) : null
      out.push({...base, kind: 'rule', handle, rule: unknown ? null : withoutCounters(tail[1]), verdict: tail[3].trim()})
    } else if (what === 'policy ') {
      out.push({...base, kind: 'policy', verdict: rest.trim().split(/\s+/)[0] || null})
    } else {
      out.push({...base, kind: 'return', verdict: 'return'})
    }
  }
  return out
}

const XT_PACKET = /^\s*PACKET: (\d+) ([0-9a-f]+) (.*)$/
const XT_TRACE = /^\s*TRACE: (\d+) ([0-9a-f]+) ([^:\s]+):([^:\s]+):(rule|return|policy):(\S*)\s*(.*)$/

const FAMILIES: Record<string, string> = {'2': 'ip', '10': 'ip6', '3': 'arp', '7': 'bridge'}

function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/\b([A-Z]+)=(\S*)/g)) if (!(m[1] in out)) out[m[1]] = m[2]
  return out
}

const NFT_VERDICTS: Record<string, string> = {'0xffffffff': 'continue', '0xfffffffe': 'break', '0xfffffffb': 'return'}

/** xtables-monitor's verdict word (JUMP:X, GOTO:X, CONTINUE, ACCEPT, DROP, RETURN) in nft's words. */
function xtVerdict(word: string): string {
  const [v, target] = word.split(':')
  // a verdict it has no word for is printed as its number: nf_tables' NFT_CONTINUE..NFT_RETURN are -1..-5
  const numbered = NFT_VERDICTS[v.toLowerCase()]
  if (numbered) return numbered
  const lower = v.toLowerCase()
  return target ? `${lower} ${target}` : lower
}

/** `xtables-monitor --trace` output. Its PORT fields are SPORT/DPORT; they become SPT/DPT. */
export function parseXtablesTrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = []
  for (const line of text.split('\n')) {
    const p = XT_PACKET.exec(line)
    if (p) {
      const fields = keyValues(p[3])
      if (fields.SPORT) fields.SPT = fields.SPORT
      if (fields.DPORT) fields.DPT = fields.DPORT
      out.push({id: p[2], kind: 'packet', family: FAMILIES[p[1]] ?? p[1], table: '', chain: '', handle: null, ruleNumber: null, rule: null, verdict: null, fields})
      continue
    }
    const m = XT_TRACE.exec(line)
    if (!m) continue
    const [, family, id, table, chain, kind, detail, rest] = m
    const base = {id, family: FAMILIES[family] ?? family, table, chain, handle: null, ruleNumber: null, rule: null, verdict: null}
    if (kind === 'policy') {
      out.push({...base, kind: 'policy', verdict: detail.toLowerCase() || null})
    } else if (kind === 'return') {
      out.push({...base, kind: 'return', verdict: 'return'})
    } else {
      // detail: "0x17:JUMP:KUBE-SEP-Y" (handle, verdict); rest: "-4 -t nat -A CHAIN ..."
      const [handle, ...verdict] = detail.split(':')
      const rule = rest.replace(/^-[46]\s+/, '').replace(/^-t\s+\S+\s+/, '').trim()
      out.push({...base, kind: 'rule', handle: Number.parseInt(handle, 16), rule: rule || null, verdict: verdict.length ? xtVerdict(verdict.join(':')) : null})
    }
  }
  return out
}

const KERNEL_TRACE = /TRACE: ([^:\s]+):([^:\s]+):(rule|return|policy):(\d+) (.*)$/

/** Seconds since boot of a kernel log line ("[ 4648.720461] ..."); null without a timestamp. */
export function kernelLogTime(line: string): number | null {
  const m = /^\[\s*(\d+\.\d+)\]/.exec(line)
  return m ? Number(m[1]) : null
}

/**
 * The legacy TRACE target's kernel log lines (`dmesg` output). Lines carry no trace id: the
 * packet's SRC and SPT (which DNAT does not change) stand for one.
 */
export function parseKernelTrace(text: string, family = 'ip'): TraceEvent[] {
  const out: TraceEvent[] = []
  for (const line of text.split('\n')) {
    const m = KERNEL_TRACE.exec(line)
    if (!m) continue
    const [, table, chain, kind, number, rest] = m
    const fields = keyValues(rest)
    out.push({
      id: `${fields.SRC ?? ''}:${fields.SPT ?? ''}`, kind: kind as TraceEventKind, family, table, chain, handle: null,
      ruleNumber: Number(number), rule: null, verdict: kind === 'return' ? 'return' : null, fields,
    })
  }
  return out
}

/**
 * Rule handles of one chain, in rule order, from `nft -a list chain FAMILY TABLE CHAIN`: the
 * handle a trace names becomes a rule number (its position), which is what iptables-save and a
 * prediction count by.
 */
export function ruleHandles(listing: string): number[] {
  const out: number[] = []
  let depth = 0
  for (const raw of listing.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    if (/\{\s*(# handle \d+)?$/.test(line)) {
      depth++
      continue
    }
    if (line === '}') {
      depth--
      continue
    }
    // inside the chain block: base-chain header lines carry no handle
    const m = /# handle (\d+)$/.exec(line)
    if (depth >= 2 && m) out.push(Number(m[1]))
  }
  return out
}
