import {describe, expect, it} from 'vitest'
import {parseNftJson, parseNftListing} from '../../../src/parse/nft.js'

// nftables v1.0.6, `nft -j list table ip6 kube-proxy` and `nft list table ip6 kube-proxy` in a
// netns holding kube-proxy's IPv6 endpoint chain for one endpoint
const JSON_LISTING = '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "ip6", "name": "kube-proxy", "handle": 1}}, {"chain": {"family": "ip6", "table": "kube-proxy", "name": "endpoint-HGFEDCBA-ns1/web/tcp/http__fd00--7/80", "handle": 1}}, {"rule": {"family": "ip6", "table": "kube-proxy", "chain": "endpoint-HGFEDCBA-ns1/web/tcp/http__fd00--7/80", "handle": 2, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"dnat": {"addr": "fd00::7", "port": 80}}]}}]}'
const LISTING = `table ip6 kube-proxy {
\tchain endpoint-HGFEDCBA-ns1/web/tcp/http__fd00--7/80 {
\t\tmeta l4proto tcp dnat to [fd00::7]:80
\t}
}
`

describe('parseNftJson', () => {
  it('writes an IPv6 DNAT address with a port in brackets, as nft lists it', () => {
    const chain = 'endpoint-HGFEDCBA-ns1/web/tcp/http__fd00--7/80'
    const fromJson = parseNftJson(JSON_LISTING).get('ip6 kube-proxy')?.chains.get(chain)
    expect(fromJson?.map((r) => r.text)).toEqual(['meta l4proto tcp dnat to [fd00::7]:80'])
    expect(parseNftListing(LISTING).get('ip6 kube-proxy')?.chains.get(chain)?.map((r) => r.text)).toEqual(fromJson?.map((r) => r.text))
  })
})
