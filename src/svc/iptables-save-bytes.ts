// An iptables-save read as bytes while the program writes it. On the legacy backend svc NAME
// must read the whole save (every per-chain listing fetches the whole table), 27 MB at 10k
// services: as one string that is ~0.7 s of decoding and garbage collection after the save ends.
// Here each piece of the pipe is scanned as it comes, for where each chain's rules lie (byte
// offsets); when the save ends, only the lines on the service's path are decoded. Pure: bytes
// in, the same text saveOnPath's callers traced before out.
//
// nat KUBE-SERVICES, one rule per service port (1.5 MB of 10k lines at 10k services, the cut's
// largest part), is read as its pieces come, while the program still writes the rest of the
// save: when it ends, only the small chains are left to read.

import {StringDecoder} from 'node:string_decoder'
import {stripFinalNewline} from '../host/host.js'
import {type ChainListing, type PathTable, readChainListing, saveText, walkPath} from './iptables-path.js'

/** Integers in one growing typed array: no object per chain (64k of them would keep the garbage collector busy). */
class Column {
  values = new Int32Array(1024)
  length = 0

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = value
  }
}

/** A name's hash, or NON_ASCII: such names are compared decoded, as the text's reading compares them. */
const NON_ASCII = 0

const NEWLINE = 0x0a
const DASH = 0x2d
const SPACE = 0x20
const COLON = 0x3a
const HASH = 0x23
const STAR = 0x2a
// FNV-1a's; every ASCII name's hash is odd, never NON_ASCII
const HASH_SEED = 0x811c9dc5 | 1
const HASH_PRIME = 16777619

// the chains kubelet and kube-proxy leave to say which backend they use (chooseBackend's HINT)
const HINT_CHAINS = [':KUBE-IPTABLES-HINT', ':KUBE-KUBELET-CANARY'].map((s) => Buffer.from(s))

/** The chain read ahead, and its name's bytes and hash. */
const AHEAD_CHAIN = 'KUBE-SERVICES'
const AHEAD_BYTES = Buffer.from(AHEAD_CHAIN)
const AHEAD_HASH = nameHash(AHEAD_BYTES)

/** An ASCII name's hash as the scan computes it (every such hash is odd); NON_ASCII otherwise. */
function nameHash(bytes: Buffer): number {
  let hash = HASH_SEED
  for (const c of bytes) hash = c < 0x80 && hash !== NON_ASCII ? Math.imul(hash ^ c, HASH_PRIME) | 1 : NON_ASCII
  return hash
}

/** Where a chain's `-S` listing lies in the save: its table's block, its declaration, its rule runs. */
interface Found {
  block: number
  decl: number
  runs: number[]
}

/** A byte that /\w/ matches as a char (a byte of a multi-byte character never does). */
function isWordByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f
}

/**
 * A column of name hashes in buckets, the last entry first: where a chain's declarations or
 * runs are, once the save has ended, without a pass over all 64k for each of the 20-30 chains
 * the walk asks for (20-30 ms of cold CPU after the save's last byte).
 */
class Buckets {
  private static readonly BITS = 14
  private readonly head = new Int32Array(1 << Buckets.BITS).fill(-1)
  private readonly next: Int32Array

  constructor(hashes: Column) {
    this.next = new Int32Array(hashes.length)
    for (let i = 0; i < hashes.length; i++) {
      const bucket = Buckets.bucket(hashes.values[i])
      this.next[i] = this.head[bucket]
      this.head[bucket] = i
    }
  }

  private static bucket(hash: number): number {
    return (hash ^ (hash >>> Buckets.BITS) ^ (hash >>> (2 * Buckets.BITS))) & ((1 << Buckets.BITS) - 1)
  }

  /** The last entry in hash's bucket (-1: none); before(i) the one before i in that bucket. */
  last(hash: number): number {
    return this.head[Buckets.bucket(hash)]
  }

  before(i: number): number {
    return this.next[i]
  }
}

/**
 * One save, fed piece by piece (push, then end). Lines are told apart by "\n" alone, as the
 * text's split('\n') does; a line cut between two pieces is put together before it is read.
 */
export class SaveBytes {
  /**
   * scan: false, for a save wanted whole (text()): each piece decoded as it comes and let go,
   * as run() decodes (a 256 MiB save is not held as bytes beside its text). hint: the service
   * onPath will be asked for, known now: nat KUBE-SERVICES is read for it as the pieces come.
   */
  constructor(private readonly scan = true, private readonly hint?: string) {}

