import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import type {Host} from '../../../src/host/host.js'
import {LiveHost} from '../../../src/host/live.js'
import {gatherProcesses} from '../../../src/pods/processes.js'
import {itemsOf} from '../../helpers/volatile.js'

describe('a process that exits while nodedoc scans', () => {
  it('drops out of the answer without a warning or an error', async () => {
    const child = execa('sleep', ['1000'], {reject: false})
    const pid = child.pid!
    const live = new LiveHost('/')
    // the process is listed in /proc, then dies before its files are read
    const host: Host = Object.assign(Object.create(live), {
      async readDir(path: string) {
        const entries = await live.readDir(path)
        if (path === '/proc') {
          child.kill('SIGKILL')
          await child
        }
        return entries
      },
    })
    const listed = (await live.readDir('/proc'))!.some((e) => e.name === String(pid))
    expect(listed).toBe(true)
    const procs = await gatherProcesses(host)
    expect(procs.some((p) => p.pid === pid)).toBe(false)
    expect(procs.some((p) => p.pid === process.pid)).toBe(true)
    expect(live.warnings.list()).toEqual([])
  })

  it('ps -A under process churn exits 0 with no warning', async () => {
    // a shell that keeps starting and reaping short processes while ps runs
    const churn = execa('sh', ['-c', 'i=0; while [ $i -lt 400 ]; do /bin/true & i=$((i+1)); done; wait'], {reject: false})
    const result = await execa('node', ['bin/run.js', 'ps', '-A', '-o', 'json'], {reject: false})
    await churn
    expect(result.exitCode).toBe(0)
    expect(result.stderr.split('\n').filter((l) => l.includes('warning') && !/runtime|CRI|unix:/.test(l))).toEqual([])
    expect(itemsOf(JSON.parse(result.stdout)).length).toBeGreaterThan(10)
  })
})
