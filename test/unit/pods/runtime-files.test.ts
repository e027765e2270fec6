// Runtime configs read for many containers at once (ps, pods) answer as one container at a time:
// the same config from the same place, the same warnings, whatever runtime each one is under.
import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Host} from '../../../src/host/host.js'
import {LiveHost} from '../../../src/host/live.js'
import {readRuntimeConfig, readRuntimeConfigs} from '../../../src/pods/runtime-files.js'
import type {Runtime} from '../../../src/pods/types.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const root = tempFolder('nodedoc-runtime-files-', plant)
const put = (path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), {recursive: true})
  writeFileSync(join(root, path), text)
}
const spec = (name: string) => JSON.stringify({annotations: {'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': name, 'io.kubernetes.cri.sandbox-name': 'p', 'io.kubernetes.cri.sandbox-namespace': 'ns'}})
const id = (n: number) => n.toString(16).padStart(64, '0')
function plant(): void {
  put(`run/containerd/io.containerd.runtime.v2.task/k8s.io/${id(1)}/config.json`, spec('in-containerd'))
  put(`run/containers/storage/overlay-containers/${id(2)}/userdata/config.json`, spec('in-crio-run'))
  put(`var/lib/containers/storage/overlay-containers/${id(3)}/userdata/config.json`, spec('in-crio-lib'))
  put(`var/lib/docker/containers/${id(4)}/config.v2.json`, JSON.stringify({Config: {Labels: {'io.kubernetes.container.name': 'in-docker'}}}))
  // in two places: the hint decides which is read
  put(`run/containerd/io.containerd.runtime.v2.task/k8s.io/${id(5)}/config.json`, spec('twice-containerd'))
  put(`run/containers/storage/overlay-containers/${id(5)}/userdata/config.json`, spec('twice-crio'))
  put(`run/containerd/io.containerd.runtime.v2.task/k8s.io/${id(6)}/config.json`, '{not json')
  mkdirSync(join(root, `run/containerd/io.containerd.runtime.v2.task/k8s.io/${id(7)}`), {recursive: true})
  symlinkSync('../../../../../../../etc/passwd', join(root, `run/containerd/io.containerd.runtime.v2.task/k8s.io/${id(7)}/config.json`))
}

describe('runtime configs of many containers at once', () => {
  it('answer as each container alone: config, place and warnings', async () => {
    const hints: Array<Runtime | null> = [null, 'containerd', 'cri-o', 'docker', 'unknown']
    const wanted = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) => hints.map((hint) => ({id: id(n), hint})))
    const alone: Host = new LiveHost(root)
    const each = []
    for (const w of wanted) each.push(await readRuntimeConfig(alone, w.id, w.hint))
    const batch = new LiveHost(root)
    expect(await readRuntimeConfigs(batch, wanted)).toEqual(each)
    // the same warnings (their order follows the order of the reads, a place at a time here)
    expect([...batch.warnings.list()].sort()).toEqual([...alone.warnings.list()].sort())
    // what was found where, so that the comparison above compares something
    const names = each.map((c) => c && `${c.runtime}:${c.spec.meta?.containerName}`)
    expect(names.slice(0, 5)).toEqual(Array(5).fill('containerd:in-containerd'))
    expect(each[5 * 3]?.runtime).toBe('docker')
    expect(names.slice(5 * 4, 5 * 5)).toEqual(['containerd:twice-containerd', 'containerd:twice-containerd', 'cri-o:twice-crio', 'containerd:twice-containerd', 'containerd:twice-containerd'])
    expect(names.slice(5 * 5)).toEqual(Array(15).fill(undefined))
    expect(alone.warnings.list().join('\n')).toMatch(/unreadable runtime config skipped/)
    expect(alone.warnings.list().join('\n')).toMatch(/refused: the path leads out of the root/)
  })
})