  private readonly decoder = new StringDecoder('utf8')
  private decoded = ''

  /** The pieces as they came (never joined: 27 MB more, and a garbage collection), and where each starts. */
  private pieces: Buffer[] = []
  private starts: number[] = []
  private size = 0
  private ended = false
  /** An unfinished line: its pieces, and where it starts. */
  private tail: Buffer[] = []
  private tailStart = 0
  /** Each "*TABLE" line: its name, and the first chain declaration and rule run after it. */
  private readonly blocks: Array<{name: string; decl: number; run: number}> = []
  /** Each ":CHAIN POLICY" line inside a table: where it starts, where its name and it end, the name's hash, the runs before it. */
  private readonly declAt = new Column()
  private readonly declNameEnd = new Column()
  private readonly declEnd = new Column()
  private readonly declHash = new Column()
  private readonly declRuns = new Column()
  /** Each run of "-A CHAIN" lines of one chain inside a table: where it starts (its name 3 bytes on), its name ends, it ends; the name's hash. */
  private readonly runAt = new Column()
  private readonly runNameEnd = new Column()
  private readonly runEnd = new Column()
  private readonly runHash = new Column()
  /** Whether the line before was a rule of the open run, and that run's name: bytes [nameStart, nameEnd) of nameBuf. */
  private runOpen = false
  /** kubelet's hint chain or canary declared at a line's start: hasHint() without a search. */
  private hinted = false
  private nameBuf: Buffer = Buffer.alloc(0)
  private nameStart = 0
  private nameEnd = 0
  /** What the save says about itself ("# Warning: iptables-legacy tables present"), kept. */
  private readonly warnings: string[] = []
  /**
   * nat KUBE-SERVICES read ahead: the first run of its rules in a nat block, the chain's
   * declaration before it in that block, and readChainListing's reading of the declaration and
   * of the run's bytes up to `read`. onPath takes it when the listing it would decode is exactly
   * that declaration and that run (else it reads the chain as any other).
   */
  private ahead: {block: number; decl: number; run: number; read: number; listing: ChainListing} | undefined
  private aheadLooked = false
  /** The declarations' and the runs' hashes in buckets, made when the walk first asks after the end. */
  private declBuckets: Buckets | undefined
  private runBuckets: Buckets | undefined

  push(piece: Buffer): void {
    if (this.ended) throw new Error('SaveBytes: push after end')
    if (piece.length === 0) return
    if (!this.scan) {
      this.decoded += this.decoder.write(piece)
      this.size += piece.length
      return
    }
    this.pieces.push(piece)
    this.starts.push(this.size)
    let pos = 0
    if (this.tail.length) {
      const newline = piece.indexOf(NEWLINE)
      if (newline < 0) {
        this.tail.push(piece)
        this.size += piece.length
        return
      }
      const line = Buffer.concat([...this.tail, piece.subarray(0, newline + 1)])
      this.hold(line, 0, line.length, this.tailStart)
      this.tail = []
      pos = newline + 1
    }
    for (let newline = piece.indexOf(NEWLINE, pos); newline >= 0; newline = piece.indexOf(NEWLINE, pos)) {
      this.hold(piece, pos, newline + 1, this.size + pos)
      pos = newline + 1
    }
    if (pos < piece.length) {
      this.tail = [piece.subarray(pos)]
      this.tailStart = this.size + pos
    }
    this.size += piece.length
    this.readAhead()
  }

  // the last whole line waits for the next: the text run() gave ends without its final newline
  private heldBuf: Buffer | undefined
  private heldStart = 0
  private heldEnd = 0
  private heldAt = 0

  private hold(buf: Buffer, s: number, e: number, at: number): void {
    if (this.heldBuf) this.line(this.heldBuf, this.heldStart, this.heldEnd, this.heldAt)
    this.heldBuf = buf
    this.heldStart = s
    this.heldEnd = e
    this.heldAt = at
  }

  /** The save is over: its last line is read. */
  end(): this {
    if (this.ended) return this
    const held = this.heldBuf
    if (held) {
      // no line after it: the last line, read without its final newline (LF or CRLF)
      let e = this.heldEnd
      if (!this.tail.length) e -= held[e - 2] === 0x0d && e - 2 >= this.heldStart ? 2 : 1
      this.line(held, this.heldStart, e, this.heldAt)
      this.heldBuf = undefined
    }
    if (this.tail.length) {
      const line = Buffer.concat(this.tail)
      this.line(line, 0, line.length, this.tailStart)
      this.tail = []
    }
    this.ended = true
    return this
  }

