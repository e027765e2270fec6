import {Flags} from '@oclif/core'
import chalk from 'chalk'
import {NodedocCommand} from '../../src/cli/base-command.js'
import {interruptOn} from '../../src/interrupt.js'
import {NodedocError} from '../../src/errors.js'
import {escapeControl} from '../../src/output/escape.js'
import {describeOp} from '../../src/sandbox/plan.js'
import {DEFAULT_POD_CIDR, SandboxError, createSandbox} from '../../src/sandbox/service.js'
import {SANDBOX_DOCUMENT, createdTable} from '../../src/sandbox/render.js'
import {ISOLATIONS, type Isolation} from '../../src/sandbox/plan.js'

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
    'cgroup-driver': Flags.string({description: 'cgroup naming: kubepods/burstable/pod<uid> or kubepods.slice/...', options: ['cgroupfs', 'systemd'], default: 'cgroupfs'}),
    uid: Flags.string({description: 'pod UID (default: a random one, as the API server gives)'}),
    'pod-pids-limit': Flags.integer({description: "pids.max for the pod cgroup (the kubelet's podPidsLimit)", min: 1}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SandboxCreate)
    const failStep = process.env.NODEDOC_SANDBOX_FAIL_STEP ? Number(process.env.NODEDOC_SANDBOX_FAIL_STEP) : undefined
    const holdStep = process.env.NODEDOC_SANDBOX_HOLD_STEP ? Number(process.env.NODEDOC_SANDBOX_HOLD_STEP) : undefined
    // every way this process can be told to stop, and an error nobody caught, rolls back
    // everything made so far; only SIGKILL cannot, and `sandbox ls` then says `interrupted`
    const interrupt = interruptOn({uncaught: true})
    const explain = flags.explain || flags['dry-run']
    try {
      const {state, plan} = await createSandbox({
        manifestPath: flags.filename,
        name: flags.name,
        isolation: flags.isolation as Isolation,
        rootfs: flags.rootfs,
        podCidr: flags['pod-cidr'],
        cgroupDriver: flags['cgroup-driver'] as 'cgroupfs' | 'systemd',
        podPidsLimit: flags['pod-pids-limit'] ?? null,
        podUid: flags.uid,
        failStep,
        holdStep,
        dryRun: flags['dry-run'],
        aborted: () => interrupt.signal.aborted,
        onStep: explain ? (step, n, op) => this.printAside(`${chalk.bold(`[${n}] ${step.id}`)}  ${chalk.dim(step.why)}\n    $ ${escapeControl(describeOp(op))}\n`) : undefined,
        onWarning: (m) => this.warnNow(m),
      })
      if (flags['dry-run']) return
      await this.print({...state, steps: undefined, plan: undefined, stepCount: plan.steps.length}, flags, () => createdTable(state, plan), SANDBOX_DOCUMENT)
    } catch (error) {
      // a signal says itself in the exit code (129 HUP, 130 INT, 141 closed output, 143 TERM)
      if (error instanceof SandboxError && interrupt.cause) {
        const why = interrupt.cause === 'uncaught error' ? ` (stopped by an uncaught error: ${(interrupt.error as Error)?.message ?? String(interrupt.error)})` : ''
        throw new NodedocError(error.message + why, interrupt.exitCode)
      }
      throw error
    } finally {
      interrupt.dispose()
    }
  }
}
