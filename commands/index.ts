// Explicit command registry: oclif loads this one file instead of scanning a folder.
export const COMMANDS = {}
