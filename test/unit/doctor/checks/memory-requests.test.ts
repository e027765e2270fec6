import {describe, expect, it} from 'vitest'
import {memoryRequests, requestFromOomScoreAdj} from '../../../../src/doctor/checks/memory-requests.js'

const GiB = 2 ** 30

describe('memory-requests', () => {
  it('reads a Burstable request back from oom_score_adj', () => {
    // kubelet: 1000 - 1000 * 1GiB / 16GiB = 937.5 -> 938 (int64 division rounds the request term down)
    expect(requestFromOomScoreAdj(938, 16 * GiB) / GiB).toBeCloseTo(1, 1)
    expect(requestFromOomScoreAdj(999, 16 * GiB)).toBe(0)
    expect(requestFromOomScoreAdj(-997, 16 * GiB)).toBe(0)
  })
  it('adds up requests against MemTotal', () => {
    const pods = [{podUid: 'a', qosClass: 'Guaranteed', requestBytes: 8 * GiB}, {podUid: 'b', qosClass: 'Burstable', requestBytes: 7 * GiB}]
    expect(memoryRequests.evaluate({memTotalBytes: 16 * GiB, pods})).toMatchObject({status: 'WARN', seen: '2 pods request about 15360 MiB of 16384 MiB (93.8%)'})
    expect(memoryRequests.evaluate({memTotalBytes: 32 * GiB, pods}).status).toBe('PASS')
    expect(memoryRequests.evaluate({memTotalBytes: 8 * GiB, pods}).status).toBe('FAIL')
    expect(memoryRequests.evaluate({memTotalBytes: 8 * GiB, pods: []}).status).toBe('SKIP')
  })
})
