import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Container, ContainerStatusResponse, PodSandbox, PodSandboxStatusResponse, VersionResponse} from '../../../src/host/cri-api.js'
import {type CriView, containerRecord, sandboxRecord} from '../../../src/cri/view.js'

export interface Answers {
  version: VersionResponse
  sandboxes: PodSandbox[]
  containers: Container[]
  sandboxStatus: Record<string, PodSandboxStatusResponse>
  containerStatus: Record<string, ContainerStatusResponse>
}

/** Real answers recorded from containerd 1.6.20 on the test node (fixtures/containerd-1.6.20/README.md). */
export function containerdAnswers(): Answers {
  const file = join(fileURLToPath(import.meta.url), '..', 'fixtures/containerd-1.6.20/answers.json')
  return JSON.parse(readFileSync(file, 'utf8'))
}

export function containerdView(): CriView {
  const a = containerdAnswers()
  return {
    endpoint: 'unix:///run/containerd/containerd.sock',
    runtime: {name: a.version.runtimeName, version: a.version.runtimeVersion, apiVersion: a.version.runtimeApiVersion},
    sandboxes: a.sandboxes.map((s) => sandboxRecord(s, a.sandboxStatus[s.id])),
    containers: a.containers.map((c) => containerRecord(c, a.containerStatus[c.id])),
  }
}
