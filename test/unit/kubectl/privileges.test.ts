import {describe, expect, it} from 'vitest'
import {CAPABILITY_REASONS, INSPECTION_CAPABILITIES, actsOnNode, boundingSet, securityContextFor} from '../../../src/kubectl/privileges.js'

describe('capabilities per command', () => {
  it('gives inspections root with only the read capabilities, and nothing that writes or enters', () => {
    for (const command of [['pod', 'x'], ['ps', '-A'], ['svc', '-A'], ['doctor'], ['logs', 'x'], ['net'], ['snapshot', '-o', '/tmp/s']]) {
      const context = securityContextFor(command)
      expect(context.privileged, command.join(' ')).toBe(false)
      expect(context.runAsUser).toBe(0)
      expect(context.readOnlyRootFilesystem).toBe(true)
      expect(context.allowPrivilegeEscalation).toBe(false)
      expect(context.capabilities).toEqual({drop: ['ALL'], add: INSPECTION_CAPABILITIES})
      expect(context.capabilities!.add).not.toContain('SYS_ADMIN')
    }
  })

  it('runs the commands that act on the node privileged: sandbox, probe, trace, enter', () => {
    for (const command of [['sandbox', 'create'], ['svc', 'kube-dns', '--probe'], ['why', 'dns', 'x', '--probe'], ['trace', '--from-pod', 'x', '--to', '10.0.0.1:53/udp'], ['enter', 'x', '--', 'ip', 'a']]) {
      expect(actsOnNode(command), command.join(' ')).toBe(true)
      expect(securityContextFor(command)).toEqual({privileged: true})
    }
  })

  it('runs what reads no node (a snapshot, other nodes\' reports) as nobody with no capability', () => {
    for (const command of [['report', 'reports/'], ['pod', 'x', '--from', '/snap'], ['ps', '--from=/snap.tar.gz']]) {
      expect(securityContextFor(command)).toMatchObject({runAsUser: 65534, runAsNonRoot: true, capabilities: {drop: ['ALL']}})
      expect(securityContextFor(command).capabilities!.add).toBeUndefined()
    }
  })

  it('says why each capability is asked for, and speaks setpriv', () => {
    for (const capability of INSPECTION_CAPABILITIES) expect(CAPABILITY_REASONS[capability].length).toBeGreaterThan(20)
    expect(boundingSet(['SYS_PTRACE', 'NET_ADMIN'])).toBe('-all,+sys_ptrace,+net_admin')
  })
})
