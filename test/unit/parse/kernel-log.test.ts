// The kernel log parser on real kernel output: this project's test node (kernel 6.18, cgroup
// v1), and lines quoted in public issues (kernel 3.10 to 5.x, syslog copies, raw /dev/kmsg).
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {identifyCgroupPath} from '../../../src/parse/cgroup.js'
import {parseKernelLog} from '../../../src/parse/kernel-log.js'

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/kernel-log', name), 'utf8')

describe('parseKernelLog', () => {
  it('joins a whole v1 memcg OOM report of the test node into one kill: PID, task, both cgroups', () => {
    const text = fixture('test-node-6.18-memcg-oom-dd.txt')
    const {oomKills, forkRejections} = parseKernelLog(text)
    const lines = text.trimEnd().split('\n')
    expect(oomKills).toEqual([{
      uptimeSeconds: 6342.807748,
      pid: 14781,
      task: 'dd',
      taskMemcg: '/kubepods/burstable/pod80c2e436-efbf-4368-af0a-4ce6b8b95f6d/7f05c3d7d4730e54e3652ade6e1f2d01b27afe6f9041d2edc1ba6aed478b4d86',
      oomMemcg: '/kubepods/burstable/pod80c2e436-efbf-4368-af0a-4ce6b8b95f6d',
      constraint: 'CONSTRAINT_MEMCG',
      lines: lines.slice(-2),
    }])
    // the task table and the memory.stat dump before the kill are not kills
    expect(forkRejections).toEqual([])
  })

  it('reads the pids controller refusal with its cgroup', () => {
    const {oomKills, forkRejections} = parseKernelLog(fixture('test-node-6.18-pids-fork-rejected.txt'))
    expect(oomKills).toEqual([])
    expect(forkRejections).toEqual([{
      uptimeSeconds: 3751.568801,
      cgroupPath: '/kubepods/besteffort/podd9191b21-b39b-4f87-8579-93b6ece82123/76c79de7128a525eefc9e043619da73ca30d9752b0df19e8cfe79ef629549ccd',
      line: fixture('test-node-6.18-pids-fork-rejected.txt').trimEnd(),
    }])
  })

  it('reads a syslog copy (no boot-time stamp) of a v2 systemd-driver kill, whose cgroup names the pod and container', () => {
    const [kill] = parseKernelLog(fixture('gpud-70-syslog-systemd-cri-containerd.txt')).oomKills
    expect(kill).toMatchObject({uptimeSeconds: null, pid: 461754, task: 'pt_main_thread', constraint: 'CONSTRAINT_MEMCG'})
    expect(identifyCgroupPath(kill.taskMemcg!)).toMatchObject({
      podUid: 'eded8c65-6e8e-4c6e-a889-3e427565c740',
      containerId: 'ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95',
      qosClass: 'Burstable',
      driver: 'systemd',
      runtime: 'containerd',
    })
  })

  it('reads a node-wide OOM (no oom_memcg) whose victim is in no pod', () => {
    const [kill] = parseKernelLog(fixture('dyrnq-install-docker-14-global-oom.txt')).oomKills
    expect(kill).toMatchObject({uptimeSeconds: 4650180.470877, pid: 7134, task: 'java', constraint: 'CONSTRAINT_NONE', oomMemcg: null})
    expect(identifyCgroupPath(kill.taskMemcg!).podUid).toBeNull()
  })

  it('takes a kill line with no summary before it: PID and task, no cgroup', () => {
    expect(parseKernelLog(fixture('reportportal-kubernetes-203-uwsgi.txt')).oomKills).toEqual([{
      uptimeSeconds: 7063.247407,
      pid: 63214,
      task: 'uwsgi',
      taskMemcg: null,
      oomMemcg: null,
      constraint: null,
      lines: [fixture('reportportal-kubernetes-203-uwsgi.txt').split('\n')[0]],
    }])
  })

  it('on a 3.10 kernel, takes the victim from "Killed process", not the candidate of "Kill process ... or sacrifice child"', () => {
    const kills = parseKernelLog(fixture('kubernetes-56891-rhel7-dmesg-T.txt')).oomKills
    expect(kills.map((k) => [k.pid, k.task, k.uptimeSeconds])).toEqual([[28438, 'java', null]])
  })

  it('reads the raw kmsg level prefix, and keeps a "Task in" line with no kill after it out of the kills', () => {
    const text = fixture('talos-289-kmsg-task-in.txt')
    expect(parseKernelLog(text).oomKills).toEqual([])
    // the same line followed by the report's kill line: the kill takes both cgroups from it
    const joined = parseKernelLog(text + fixture('reportportal-kubernetes-203-uwsgi.txt')).oomKills[0]
    expect(joined).toMatchObject({pid: 63214, taskMemcg: '/system/docker/kubepods/burstable/pod6687d6d7-fcae-11e8-b0b0-5e61144ba466/58f8a9bf6a469f0c94d42be34ad1bdff84fad63f236baedde981139a15aa5287', oomMemcg: '/system/docker'})
    // a new report starts afresh: the earlier "Task in" names nobody in it
    const cut = parseKernelLog(text + fixture('test-node-6.18-memcg-oom-dd.txt').split('\n')[0] + '\n' + fixture('reportportal-kubernetes-203-uwsgi.txt')).oomKills[0]
    expect(cut.taskMemcg).toBeNull()
  })

  it('treats a task name as data: parentheses and commas in it stay in it', () => {
    const line = '[ 1.5] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a/b,task=x (y),z,pid=42,uid=0'
    expect(parseKernelLog(line).oomKills[0]).toMatchObject({pid: 42, task: 'x (y),z', taskMemcg: '/a/b'})
  })
})
