// `why pod POD`: why it is not running or keeps restarting, from host truth alone, in the order a
// pod start depends on it: its sandbox, its volumes, its containers' root filesystems, the limits
// of its cgroup (memory, pids), then each container's processes, restarts, exits and last words.

import type {Host} from '../host/host.js'
import {cgroupDir} from '../pods/cgroup-reader.js'
import type {ContainerReport, PodReport} from '../pods/types.js'
import {identifyCgroupPath} from '../parse/cgroup.js'
import {parseCgroupNumber, parseFlatKeyed} from '../parse/cgroup-files.js'
import {describeExit} from '../parse/runtime-status.js'
import {bytes} from '../output/table.js'
import {printableLine} from '../output/escape.js'
import {runChain} from './chain.js'
import {cgroupMounts, kernelOomKills} from './facts.js'
import {containerLogFile, instanceIds, lastLogLines, presence, readContainerExit} from './pod-files.js'
import {type Link, type WhyReport, broken, ok, unknown} from './types.js'

export interface PodWhyContext {
  host: Host
  pod: PodReport
}

const label = (pod: PodReport) => `${pod.namespace ?? '?'}/${pod.name ?? pod.uid}`
const named = (c: ContainerReport) => c.name ?? c.id.slice(0, 13)

export const sandboxLink: Link<PodWhyContext> = {
  name: 'sandbox',
  async check({pod}) {
    const running = pod.containers.filter((c) => c.state === 'running')
    const evidence = [`pod ${label(pod)} uid ${pod.uid}, ${pod.runtime}, cgroup ${pod.cgroup?.path ?? 'not found'}`]
    if (pod.sandbox.pid !== null) {
      evidence.push(`sandbox ${pod.sandbox.id?.slice(0, 13) ?? '?'}: pause PID ${pod.sandbox.pid}${pod.hostNetwork ? ', hostNetwork' : `, netns net:[${pod.sandbox.namespaces.net ?? '?'}], IP ${pod.ips.join(', ') || 'none'}`}`)
      return ok(`the sandbox runs (pause PID ${pod.sandbox.pid})`, evidence)
    }
    if (running.length) return ok('no pause process, but containers run (a runtime without an infra container)', evidence)
    return broken(
      `no process of ${label(pod)} runs: its sandbox is gone (found by its ${pod.logs.length ? 'log folder' : 'cgroup'} only)`,
      'the kubelet recreates the sandbox of a pod it still runs: see its log (journalctl -u kubelet) for RunPodSandbox errors (CNI, image of the pause container)',
      evidence,
    )
  },
}

export const volumesLink: Link<PodWhyContext> = {
  name: 'volumes',
  async check({host, pod}) {
    const evidence: string[] = []
    const missing: string[] = []
    for (const c of pod.containers) {
      for (const m of c.mounts.filter((mount) => mount.volume)) {
        const state = m.source.endsWith('//deleted') ? 'gone' : await presence(host, m.source)
        evidence.push(`${named(c)} ${m.destination} <- ${m.volume!.plugin} ${m.volume!.name}: ${state === 'unknown' ? 'not known (not read)' : state}`)
        if (state === 'gone') missing.push(`volume ${m.volume!.name} (${m.volume!.plugin}) of container ${named(c)}: source ${m.source.replace(/\/\/deleted$/, '')} is gone`)
      }
    }
    if (missing.length) return broken(missing.join('; '), 'the kubelet sets volumes up before it starts containers: its log says why it could not (secret or configMap missing, CSI mount failed); the pod must be recreated to remount', evidence)
    if (!pod.containers.some((c) => c.state === 'running')) return unknown('no container runs: its mounts cannot be read', evidence)
    const unread = evidence.filter((e) => e.endsWith('(not read)')).length
    return ok(evidence.length ? `${evidence.length} volume mount(s), none gone${unread ? ` (${unread} not read)` : ''}` : 'no volume mounts', evidence)
  },
}

