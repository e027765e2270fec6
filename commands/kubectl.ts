import {randomBytes} from 'node:crypto'
import {Args, Flags} from '@oclif/core'
import * as YAML from 'yaml'
import {NodedocBase} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {runKubectl} from '../src/write/kubectl.js'
import {DEFAULT_NAMESPACE, debugPod, defaultImage, kubectlSteps} from '../src/kubectl/debug-pod.js'
import {shellLine} from '../src/output/shell-line.js'

export default class Kubectl extends NodedocBase {
  static summary = 'Run one nodedoc command on a cluster node through a debug pod (the kubectl plugin: kubectl nodedoc NODE -- CMD)'
  static description = 'Creates a pod on NODE like `kubectl debug node/NODE --profile=sysadmin` (host PID and network, privileged, the node\'s root read-only at /host), runs `nodedoc CMD --host-root /host` in it, streams its output, exits with its exit code and deletes the pod, also on failure or Ctrl-C. Installed as kubectl-nodedoc, it is `kubectl nodedoc`. --dry-run prints the pod and the kubectl command lines instead.'
  static examples = [
    'kubectl nodedoc worker-1 -- pod core-k8s -n default',
    'kubectl nodedoc worker-1 -- svc kube-dns -n kube-system -o json',
    '<%= config.bin %> kubectl node/worker-1 --image registry.example/nodedoc:0.1.0 -- doctor',
    '<%= config.bin %> kubectl worker-1 --dry-run -- ps -A',
  ]
  // the flags after "--" belong to the nodedoc command inside the pod
  static strict = false
  static args = {node: Args.string({description: 'the node (NAME or node/NAME)', required: true})}
  static flags = {
    image: Flags.string({description: 'the nodedoc image (npm run build:image); default localhost/nodedoc:VERSION'}),
    'pod-namespace': Flags.string({description: 'namespace for the debug pod', default: DEFAULT_NAMESPACE}),
    context: Flags.string({description: 'kubeconfig context, passed to kubectl'}),
    kubeconfig: Flags.string({description: 'kubeconfig file, passed to kubectl'}),
    'dry-run': Flags.boolean({description: 'print the pod manifest and the kubectl command lines, run nothing'}),
  }

  async run(): Promise<void> {
    const {args, argv, flags} = await this.parse(Kubectl)
    const node = args.node.replace(/^node\//, '')
    const command = (argv as string[]).slice(1)
    if (command.length === 0) throw new NodedocError('no nodedoc command given: kubectl nodedoc NODE -- COMMAND [ARGS...] (e.g. -- pod core-k8s -n default)')
    const pod = debugPod({
      node,
      command,
      image: flags.image ?? defaultImage(this.config.version),
      namespace: flags['pod-namespace'],
      suffix: randomBytes(3).toString('hex'),
    })
    const extra = [...(flags.context ? ['--context', flags.context] : []), ...(flags.kubeconfig ? ['--kubeconfig', flags.kubeconfig] : [])]
    const steps = kubectlSteps(pod, 'kubectl', extra)
    if (flags['dry-run']) {
      this.printText(YAML.stringify(pod, {lineWidth: 0}) + [...steps.run, steps.cleanup].map((s) => `# ${s.why}: ${shellLine(s.argv)}${s.stdin ? ' <<< "$POD_JSON"' : ''}\n`).join(''))
      return
    }
    const code = await runKubectl(steps.run, steps.cleanup)
    process.exitCode = /^\d+$/.test(code) ? Number(code) : 1
  }
}
