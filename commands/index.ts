// Explicit command registry: oclif loads this one file instead of scanning a folder.
import Compare from './compare.js'
import Conntrack from './conntrack.js'
import Containers from './containers.js'
import Doctor from './doctor.js'
import Enter from './enter.js'
import Events from './events.js'
import Fs from './fs.js'
import Kubectl from './kubectl.js'
import Logs from './logs.js'
import Net from './net.js'
import Pod from './pod.js'
import ProbeClient from './probe-client.js'
import Pods from './pods.js'
import Ps from './ps.js'
import Report from './report.js'
import SandboxCreate from './sandbox/create.js'
import SandboxExec from './sandbox/exec.js'
import SandboxLs from './sandbox/ls.js'
import SandboxRm from './sandbox/rm.js'
import SandboxShim from './sandbox/shim.js'
import Snapshot from './snapshot.js'
import Sockets from './sockets.js'
import Svc from './svc.js'
import Top from './top.js'
import Trace from './trace.js'
import WhyDns from './why/dns.js'
import WhyPod from './why/pod.js'
import WhySvc from './why/svc.js'

export const COMMANDS = {
  compare: Compare,
  conntrack: Conntrack,
  containers: Containers,
  doctor: Doctor,
  enter: Enter,
  events: Events,
  fs: Fs,
  kubectl: Kubectl,
  logs: Logs,
  net: Net,
  pod: Pod,
  'probe-client': ProbeClient,
  pods: Pods,
  ps: Ps,
  report: Report,
  'sandbox:create': SandboxCreate,
  'sandbox:exec': SandboxExec,
  'sandbox:ls': SandboxLs,
  'sandbox:rm': SandboxRm,
  'sandbox:shim': SandboxShim,
  snapshot: Snapshot,
  sockets: Sockets,
  svc: Svc,
  top: Top,
  trace: Trace,
  'why:dns': WhyDns,
  'why:pod': WhyPod,
  'why:svc': WhySvc,
}