export const rootfsLink: Link<PodWhyContext> = {
  name: 'rootfs',
  async check({host, pod}) {
    const evidence: string[] = []
    const missing: string[] = []
    for (const c of pod.containers.filter((k) => k.state === 'running')) {
      const root = c.mounts.find((m) => m.destination === '/' && m.overlay)
      if (!root?.overlay) continue
      const dirs = [root.overlay.upperDir, ...root.overlay.lowerDirs].filter((d): d is string => !!d).slice(0, 32)
      const gone = []
      let unread = 0
      for (const dir of dirs) {
        const state = await presence(host, dir)
        if (state === 'gone') gone.push(dir)
        if (state === 'unknown') unread++
      }
      evidence.push(`${named(c)}: overlay of ${dirs.length} layer dir(s)${gone.length ? `, ${gone.length} gone` : unread ? `, ${unread} not read` : ', all present'}`)
      if (unread === dirs.length) continue
      if (gone.length) missing.push(`container ${named(c)}: image layer dir(s) gone: ${gone.slice(0, 3).join(', ')}`)
    }
    if (missing.length) return broken(missing.join('; '), 'the image\'s snapshots were removed under a running container (disk cleanup?): pull the image again and recreate the pod', evidence)
    if (!evidence.length) return unknown('no running container with an overlay root to check')
    if (evidence.every((e) => / not read$/.test(e))) return unknown('the layer folders were not read (an older snapshot?)', evidence)
    return ok('every running container\'s root filesystem layers are present', evidence)
  },
}

async function cgroupFile(host: Host, pod: PodReport, controller: string, file: string): Promise<string | undefined> {
  if (!pod.cgroup) return undefined
  const dir = cgroupDir(await cgroupMounts(host), pod.cgroupVersion, controller, pod.cgroup.path)
  return dir ? host.readFile(`${dir}/${file}`) : undefined
}

export const memoryLink: Link<PodWhyContext> = {
  name: 'memory',
  async check({host, pod}) {
    const evidence: string[] = []
    // v1 counts a kill in the cgroup of the process killed; v2's memory.events counts its subtree
    const containerKills = pod.containers.reduce((n, c) => n + (c.cgroup?.oomKills ?? 0), 0)
    const cgroupKills = pod.cgroupVersion === 2 ? Math.max(pod.cgroup?.oomKills ?? 0, containerKills) : (pod.cgroup?.oomKills ?? 0) + containerKills
    if (pod.cgroup) evidence.push(`pod cgroup ${pod.cgroup.path}: limit ${bytes(pod.cgroup.memoryLimitBytes) ?? 'none'}, usage ${bytes(pod.cgroup.memoryUsageBytes) ?? '?'}, peak ${bytes(pod.cgroup.memoryPeakBytes) ?? '?'}, oom_kill ${pod.cgroup.oomKills ?? '?'}`)
    for (const c of pod.containers.filter((k) => k.cgroup)) evidence.push(`container ${named(c)}: limit ${bytes(c.cgroup!.memoryLimitBytes) ?? 'none'}, oom_kill ${c.cgroup!.oomKills ?? '?'}`)
    const failcnt = pod.cgroupVersion === 1 ? parseCgroupNumber(await cgroupFile(host, pod, 'memory', 'memory.failcnt')) : null
    if (failcnt) evidence.push(`pod memory.failcnt ${failcnt}: the limit was reached ${failcnt} time(s)`)
    const kernel = (await kernelOomKills(host))?.filter((k) => k.taskMemcg && identifyCgroupPath(k.taskMemcg).podUid === pod.uid) ?? []
    for (const k of kernel.slice(-5)) evidence.push(`dmesg: oom-kill ${printableLine(k.task, 40)} PID ${k.pid}${k.uptimeSeconds !== null ? ` at ${k.uptimeSeconds}s after boot` : ''} (limit of ${k.oomMemcg ?? '?'})`)
    const byRuntime: string[] = []
    for (const c of pod.containers) {
      const ids = c.name ? instanceIds(pod, c.name).map((i) => i.id) : []
      if (c.id && !ids.includes(c.id)) ids.unshift(c.id)
      for (const id of ids) {
        const exit = await readContainerExit(host, id)
        if (exit?.reason === 'OOMKilled') {
          byRuntime.push(named(c))
          evidence.push(`${exit.source}: ${named(c)} ${id.slice(0, 13)} reason OOMKilled${exit.exitCode !== null ? `, ${describeExit(exit.exitCode)}` : ''}`)
        }
      }
    }
    const kills = Math.max(cgroupKills, kernel.length, byRuntime.length)
    if (kills > 0) {
      const who = [...new Set([...kernel.map((k) => printableLine(k.task, 40)), ...byRuntime])].join(', ')
      const limit = pod.containers.find((c) => c.cgroup?.memoryLimitBytes)?.cgroup?.memoryLimitBytes ?? pod.cgroup?.memoryLimitBytes
      return broken(
        `OOMKilled: ${kills} OOM kill(s) in the pod's memory cgroup${who ? ` (${who})` : ''}${limit ? `, limit ${bytes(limit)}` : ''}`,
        'raise the container\'s memory limit above what it really uses (peak above), or find what grows; a pod without a limit is killed at the node\'s own pressure instead',
        evidence,
      )
    }
    return ok(failcnt ? `no OOM kill, but the limit was reached ${failcnt} time(s) (reclaim)` : 'no OOM kill', evidence)
  },
}

