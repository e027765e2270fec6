import {type ChildProcess, spawn} from 'node:child_process'
import {readlinkSync, realpathSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {execedAs} from '../../../src/write/processes.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const dir = tempFolder('nd-execed-', () => symlinkSync('/bin/sleep', pause))
// a program reached by a link, as the sandbox's pause is: its comm is the link's name
const pause = join(dir, 'pause')
const started: ChildProcess[] = []
const start = (argv: string[]) => {
  const child = spawn(argv[0], argv.slice(1), {stdio: 'ignore'})
  started.push(child)
  return child
}

afterAll(() => {
  for (const child of started) child.kill('SIGKILL')
})

describe('execedAs', () => {
  it('returns only once the process has executed the program, not when it was started', async () => {
    const child = start(['sh', '-c', 'sleep 0.3; exec "$0" 30', pause])
    const t0 = Date.now()
    await execedAs(child.pid!, 'pause')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
    expect(readlinkSync(`/proc/${child.pid}/exe`)).toBe(realpathSync('/bin/sleep'))
  })

  it('fails when the process ends first, and when it does not get there in time', async () => {
    const quick = start(['true'])
    await new Promise((resolve) => quick.on('exit', resolve))
    await new Promise((resolve) => setTimeout(resolve, 50))
    await expect(execedAs(quick.pid!, 'pause')).rejects.toThrow(/exited early/)
    const slow = start(['sleep', '30'])
    await expect(execedAs(slow.pid!, 'pause', 200)).rejects.toThrow(new RegExp(`^process ${slow.pid} did not exec pause in time \\(it is sleep\\)$`))
  })

  it.skipIf(process.getuid?.() !== 0)('after it, the process is in the namespaces unshare made (a UTS name set through it stays off the host)', async () => {
    const child = start(['unshare', '--uts', '--', pause, '30'])
    await execedAs(child.pid!, 'pause')
    expect(readlinkSync(`/proc/${child.pid}/ns/uts`)).not.toBe(readlinkSync('/proc/self/ns/uts'))
  })
})
