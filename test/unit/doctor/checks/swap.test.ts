import {describe, expect, it} from 'vitest'
import {swap} from '../../../../src/doctor/checks/swap.js'

describe('swap', () => {
  it('passes on the header-only /proc/swaps of a node without swap', () => {
    expect(swap.evaluate({swaps: 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'}).status).toBe('PASS')
  })
  it('fails naming each swap device', () => {
    const v = swap.evaluate({swaps: 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swap.img                               file\t\t2097148\t\t0\t\t-2\n/dev/zram0                              partition\t4194300\t\t1024\t\t100\n'})
    expect(v).toMatchObject({status: 'FAIL', seen: 'swap on: /swap.img (file, 2048 MiB), /dev/zram0 (partition, 4096 MiB)', items: ['/swap.img', '/dev/zram0']})
    expect(v.fix).toMatch(/swapoff -a/)
  })
  it('skips when /proc/swaps cannot be read', () => {
    expect(swap.evaluate({swaps: undefined}).status).toBe('SKIP')
  })
})
