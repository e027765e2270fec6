// /etc/resolv.conf as a pod's resolver reads it. The file is pod-controlled: it is capped by the
// caller, and only the words the resolver uses are kept (never the raw lines).

export interface ResolvConf {
  nameservers: string[]
  search: string[]
  /** options ndots:N (the resolver's default is 1) */
  ndots: number | null
  timeout: number | null
  attempts: number | null
  /** other options words, as written */
  options: string[]
  /** lines that are neither comments nor keywords the resolver knows */
  unknownLines: number
}

/** glibc reads at most this many nameserver lines (MAXNS). */
export const MAX_NAMESERVERS = 3
/** The kubelet's limits on the search list it writes (MaxDNSSearchPaths, MaxDNSSearchListChars). */
export const KUBELET_MAX_SEARCH = 32
export const KUBELET_MAX_SEARCH_CHARS = 2048
/** More words than this on one line are not a resolver's file: the rest is not kept. */
const MAX_WORDS = 64

function optionNumber(word: string, name: string): number | null {
  const m = new RegExp(`^${name}:(\\d{1,4})$`).exec(word)
  return m ? Number(m[1]) : null
}

/** The resolver's rules: the last search (or domain) line wins; options accumulate. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = {nameservers: [], search: [], ndots: null, timeout: null, attempts: null, options: [], unknownLines: 0}
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim()
    if (!line) continue
    const [keyword, ...words] = line.split(/\s+/).slice(0, MAX_WORDS + 1)
    switch (keyword) {
      case 'nameserver':
        if (words[0]) out.nameservers.push(words[0])
        break
      case 'search':
      case 'domain':
        out.search = keyword === 'domain' ? words.slice(0, 1) : words
        break
      case 'options':
        for (const word of words) {
          const ndots = optionNumber(word, 'ndots')
          const timeout = optionNumber(word, 'timeout')
          const attempts = optionNumber(word, 'attempts')
          // glibc caps ndots at 15, attempts at 5, timeout at 30
          if (ndots !== null) out.ndots = Math.min(ndots, 15)
          else if (timeout !== null) out.timeout = Math.min(timeout, 30)
          else if (attempts !== null) out.attempts = Math.min(attempts, 5)
          else out.options.push(word)
        }
        break
      case 'sortlist':
        break
      default:
        out.unknownLines++
    }
  }
  return out
}

/**
 * How many names a lookup of `dots` dots is tried as before it is tried as written: with fewer
 * dots than ndots, every search domain first.
 */
export function searchFanOut(conf: ResolvConf, dots: number): number {
  return dots < (conf.ndots ?? 1) ? conf.search.length : 0
}
