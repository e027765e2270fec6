// What test/e2e/inside.test.ts adds to the test node: a distroless image (one static binary, no
// shell, no ls) and a kube-proxy-shaped Service in the node's nat table, each removed exactly.
import {randomBytes} from 'node:crypto'
import {chmod, mkdir, symlink, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {execa} from 'execa'
import type {ExtraImage} from './node/images.js'

export const SERVER_PORT = 8080
export const UNIX_SOCKET = '/run/app.sock'
export const GREETING = 'hello from the distroless server'

// The whole image: listens on TCP 8080 and on a UNIX socket, greets each TCP client and keeps
// the connection open, writes /run/started at start (so the container's own layer holds a file).
const SERVER_C = `#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static void leave(int sig) { (void)sig; _exit(0); }
int main(void) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, leave);
  signal(SIGINT, leave);
  int one = 1;
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in in = {0};
  in.sin_family = AF_INET;
  in.sin_port = htons(${SERVER_PORT});
  in.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(tcp, (struct sockaddr *)&in, sizeof in) || listen(tcp, 16)) return 1;
  int unx = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un un = {0};
  un.sun_family = AF_UNIX;
  strcpy(un.sun_path, "${UNIX_SOCKET}");
  unlink(un.sun_path);
  if (bind(unx, (struct sockaddr *)&un, sizeof un) || listen(unx, 4)) return 1;
  int f = open("/run/started", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (f >= 0) { write(f, "up\\n", 3); close(f); }
  for (;;) {
    struct pollfd p[2] = {{tcp, POLLIN, 0}, {unx, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) continue;
    if (p[0].revents) {
      int c = accept(tcp, 0, 0);
      if (c >= 0) write(c, "${GREETING}\\n", ${GREETING.length + 1});
    }
    if (p[1].revents) {
      int c = accept(unx, 0, 0);
      if (c >= 0) close(c);
    }
  }
}
`

/** The container's own /etc/shadow: what `fs` must read through a link to /etc/shadow. */
export function containerShadow(tag: string): string {
  return `root:container-only-${tag}:19000:0:99999:7:::\n`
}

/** A file name a hostile image might use to drive the operator's terminal. */
export const ESCAPE_NAME = '\u001b[31mred\u001b]0;owned\u0007'

export function distrolessImage(name: string, tag: string): ExtraImage {
  return {
    name,
    async fill(rootfs) {
      // the source is compiled beside the rootfs, never into it
      const work = dirname(rootfs)
      await writeFile(join(work, 'server.c'), SERVER_C)
      await execa('gcc', ['-static', '-Os', '-s', '-o', join(rootfs, 'server'), join(work, 'server.c')])
      for (const dir of ['etc', 'app', 'data', 'run', 'tmp', 'proc', 'sys', 'dev', 'var/run']) await mkdir(join(rootfs, dir), {recursive: true})
      await chmod(join(rootfs, 'tmp'), 0o1777)
      await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n')
      await writeFile(join(rootfs, 'etc/shadow'), containerShadow(tag))
      await chmod(join(rootfs, 'etc/shadow'), 0o640)
      await writeFile(join(rootfs, 'data/hello.txt'), 'hello from the image\n')
      await writeFile(join(rootfs, 'data', ESCAPE_NAME), 'a file whose name is a terminal escape\n')
      // links that would read the node's files if followed against the node's root
      await symlink('/etc/shadow', join(rootfs, 'app/shadow-link'))
      await symlink('../../../../../../../etc/shadow', join(rootfs, 'app/shadow-up'))
      return {Entrypoint: ['/server'], Env: ['PATH=/']}
    },
  }
}

/** kube-proxy's chain names: a 16-character hash of the service port (and endpoint). */
function chainHash(): string {
  return randomBytes(10).toString('base64').replace(/[^A-Z0-9]/gi, '').toUpperCase().padEnd(16, 'X').slice(0, 16)
}

export interface ServiceRules {
  clusterIp: string
  service: string
  svcChain: string
  sepChain: string
  guardComment: string
  /** the nat chains this test made (and so removes) */
  created: string[]
  /** rules added to chains that were there before (removed one by one): iptables -D arguments */
  added: string[][]
}

async function chainExists(table: string, chain: string): Promise<boolean> {
  return (await execa('iptables', ['-t', table, '-S', chain], {reject: false})).exitCode === 0
}

async function ruleExists(table: string, rule: string[]): Promise<boolean> {
  return (await execa('iptables', ['-t', table, '-C', ...rule], {reject: false})).exitCode === 0
}

const PORTALS = 'kubernetes service portals'
const POSTROUTING = 'kubernetes postrouting rules'
const SHARED = ['KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING']

/**
 * A ClusterIP Service in kube-proxy's iptables shape (masqueradeAll, so the answer comes back
 * through the node whatever the bridge does), DNAT to endpoint:port. kube-proxy's shared chains
 * are made only when missing (another test on this machine may hold some), and only what this
 * test adds is removed. A FORWARD guard drops anything to the cluster IP that was not DNATed:
 * no packet to it ever leaves the node.
 */
export async function addService(namespace: string, name: string, clusterIp: string, endpoint: string, tag: string): Promise<ServiceRules> {
  const service = `${namespace}/${name}:http`
  const rules: ServiceRules = {clusterIp, service, svcChain: `KUBE-SVC-${chainHash()}`, sepChain: `KUBE-SEP-${chainHash()}`, guardComment: `nodedoc-e2e-${tag} guard`, created: [], added: []}
  // the guard first: from here on, nothing to the cluster IP is forwarded un-NATed
  await execa('iptables', ['-t', 'filter', '-I', 'FORWARD', '-d', `${clusterIp}/32`, '-m', 'comment', '--comment', rules.guardComment, '-j', 'DROP'])
  for (const chain of SHARED) {
    if (await chainExists('nat', chain)) continue
    await execa('iptables', ['-t', 'nat', '-N', chain])
    rules.created.push(chain)
  }
  for (const chain of [rules.svcChain, rules.sepChain]) {
    await execa('iptables', ['-t', 'nat', '-N', chain])
    rules.created.push(chain)
  }
  const add = async (rule: string[]) => {
    await execa('iptables', ['-t', 'nat', '-A', ...rule])
    rules.added.push(rule)
  }
  // the hooks, unless there already
  for (const rule of [
    ['PREROUTING', '-m', 'comment', '--comment', PORTALS, '-j', 'KUBE-SERVICES'],
    ['OUTPUT', '-m', 'comment', '--comment', PORTALS, '-j', 'KUBE-SERVICES'],
    ['POSTROUTING', '-m', 'comment', '--comment', POSTROUTING, '-j', 'KUBE-POSTROUTING'],
  ]) if (!(await ruleExists('nat', rule))) await add(rule)
  if (rules.created.includes('KUBE-MARK-MASQ')) await add(['KUBE-MARK-MASQ', '-j', 'MARK', '--or-mark', '0x4000'])
  if (rules.created.includes('KUBE-POSTROUTING')) {
    await add(['KUBE-POSTROUTING', '-m', 'mark', '!', '--mark', '0x4000/0x4000', '-j', 'RETURN'])
    await add(['KUBE-POSTROUTING', '-j', 'MARK', '--xor-mark', '0x4000'])
    await add(['KUBE-POSTROUTING', '-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE'])
  }
  await add(['KUBE-SERVICES', '-d', `${clusterIp}/32`, '-p', 'tcp', '-m', 'comment', '--comment', `${service} cluster IP`, '-m', 'tcp', '--dport', '80', '-j', rules.svcChain])
  await add([rules.svcChain, '-d', `${clusterIp}/32`, '-p', 'tcp', '-m', 'comment', '--comment', `${service} cluster IP`, '-m', 'tcp', '--dport', '80', '-j', 'KUBE-MARK-MASQ'])
  await add([rules.svcChain, '-m', 'comment', '--comment', `${service} -> ${endpoint}:${SERVER_PORT}`, '-j', rules.sepChain])
  await add([rules.sepChain, '-s', `${endpoint}/32`, '-m', 'comment', '--comment', service, '-j', 'KUBE-MARK-MASQ'])
  await add([rules.sepChain, '-p', 'tcp', '-m', 'comment', '--comment', service, '-m', 'tcp', '-j', 'DNAT', '--to-destination', `${endpoint}:${SERVER_PORT}`])
  return rules
}

/** Removes exactly what addService added: its rules (last first), the chains it made, the guard. */
export async function removeService(rules: ServiceRules): Promise<void> {
  const iptables = (args: string[]) => execa('iptables', args, {reject: false})
  for (const rule of [...rules.added].reverse()) await iptables(['-t', 'nat', '-D', ...rule])
  for (const chain of [...rules.created].reverse()) await iptables(['-t', 'nat', '-X', chain])
  await iptables(['-t', 'filter', '-D', 'FORWARD', '-d', `${rules.clusterIp}/32`, '-m', 'comment', '--comment', rules.guardComment, '-j', 'DROP'])
}

/** What of the Service is still in the kernel's tables. */
export async function serviceLeftovers(rules: ServiceRules): Promise<string[]> {
  const left: string[] = []
  const nat = String((await execa('iptables-save', ['-t', 'nat'], {reject: false})).stdout)
  const filter = String((await execa('iptables-save', ['-t', 'filter'], {reject: false})).stdout)
  for (const chain of rules.created) if (nat.includes(`:${chain} `)) left.push(`nat chain ${chain}`)
  if (nat.includes(rules.clusterIp)) left.push(`nat rules for ${rules.clusterIp}`)
  if (filter.includes(rules.guardComment)) left.push('filter FORWARD guard')
  return left
}

/** Conntrack entries that name any of these addresses (as source or destination, either direction). */
export async function conntrackEntriesFor(addresses: string[]): Promise<string[]> {
  const out = String((await execa('conntrack', ['-L'], {reject: false})).stdout)
  return out.split('\n').filter((line) => addresses.some((a) => line.includes(`=${a} `)))
}

/** Deletes them: they would outlive the pods by minutes (TIME_WAIT) to days (ESTABLISHED). */
export async function deleteConntrackEntries(addresses: string[]): Promise<void> {
  for (const address of addresses) {
    for (const flag of ['--orig-src', '--orig-dst', '--reply-src', '--reply-dst']) await execa('conntrack', ['-D', flag, address], {reject: false})
  }
}
