// Real captures people posted (test/fixtures/captures): each X.txt beside X.txt.source.txt (where it came
// from) and X.expect.yaml (an oracle written by reading the capture, before svc ran on it).
import {readFileSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'
import type {KubeProxyRules} from '../../../src/svc/gather.js'

export const CAPTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/captures')

export interface Capture {
  name: string
  text: string
  source: string
  oracle: Record<string, any>
}

export function captures(): Capture[] {
  return readdirSync(CAPTURES)
    .filter((f) => f.endsWith('.txt') && !f.endsWith('.source.txt'))
    .sort()
    .map((name) => ({
      name,
      text: readFileSync(join(CAPTURES, name), 'utf8'),
      source: readFileSync(join(CAPTURES, `${name}.source.txt`), 'utf8'),
      oracle: parse(readFileSync(join(CAPTURES, name.replace(/\.txt$/, '.expect.yaml')), 'utf8')),
    }))
}

/** The rules `svc --iptables-save FILE` / `svc --nft FILE` reads from a capture. */
export function rulesOf(c: {name: string; text: string; oracle: Record<string, any>}): KubeProxyRules {
  const rules: KubeProxyRules = {iptables: null, nft: null, ipvs: null, problems: []}
  if (c.oracle.format === 'nftables') rules.nft = {text: c.text, source: c.name}
  else rules.iptables = {backend: 'file', reason: c.name, ipv4: c.text, ipv6: ''}
  return rules
}