  /** One line, buf[s, e) (e past its "\n" when it has one), at offset `at` of the save. */
  private line(buf: Buffer, s: number, e: number, at: number): void {
    const first = buf[s]
    if (first === DASH && buf[s + 1] === 0x41 && buf[s + 2] === SPACE) return this.rule(buf, s, e, at)
    this.runOpen = false
    if (first === COLON) {
      if (!this.blocks.length) return
      // ":CHAIN POLICY [p:b]": the name as split(' ') of the line cuts it; the rest read when on the path
      const end = buf[e - 1] === NEWLINE ? e - 1 : e
      let i = s + 1
      let hash = HASH_SEED
      for (; i < end && buf[i] !== SPACE; i++) hash = buf[i] < 0x80 && hash !== NON_ASCII ? Math.imul(hash ^ buf[i], HASH_PRIME) | 1 : NON_ASCII
      // kubelet's chains are declared at a line's start: seen here, the whole-save search is not needed
      // (":KUBE-I..." or ":KUBE-K...": no KUBE-SVC/SEP/... of the 64k gets this far)
      if (!this.hinted && (buf[s + 6] === 0x49 || buf[s + 6] === 0x4b) && buf[s + 1] === 0x4b) this.hinted = HINT_CHAINS.some((chain) => this.startsWith(buf, s, end, chain))
      this.declAt.push(at)
      this.declNameEnd.push(at + (i - s))
      this.declEnd.push(at + (end - s))
      this.declHash.push(hash)
      this.declRuns.push(this.runAt.length)
      return
    }
    if (first !== HASH && first !== STAR) return
    const line = buf.toString('utf8', s, e).replace(/\n$/, '')
    if (/^#\s*Warning:/.test(line)) this.warnings.push(line)
    else if (first === STAR) this.blocks.push({name: line.slice(1).trim(), decl: this.declAt.length, run: this.runAt.length})
  }

  /** Whether buf[s, end) starts with chain's ":NAME", the name ending a word there. */
  private startsWith(buf: Buffer, s: number, end: number, chain: Buffer): boolean {
    if (end - s < chain.length || buf.compare(chain, 0, chain.length, s, s + chain.length) !== 0) return false
    return s + chain.length === end || !isWordByte(buf[s + chain.length])
  }

  /**
   * "-A CHAIN ...": a save lists a chain's rules together, so a line is mostly one more of the
   * run before it (compared by bytes); else it starts a run, its name hashed.
   */
  private rule(buf: Buffer, s: number, e: number, at: number): void {
    if (!this.blocks.length) return
    const n = this.nameEnd - this.nameStart
    const name = this.nameBuf
    let same = this.runOpen && s + 3 + n < e && buf[s + 3 + n] === SPACE
    for (let i = 0, j = this.nameStart; same && i < n; i++, j++) same = buf[s + 3 + i] === name[j]
    if (same) {
      this.runEnd.values[this.runEnd.length - 1] = at + (e - s)
      return
    }
    // as the text's reading does: a line with no space after its chain names it with its "\n"
    let i = s + 3
    let hash = HASH_SEED
    for (; i < e && buf[i] !== SPACE; i++) hash = buf[i] < 0x80 && hash !== NON_ASCII ? Math.imul(hash ^ buf[i], HASH_PRIME) | 1 : NON_ASCII
    this.nameBuf = buf
    this.nameStart = s + 3
    this.nameEnd = i
    this.runOpen = true
    this.runAt.push(at)
    this.runNameEnd.push(at + (i - s))
    this.runEnd.push(at + (e - s))
    this.runHash.push(hash)
    if (hash === AHEAD_HASH && this.hint !== undefined && !this.aheadLooked) this.startAhead()
  }

  /** A run of nat KUBE-SERVICES rules starts (the last run): read it from now on, as it comes. */
  private startAhead(): void {
    const block = this.blocks.length - 1
    const run = this.runAt.length - 1
    if (this.blocks[block].name !== 'nat' || !this.named(this.runAt.values[run] + 3, this.runNameEnd.values[run], AHEAD_HASH, AHEAD_CHAIN, AHEAD_BYTES)) return
    this.aheadLooked = true
    const decl = this.declOf(block, this.declAt.length, AHEAD_HASH, AHEAD_CHAIN, AHEAD_BYTES)
    if (decl < 0) return
    const listing = readChainListing(AHEAD_CHAIN, this.head(decl), this.hint!)
    this.ahead = {block, decl, run, read: this.runAt.values[run], listing}
  }

  /**
   * The run read ahead, from where it was left to its last whole line. Its lines all start with
   * "-A ", so they set no policy, and each is kept or dropped by itself: readChainListing of the
   * whole text is that of its parts one after the other, their rules in turn, their targets each
   * once in the order first met.
   */
  private readAhead(): void {
    const ahead = this.ahead
    if (!ahead) return
    const end = this.runEnd.values[ahead.run]
    if (end === ahead.read) return
    const more = readChainListing(AHEAD_CHAIN, this.decode(ahead.read, end), this.hint!)
    ahead.read = end
    for (const rule of more.rules) ahead.listing.rules.push(rule)
    for (const next of more.next) if (!ahead.listing.next.includes(next)) ahead.listing.next.push(next)
  }

  /** Whether bytes [start, end) of the save, decoded, are `name` (whose bytes and hash are given). */
  private named(start: number, end: number, hash: number, name: string, bytes: Buffer): boolean {
    if (hash !== NON_ASCII) return end - start === bytes.length && this.slice(start, end).equals(bytes)
    return this.decode(start, end) === name
  }

  /**
   * Where a chain's `-S` listing lies, as the text's reading builds it: the last "*TABLE" block
   * of that name, the last declaration of the chain in it, and the chain's rule runs after that
   * declaration in the block. null: no such chain.
   */
  private find(table: string, chain: string): Found | null {
    let block = this.blocks.length - 1
    while (block >= 0 && this.blocks[block].name !== table) block--
    if (block < 0) return null
    const declTo = block + 1 < this.blocks.length ? this.blocks[block + 1].decl : this.declAt.length
    const runTo = block + 1 < this.blocks.length ? this.blocks[block + 1].run : this.runAt.length
    const bytes = Buffer.from(chain)
    const hash = nameHash(bytes)
    const decl = this.declOf(block, declTo, hash, chain, bytes)
    if (decl < 0) return null
    const runs: number[] = []
    const runFrom = this.declRuns.values[decl]
    const isRun = (r: number) => this.runHash.values[r] === hash && this.named(this.runAt.values[r] + 3, this.runNameEnd.values[r], hash, chain, bytes)
    if (hash === NON_ASCII || !this.ended) {
      for (let r = runFrom; r < runTo; r++) if (isRun(r)) runs.push(r)
      return {block, decl, runs}
    }
    this.runBuckets ??= new Buckets(this.runHash)
    for (let r = this.runBuckets.last(hash); r >= runFrom; r = this.runBuckets.before(r)) if (r < runTo && isRun(r)) runs.push(r)
    return {block, decl, runs: runs.reverse()}
  }

  /** The chain's last declaration in the block before declaration declTo; -1: none. */
  private declOf(block: number, declTo: number, hash: number, chain: string, bytes: Buffer): number {
    const from = this.blocks[block].decl
    const isDecl = (d: number) => this.declHash.values[d] === hash && this.named(this.declAt.values[d] + 1, this.declNameEnd.values[d], hash, chain, bytes)
    // while the save comes (KUBE-SERVICES read ahead, once) and for a name compared decoded: one pass
    if (hash === NON_ASCII || !this.ended) {
      for (let d = declTo - 1; d >= from; d--) if (isDecl(d)) return d
      return -1
    }
    this.declBuckets ??= new Buckets(this.declHash)
    for (let d = this.declBuckets.last(hash); d >= from; d = this.declBuckets.before(d)) if (d < declTo && isDecl(d)) return d
    return -1
  }

  /** A declaration as `-S` prints it: `-P CHAIN POLICY` for a built-in chain, else `-N CHAIN`. */
  private head(decl: number): string {
    const [name, policy] = this.decode(this.declAt.values[decl] + 1, this.declEnd.values[decl]).split(' ')
    return (policy && policy !== '-' ? `-P ${name} ${policy}` : `-N ${name}`) + '\n'
  }

  /** A chain's `-S` listing read for hint: the one read ahead where it is the same text, else decoded now. */
  private listing(table: PathTable, chain: string, hint: string): ChainListing | null {
    const found = this.find(table, chain)
    if (!found) return null
    const ahead = this.ahead
    if (ahead && hint === this.hint && table === 'nat' && chain === AHEAD_CHAIN && found.block === ahead.block && found.decl === ahead.decl && found.runs.length === 1 && found.runs[0] === ahead.run) {
      this.readAhead()
      return {policy: ahead.listing.policy, rules: [...ahead.listing.rules], next: [...ahead.listing.next]}
    }
    let text = this.head(found.decl)
    for (const r of found.runs) text += this.decode(this.runAt.values[r], this.runEnd.values[r])
    return readChainListing(chain, text, hint)
  }

  /** Bytes of nat KUBE-SERVICES' rules read ahead so far (0: none; tests). */
  get readAheadBytes(): number {
    return this.ahead ? this.ahead.read - this.runAt.values[this.ahead.run] : 0
  }

  get length(): number {
    return this.size
  }

  /** Bytes [start, end) of the save, decoded. */
  private decode(start: number, end: number): string {
    return this.slice(start, end).toString('utf8')
  }

  /** Bytes [start, end) of the save: a view where one piece holds them, else a copy. */
  private slice(start: number, end: number): Buffer {
    let i = this.pieceAt(start)
    const piece = this.pieces[i]
    const from = start - this.starts[i]
    if (end - this.starts[i] <= piece.length) return piece.subarray(from, end - this.starts[i])
    const parts = [piece.subarray(from)]
    for (i++; i < this.pieces.length && this.starts[i] < end; i++) parts.push(this.pieces[i].subarray(0, end - this.starts[i]))
    return Buffer.concat(parts)
  }

  /** The piece holding byte `at` (binary search on where each starts). */
  private pieceAt(at: number): number {
    let lo = 0
    let hi = this.pieces.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.starts[mid] <= at) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  private byteAt(at: number): number {
    const i = this.pieceAt(at)
    return this.pieces[i][at - this.starts[i]]
  }

  /** The save as run() would have given it: decoded, its final newline left out. */
  text(): string {
    this.end()
    if (!this.scan) return stripFinalNewline(this.decoded + this.decoder.end())
    if (this.size === 0) return ''
    let end = this.size
    if (this.byteAt(end - 1) === NEWLINE) end -= end >= 2 && this.byteAt(end - 2) === 0x0d ? 2 : 1
    return end === 0 ? '' : this.decode(0, end)
  }

  /**
   * Whether the text holds kubelet's hint chain or its canary, as chooseBackend's
   * /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)\b/m finds it (a line starts after \n, \r, U+2028
   * or U+2029), without decoding the save.
   */
  hasHint(): boolean {
    if (!this.scan) throw new Error('SaveBytes: read as text only')
    this.end()
    if (this.hinted) return true
    for (const chain of HINT_CHAINS) {
      for (let i = 0; i < this.pieces.length; i++) {
        const piece = this.pieces[i]
        for (let at = piece.indexOf(chain); at >= 0; at = piece.indexOf(chain, at + 1)) {
          if (this.hintAt(this.starts[i] + at, chain.length)) return true
        }
        // one that runs on into the next piece
        if (i + 1 === this.pieces.length) continue
        const from = this.starts[i] + Math.max(0, piece.length - chain.length + 1)
        const seam = this.slice(from, Math.min(this.size, this.starts[i] + piece.length + chain.length - 1))
        for (let at = seam.indexOf(chain); at >= 0; at = seam.indexOf(chain, at + 1)) {
          if (this.hintAt(from + at, chain.length)) return true
        }
      }
    }
    return false
  }

  /** Whether the chain's name at `at` starts a line and ends a word, as the regex has it. */
  private hintAt(at: number, length: number): boolean {
    const before = at > 0 ? this.byteAt(at - 1) : NEWLINE
    const startsLine = before === NEWLINE || before === 0x0d
      || (at >= 3 && this.byteAt(at - 3) === 0xe2 && this.byteAt(at - 2) === 0x80 && (before === 0xa8 || before === 0xa9))
    const after = at + length
    return startsLine && (after >= this.size || !isWordByte(this.byteAt(after)))
  }

  /**
   * The save cut to the chains on the path of the service `hint` names, as iptables-save text
   * (the walk the per-chain listings take); only those chains' lines are decoded.
   */
  async onPath(hint: string): Promise<string> {
    if (!this.scan) throw new Error('SaveBytes: read as text only')
    this.end()
    const walked = await walkPath(async (table, chain) => this.listing(table, chain, hint))
    return (this.warnings.length ? this.warnings.join('\n') + '\n' : '') + saveText(walked!)
  }
}

/** A whole save given at once (a Buffer, or text), read as the pieces of a pipe are. */
export function saveBytes(save: Buffer | string): SaveBytes {
  const bytes = new SaveBytes()
  const buffer = typeof save === 'string' ? Buffer.from(save) : save
  if (buffer.length) bytes.push(buffer)
  return bytes.end()
}
