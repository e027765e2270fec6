import {describe, expect, it} from 'vitest'
import {conntrackTable, filesTable, fileContentView, modeString, socketsTable} from '../../../src/inside/render.js'

describe('table views', () => {
  it('ls -l modes', () => {
    expect(modeString('dir', '0755')).toBe('drwxr-xr-x')
    expect(modeString('file', '4755')).toBe('-rwsr-xr-x')
    expect(modeString('dir', '1777')).toBe('drwxrwxrwt')
    expect(modeString('file', '2644')).toBe('-rw-r-Sr--')
    expect(modeString('link', null)).toBe('l?????????')
  })
  it('escape what a pod names in every view', () => {
    const evil = 'x\u001b[31m'
    const files = filesTable([{path: `/${evil}`, name: evil, type: 'link', size: 1, mode: '0777', uid: 0, gid: 0, modified: null, linkTarget: evil, mount: null}], false)
    expect(files).not.toContain('\u001b')
    const sockets = socketsTable([{pod: {namespace: 'n', name: 'p', uid: 'u'}, protocol: 'unix', family: 'unix', type: 'stream', state: 'LISTEN', localAddress: null, localPort: null, peerAddress: null, peerPort: null, path: `/run/${evil}`, sendQueue: null, recvQueue: null, inode: 1, netnsInode: 2, owners: [{pid: 1, fd: 3, command: `/bin/${evil}`, container: null}]}], true)
    expect(sockets).not.toContain('\u001b')
    const content = {path: '/f', requested: '/f', size: 3, bytes: 3, truncated: false, mount: null, encoding: 'utf8' as const, content: 'a\u001bb\n', withheld: null}
    expect(fileContentView(true)([content])).toBe('a\\x1bb\n')
    expect(fileContentView(false)([content])).toBe('a\u001bb\n')
  })
  it('conntrack rows: who sent, where to, who answered; -o wide both tuples whole', () => {
    const record = {
      family: 'ipv4' as const, protocol: 'tcp', state: 'ESTABLISHED', timeoutSeconds: 431999, ageSeconds: null,
      original: {src: '10.88.0.5', dst: '10.96.1.2', sport: 41000, dport: 80}, reply: {src: '10.88.0.4', dst: '10.88.0.1', sport: 8080, dport: 41000},
      nat: {dnat: true, snat: true}, flags: ['ASSURED'], mark: 0, zone: 0,
      client: {pod: {namespace: 'a', name: 'client', uid: 'u1'}, address: '10.88.0.5'}, server: {pod: {namespace: 'a', name: 'web', uid: 'u2'}, address: '10.88.0.4'}, service: null,
    }
    expect(conntrackTable([record], false)).toMatch(/^tcp\s+ESTABLISHED\s+a\/client\s+10\.96\.1\.2:80\s+a\/web:8080\s+4d23h$/m)
    const outside = {...record, client: null, server: null}
    expect(conntrackTable([outside], false)).toMatch(/^tcp\s+ESTABLISHED\s+10\.88\.0\.5:41000\s+10\.96\.1\.2:80\s+10\.88\.0\.4:8080\s+4d23h$/m)
    expect(conntrackTable([record], true)).toMatch(/tcp\s+ESTABLISHED\s+10\.88\.0\.5:41000 -> 10\.96\.1\.2:80\s+10\.88\.0\.4:8080 -> 10\.88\.0\.1:41000\s+dnat\+snat\s+a\/client\s+a\/web\s+431999s/)
  })
  it('sockets: the POD column only when the sockets span pods; queues, fd and whole command in -o wide', () => {
    const socket = (uid: string, fd: number) => ({
      pod: {namespace: 'n', name: uid, uid}, protocol: 'tcp' as const, family: 'ipv4' as const, state: 'LISTEN', localAddress: '0.0.0.0', localPort: 8080, peerAddress: '0.0.0.0', peerPort: 0,
      path: null, sendQueue: 0, recvQueue: 0, inode: 1, netnsInode: 2, owners: [{pid: 7, fd, command: '/app/server --port 8080', container: {name: 'c', id: 'x'}}],
    })
    const one = socketsTable([socket('p', 3)], false)
    expect(one.split('\n')[0]).toMatch(/^NETID\s+STATE\s+LOCAL ADDRESS:PORT\s+PEER ADDRESS:PORT\s+PROCESS$/)
    expect(one).toMatch(/^tcp\s+LISTEN\s+\*:8080\s+\*:\*\s+server,pid=7$/m)
    expect(socketsTable([socket('p', 3), socket('q', 4)], false)).toMatch(/^n\/q\s+tcp/m)
    expect(socketsTable([socket('p', 3)], true)).toMatch(/^n\/p\s+tcp\s+LISTEN\s+0\s+0\s+\*:8080\s+\*:\*\s+\/app\/server --port 8080,pid=7,fd=3\s+c\s+1\s+2$/m)
  })
})
