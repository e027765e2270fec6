import {type Host, hostPath} from '../host/host.js'
import {CONTAINER_LOG_LINKS, POD_LOG_ROOT} from '../pods/log-files.js'
import {parseKernelLog} from '../parse/kernel-log.js'
import {parseContainerLogLinkName, parseLegacyLogFileName, parseLogFileName, parsePodLogDirName} from '../parse/log-files.js'
import type {Directory, KernelLog, RestartFile} from './events.js'
import {NodeUnreadableError, UsageSampler} from './sample.js'
import type {UsageSample} from './types.js'

/** Where a snapshot keeps the two samples `top --from` computes its rates from. */
export const SAMPLES_ANSWER = 'usage-samples.json'
/** A snapshot's two samples are this far apart. */
export const SNAPSHOT_INTERVAL_MS = 1000

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}

/**
 * Two samples `intervalMs` apart, asked through the host: live, they are taken now; a recording
 * host writes them down; a snapshot replays the two it recorded. A snapshot without them gives
 * one sample, read from its cgroup files, and no rates.
 */
export async function samplePair(host: Host, sampler: UsageSampler, intervalMs: number, signal?: AbortSignal): Promise<{before?: UsageSample; now: UsageSample}> {
  const ask = async () => {
    const first = await sampler.sample()
    await sleep(intervalMs, signal)
    // interrupted: the one sample there is (the caller, seeing the signal, prints nothing)
    return JSON.stringify({samples: signal?.aborted ? [first] : [first, await sampler.sample()]})
  }
  const text = await (host.answer ? host.answer(SAMPLES_ANSWER, ask) : ask())
  if (text !== undefined) {
    try {
      const [before, now] = (JSON.parse(text) as {samples: UsageSample[]}).samples
      if (before && now) return {before, now}
      if (before) return {now: before}
    } catch {
      host.warnings.add(`bad:${SAMPLES_ANSWER}`, `unreadable recorded samples ignored: answers/${SAMPLES_ANSWER}`)
    }
  }
  return {now: await sampler.sample()}
}

/** `nodedoc snapshot`: two samples a second apart, so that `top --from` has rates to show. */
export async function gatherUsageForSnapshot(host: Host): Promise<void> {
  await unlessUnreadable(host, samplePair(host, new UsageSampler(host), SNAPSHOT_INTERVAL_MS))
}

/** A node without pod cgroups to read still gets its snapshot: top and events will say why they cannot answer. */
async function unlessUnreadable(host: Host, work: Promise<unknown>): Promise<void> {
  try {
    await work
  } catch (error) {
    if (!(error instanceof NodeUnreadableError)) throw error
    host.warnings.add('usage:unreadable', error.message)
  }
}

/**
 * The kernel log through `dmesg`, where it may be read (root, or kernel.dmesg_restrict=0), with
 * the boot time from /proc/stat to put its seconds-since-boot on the wall clock.
 */
export async function readKernelLog(host: Host): Promise<KernelLog | undefined> {
  const [result, stat] = await Promise.all([host.run(['dmesg']), host.readFile('/proc/stat')])
  if (!result || result.exitCode !== 0) {
    const why = !result ? 'dmesg is not there' : result.stderr.trim().split('\n')[0] || `dmesg exited ${result.exitCode}`
    host.warnings.add('kernel-log', `kernel log not read (${why}): OOM kills are shown from cgroup counters, without the killed PID`)
    return undefined
  }
  const btime = /^btime (\d+)$/m.exec(stat ?? '')
  if (!btime) {
    host.warnings.add('kernel-log-btime', 'no btime in /proc/stat: kernel log times are left out')
    return undefined
  }
  return {bootTimeMs: Number(btime[1]) * 1000, ...parseKernelLog(result.stdout)}
}

/**
 * Every container instance's live log `<restart>.log` with restart >= 1 (the kubelet names each
 * restart's file so), with its birth time, and names for pods and containers from the log
 * folders and /var/log/containers links (for those no longer in a sample).
 */
export async function readRestarts(host: Host): Promise<{restarts: RestartFile[]; directory: Directory}> {
  const restarts: RestartFile[] = []
  const directory: Directory = {pods: new Map(), containers: new Map()}
  const found: Array<Omit<RestartFile, 'bornMs'>> = []
  for (const entry of (await host.readDir(POD_LOG_ROOT)) ?? []) {
    const dir = entry.kind === 'dir' ? parsePodLogDirName(entry.name) : null
    if (!dir) continue
    const pod = {podUid: dir.uid, namespace: dir.namespace, podName: dir.name}
    directory.pods.set(dir.uid, {namespace: dir.namespace, name: dir.name})
    const podDir = hostPath(POD_LOG_ROOT, entry.name)
    for (const sub of (await host.readDir(podDir)) ?? []) {
      if (dir.layout === 'legacy') {
        const legacy = sub.kind === 'file' ? parseLegacyLogFileName(sub.name) : null
        if (legacy && legacy.rotatedAt === null && legacy.restart >= 1) found.push({...pod, container: legacy.container, restart: legacy.restart, path: hostPath(podDir, sub.name)})
        continue
      }
      if (sub.kind !== 'dir') continue
      for (const file of (await host.readDir(hostPath(podDir, sub.name))) ?? []) {
        const name = parseLogFileName(file.name)
        if (name && name.rotatedAt === null && name.restart >= 1) found.push({...pod, container: sub.name, restart: name.restart, path: hostPath(podDir, sub.name, file.name)})
      }
    }
  }
  for (const f of found) {
    // a file rotated away between the listing and the stat is normal: it still tells of the restart
    const s = await host.stat(f.path)
    restarts.push({...f, bornMs: s?.birthtimeMs ?? null})
  }
  for (const entry of (await host.readDir(CONTAINER_LOG_LINKS)) ?? []) {
    const link = parseContainerLogLinkName(entry.name)
    if (link) directory.containers.set(link.containerId, link.container)
  }
  return {restarts, directory}
}

/** `nodedoc snapshot`: what `events --from` reads. */
export async function gatherEventsForSnapshot(host: Host): Promise<void> {
  await Promise.all([unlessUnreadable(host, new UsageSampler(host).sample()), readKernelLog(host), readRestarts(host)])
}
