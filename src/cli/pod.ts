// `nodedoc pod`'s work once its flags are parsed, shared by oclif's Pod class (commands/pod.ts)
// and the launcher's direct path (direct.ts): one body, so both answer alike.
import type {Host} from '../host/host.js'
import {NodedocError} from '../errors.js'
import {enrichPods} from '../cri/enrich.js'
import {criViewFor} from '../cri/gather.js'
import {findPod} from '../pods/pods.js'
import {POD_DOCUMENT, podNotFound, podTable} from '../pods/render.js'
import {type OutputFlags, printRecord} from './answer.js'

export interface PodArgs {
  name?: string
}

export interface PodFlags extends OutputFlags {
  namespace?: string
  uid?: string
  'runtime-endpoint'?: string
  'host-root'?: string
  from?: string
}

/** Finds the pod the arguments name and prints it; open gives the Host the flags name (and keeps it for the warnings). */
export async function answerPod(args: PodArgs, flags: PodFlags, open: (flags: PodFlags) => Promise<Host>): Promise<void> {
  if (!args.name && !flags.uid) throw new NodedocError('name a pod, or give --uid')
  const host = await open(flags)
  const lookup = await findPod(host, {name: args.name, namespace: flags.namespace, uid: flags.uid})
  if (lookup.kind !== 'found') throw new NodedocError(...podNotFound(lookup, args.name ?? flags.uid!, flags.namespace))
  const cri = await criViewFor(flags, host, {podUid: lookup.report.uid})
  await printRecord(host, cri ? enrichPods([lookup.report], cri)[0] : lookup.report, flags, podTable, POD_DOCUMENT)
}
