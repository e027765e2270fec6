// Linux capability numbers (include/uapi/linux/capability.h), to read CapEff masks by name.

export const CAPABILITY_NUMBERS: Record<string, number> = {
  chown: 0, dac_override: 1, dac_read_search: 2, fowner: 3, fsetid: 4, kill: 5, setgid: 6, setuid: 7, setpcap: 8,
  linux_immutable: 9, net_bind_service: 10, net_broadcast: 11, net_admin: 12, net_raw: 13, ipc_lock: 14, ipc_owner: 15,
  sys_module: 16, sys_rawio: 17, sys_chroot: 18, sys_ptrace: 19, sys_pacct: 20, sys_admin: 21, sys_boot: 22, sys_nice: 23,
  sys_resource: 24, sys_time: 25, sys_tty_config: 26, mknod: 27, lease: 28, audit_write: 29, audit_control: 30, setfcap: 31,
  mac_override: 32, mac_admin: 33, syslog: 34, wake_alarm: 35, block_suspend: 36, audit_read: 37, perfmon: 38, bpf: 39,
  checkpoint_restore: 40,
}

/** "CAP_NET_RAW" or "net_raw" -> a 16-hex-digit mask like /proc/<pid>/status prints. */
export function capabilityMask(names: string[]): string {
  let mask = 0n
  for (const name of names) {
    const n = CAPABILITY_NUMBERS[name.toLowerCase().replace(/^cap_/, '')]
    if (n !== undefined) mask |= 1n << BigInt(n)
  }
  return mask.toString(16).padStart(16, '0')
}

/** The names set in a mask, for explanations. */
export function capabilityNames(mask: string): string[] {
  const value = BigInt(`0x${mask}`)
  return Object.entries(CAPABILITY_NUMBERS).filter(([, n]) => (value >> BigInt(n)) & 1n).map(([name]) => name)
}
