import {Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {runChecks, selectChecks} from '../src/doctor/doctor.js'
import {CHECKS} from '../src/doctor/registry.js'
import {CHECK_LIST, renderDoctor} from '../src/doctor/render.js'

export default class Doctor extends NodedocCommand {
  static summary = 'Checks the node the way a kubelet needs it: PASS, WARN, FAIL or SKIP per check, with the fix'
  static description = `Exit status 1 when any check FAILs. Checks: ${CHECKS.map((c) => c.id).join(', ')}. --check also takes an area: prereqs, kernel, runtime, pods, pressure, control-plane.`
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --check ip-forward --check bridge-nf-call-iptables', '<%= config.bin %> doctor --check pods -o json']

  static flags = {
    check: Flags.string({description: 'run only this check (id or area); repeat or comma-separate for more', multiple: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Doctor)
    const checks = selectChecks(flags.check)
    const host = await this.openHost(flags)
    const results = await runChecks(host, checks)
    await this.print(results, flags, renderDoctor, CHECK_LIST)
    if (results.some((r) => r.status === 'FAIL')) process.exitCode = 1
  }
}
