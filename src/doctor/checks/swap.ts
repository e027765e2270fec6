import type {Host} from '../../host/host.js'
import {type Check, fail, pass, skip} from '../check.js'

export interface SwapFacts {
  /** /proc/swaps text, undefined when unreadable */
  swaps: string | undefined
}

export const swap: Check<SwapFacts> = {
  id: 'swap',
  area: 'prereqs',
  title: 'swap is off',
  why: 'the kubelet refuses to start with swap on (failSwapOn) unless NodeSwap is configured, and swapped pods break memory limits and eviction',
  gather: async (host: Host) => ({swaps: await host.readFile('/proc/swaps')}),
  evaluate({swaps}) {
    if (swaps === undefined) return skip('/proc/swaps not readable')
    const devices = swaps.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[0])
    if (devices.length === 0) return pass('no swap device in /proc/swaps')
    const names = devices.map((f) => `${f[0]} (${f[1]}, ${Math.round(Number(f[2]) / 1024)} MiB)`)
    return fail(`swap on: ${names.join(', ')}`, 'swapoff -a, and remove swap entries from /etc/fstab (or set failSwapOn: false with memorySwap configured)', devices.map((f) => f[0]))
  },
}
