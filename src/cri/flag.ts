import {Flags} from '@oclif/core'
import {socketPathOf} from '../host/cri-endpoint.js'

/** -r/--runtime-endpoint, as crictl spells it (and its CONTAINER_RUNTIME_ENDPOINT variable). */
export const runtimeEndpointFlag = Flags.string({
  char: 'r',
  description: "CRI socket to ask, e.g. unix:///run/containerd/containerd.sock (default: crictl's order: containerd, CRI-O, cri-dockerd); host files alone when none answers",
  env: 'CONTAINER_RUNTIME_ENDPOINT',
  // a tcp:// or npipe:// endpoint is refused before any work is done
  parse: async (input) => {
    socketPathOf(input)
    return input
  },
})
