import {Flags} from '@oclif/core'
import {NodedocCommand} from '../../src/cli/base-command.js'
import {CGROUP_DRIVERS, type SandboxCreateFlags, answerSandboxCreate} from '../../src/cli/sandbox-create.js'
import {ISOLATIONS} from '../../src/sandbox/plan.js'
import {DEFAULT_POD_CIDR} from '../../src/sandbox/service.js'

export default class SandboxCreate extends NodedocCommand {
  static summary = 'Build a reference pod from Linux primitives: pause process, namespaces, pivot_root, cgroups, veth, CRI logs'
  static description = 'Every artifact is written to /run/nodedoc/sandboxes/<name>/state.json before it is made; a failure or Ctrl-C removes everything again.'
  static examples = [
    '<%= config.bin %> sandbox create -f pod.yaml',
    '<%= config.bin %> sandbox create -f greedy-pod.yaml --name greedy --explain',
    '<%= config.bin %> sandbox create -f pod.yaml --isolation chroot   # the weak way, on purpose',
    '<%= config.bin %> sandbox create -f pod.yaml --dry-run              # print the steps only',
  ]
  static flags = {
    filename: Flags.string({char: 'f', description: 'Pod manifest (YAML or JSON)', required: true}),
    name: Flags.string({description: 'sandbox (and pod) name; default metadata.name'}),
    explain: Flags.boolean({description: 'print each primitive step as it runs: the command and why'}),
    'dry-run': Flags.boolean({description: 'print the steps without running them'}),
    isolation: Flags.string({description: 'how much of a pod to build (chroot and unshare are weaker on purpose)', options: ISOLATIONS, default: 'full'}),
    rootfs: Flags.string({description: 'the image: a directory, "busybox" (busybox-static) or "host" (the host binaries the pod runs, with their ldd libraries); default busybox when installed, else host'}),
    'pod-cidr': Flags.string({description: 'range pod IPs come from', default: DEFAULT_POD_CIDR}),
    'cgroup-driver': Flags.string({description: 'cgroup naming: kubepods/burstable/pod<uid> or kubepods.slice/...', options: CGROUP_DRIVERS, default: 'cgroupfs'}),
    uid: Flags.string({description: 'pod UID (default: a random one, as the API server gives)'}),
    'pod-pids-limit': Flags.integer({description: "pids.max for the pod cgroup (the kubelet's podPidsLimit)", min: 1}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SandboxCreate)
    // the launcher's direct path (src/cli/direct-sandbox.ts) runs the same body without oclif
    await answerSandboxCreate(flags as SandboxCreateFlags)
  }
}
