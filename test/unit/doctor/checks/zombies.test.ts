import {describe, expect, it} from 'vitest'
import {zombies} from '../../../../src/doctor/checks/zombies.js'

describe('zombies', () => {
  it('passes with none', () => {
    expect(zombies.evaluate({zombies: []})).toMatchObject({status: 'PASS', seen: 'none'})
  })
  it('warns naming each zombie, its parent and its pod', () => {
    const v = zombies.evaluate({zombies: [
      {pid: 4242, ppid: 4100, comm: 'curl', parentComm: 'java', podUid: '0125ec2f-b64a-4868-8f5b-94b56cbab864', containerId: 'ee4b20e9'},
      {pid: 77, ppid: 1, comm: 'sh', parentComm: 'systemd', podUid: null, containerId: null},
    ]})
    expect(v).toMatchObject({status: 'WARN', seen: '2 zombies, 1 in pods: 4242 curl (parent 4100 java, pod 0125ec2f-b64a-4868-8f5b-94b56cbab864), 77 sh (parent 1 systemd)'})
  })
})