export const pidsLink: Link<PodWhyContext> = {
  name: 'pids',
  async check({host, pod}) {
    const current = pod.cgroup?.pidsCurrent ?? null
    const max = pod.cgroup?.pidsMax ?? null
    const events = parseFlatKeyed(await cgroupFile(host, pod, 'pids', 'pids.events'))
    const refused = events.get('max') ?? 0
    const evidence = [`pids.current ${current ?? '?'}, pids.max ${max ?? 'max'}, pids.events max ${refused}`]
    if (refused > 0 || (max !== null && current !== null && current >= max)) {
      return broken(`pids.max ${max ?? '?'} reached: ${refused} fork(s) refused`, 'raise the kubelet\'s --pod-max-pids (podPidsLimit), or find what forks (nodedoc ps --pod)', evidence)
    }
    return ok(max === null ? 'no pids limit' : `${current ?? '?'} of ${max} pids`, evidence)
  },
}

export const containersLink: Link<PodWhyContext> = {
  name: 'containers',
  async check({host, pod}) {
    const evidence: string[] = []
    const problems: string[] = []
    for (const c of pod.containers) {
      const restarts = c.restartCount ?? 0
      const running = c.state === 'running'
      if (running && restarts === 0) {
        evidence.push(`${named(c)}: running, PID ${c.pid}`)
        continue
      }
      // the instance that ended: this one when it is not running, else the one before
      const ids = c.name ? instanceIds(pod, c.name) : []
      const endedId = running ? ids.find((i) => i.id !== c.id)?.id : c.id || ids[0]?.id
      const exit = endedId ? await readContainerExit(host, endedId) : null
      const how = exit?.exitCode != null ? `${describeExit(exit.exitCode)}${exit.reason ? ` (${exit.reason})` : ''}${exit.finishedAt ? ` at ${exit.finishedAt}` : ''}` : exit?.reason ? `reason ${exit.reason}` : 'exit not recorded'
      if (exit) evidence.push(`${exit.source}: ${how}`)
      const log = c.name ? containerLogFile(pod, c.name, running) : undefined
      if (log) for (const line of await lastLogLines(host, log.path, 3)) evidence.push(`${named(c)} ${log.path.split('/').at(-1)}: ${line}`)
      if (!running) problems.push(`container ${named(c)} is not running: ${how}${restarts ? `, ${restarts} restart(s) before` : ''}`)
      else problems.push(`container ${named(c)} restarted ${restarts} time(s); the last run ended with ${how}`)
    }
    if (problems.length) return broken(problems.join('; '), 'the exit and last log lines say why; an exit 137 with OOMKilled is the memory limit, 137 alone a SIGKILL (liveness probe, eviction), 1 or 2 the program itself', evidence)
    if (!pod.containers.length) return unknown('no container found for the pod')
    return ok(`${pod.containers.length} container(s) running, no restart`, evidence)
  },
}

export const POD_LINKS: Array<Link<PodWhyContext>> = [sandboxLink, volumesLink, rootfsLink, memoryLink, pidsLink, containersLink]

export async function whyPod(host: Host, pod: PodReport): Promise<WhyReport> {
  return runChain(`pod ${label(pod)}`, POD_LINKS, {host, pod})
}
