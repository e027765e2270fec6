// Explicit command registry: oclif loads this one file instead of scanning a folder.
import Logs from './logs.js'

export const COMMANDS = {logs: Logs}
