// The net tables drawn from the example snapshot (examples/containerd-node), row by row.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {gatherNetFacts} from '../../../src/net/gather.js'
import {buildNetMap} from '../../../src/net/net-map.js'
import {renderNet} from '../../../src/net/render.js'
import {REPO} from '../../e2e/node/cli.js'
import {plain, readColumns} from '../../helpers/table.js'

const report = buildNetMap(await gatherNetFacts(await SnapshotHost.open(join(REPO, 'examples/containerd-node'))))
const cell = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? '-' : v)
const pod = (p: {namespace: string | null; name: string | null; uid: string; ip?: string | null} | null) => cell(p && `${p.namespace ?? '?'}/${p.name ?? p.uid}${p.ip ? ` ${p.ip}` : ''}`)

describe('net table on the example snapshot', () => {
  it('one row per route with its device kind and the pod on the other end; wide adds table, type, protocol', () => {
    expect(report.routes.length).toBeGreaterThan(3)
    expect(report.routes.some((r) => r.pod)).toBe(true)
    const narrow = readColumns(renderNet(report, false), 'DESTINATION')
    expect(narrow.map((r) => [r.destination, r.dev, r.kind, r.via, r.pod])).toEqual(report.routes.map((r) => [r.destination, r.dev, cell(r.devKind), cell(r.via), pod(r.pod)]))
    const wide = readColumns(renderNet(report, true), 'DESTINATION')
    expect(wide.map((r) => [r.destination, r.table, r.type, r.proto])).toEqual(report.routes.map((r) => [r.destination, cell(r.table), cell(r.type), cell(r.protocol)]))
  })

  it('heads with the default routes and the CNI config in use, and lists each bridge port', () => {
    const text = plain(renderNet(report, false))
    expect(text.split('\n')[0]).toBe(`Default route: ${report.defaultRoutes.map((r) => `${r.via ?? 'on-link'} dev ${r.dev}`).join(', ')}`)
    expect(text).toContain(`${report.cni.dir}/${report.cni.inUse!.file}`)
    const ports = readColumns(text, 'BRIDGE')
    expect(ports.map((p) => p.port)).toEqual(report.bridges.flatMap((b) => (b.ports.length ? b.ports.map((x) => x.name) : ['(no ports)'])))
  })
})
