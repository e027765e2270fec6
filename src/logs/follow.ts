import {type Host, hostPath} from '../host/host.js'
import {readGzipBytes} from '../host/gzip.js'
import {CriLogJoiner, type LogEntry} from '../parse/cri-log.js'
import {type PodLogFile, compareLogFiles, parseLogFileName} from '../parse/log-files.js'

export interface FollowOptions {
  pollMs: number
  signal?: AbortSignal
  emit: (entry: LogEntry) => void
  onBadLine?: (path: string, message: string) => void
}

const NEWLINE = 0x0a

/**
 * `logs -f` on files: polls the live `<restart>.log` through the Host. When its inode changes
 * the kubelet rotated it: the rest of the old file is read from the renamed `.log.<stamp>`
 * (or its `.gz`), then the new file from byte 0. A newer restart's file takes over once it appears.
 */
export class LogFollower {
  private ino: number | undefined
  private offset = 0

  constructor(
    private readonly host: Host,
    private readonly containerDir: string,
    private restart: number,
    private readonly joiner: CriLogJoiner,
    private readonly options: FollowOptions,
  ) {}

  private get livePath(): string {
    return hostPath(this.containerDir, `${this.restart}.log`)
  }

  /** Reads the live file from byte 0 (whole lines only) and remembers where it stopped. */
  async start(): Promise<void> {
    const s = await this.host.stat(this.livePath)
    this.ino = s?.ino
    this.offset = 0
    if (s) await this.readFrom(this.livePath, undefined)
  }

  async run(): Promise<void> {
    while (!this.options.signal?.aborted) {
      await sleep(this.options.pollMs, this.options.signal)
      if (this.options.signal?.aborted) break
      await this.poll()
    }
  }

  async poll(): Promise<void> {
    const s = await this.host.stat(this.livePath)
    if (this.ino !== undefined && (!s || s.ino !== this.ino)) {
      await this.drainRotated()
      this.ino = s?.ino
      this.offset = 0
    } else if (s && this.ino === undefined) {
      this.ino = s.ino
      this.offset = 0
    } else if (s && s.size < this.offset) {
      // truncated in place (copytruncate): start over
      this.offset = 0
    }
    if (s) await this.readFrom(this.livePath, undefined)
    await this.switchToNewerRestart()
  }

  private async rotatedFiles(): Promise<PodLogFile[]> {
    const files: PodLogFile[] = []
    for (const entry of (await this.host.readDir(this.containerDir)) ?? []) {
      const name = parseLogFileName(entry.name)
      if (!name || name.rotatedAt === null || name.restart !== this.restart) continue
      files.push({...name, path: hostPath(this.containerDir, entry.name), sizeBytes: 0, mtimeMs: 0})
    }
    return files.sort(compareLogFiles)
  }

  /** The old live file, now renamed: same inode if still plain, else the newest rotated file. */
  private async drainRotated(): Promise<void> {
    const rotated = await this.rotatedFiles()
    for (const file of rotated.filter((f) => !f.compressed)) {
      const s = await this.host.stat(file.path)
      if (s?.ino === this.ino) return this.readFrom(file.path, undefined, true)
    }
    const newest = rotated.at(-1)
    if (!newest) return
    if (!newest.compressed) return this.readFrom(newest.path, undefined, true)
    const data = await readGzipBytes(this.host, newest.path)
    if (data !== undefined) await this.readFrom(newest.path, data, true)
  }

  private async switchToNewerRestart(): Promise<void> {
    let newer: number | undefined
    for (const entry of (await this.host.readDir(this.containerDir)) ?? []) {
      const name = parseLogFileName(entry.name)
      if (name && name.rotatedAt === null && name.restart > this.restart && (newer === undefined || name.restart > newer)) newer = name.restart
    }
    if (newer === undefined) return
    this.restart = newer
    this.ino = undefined
    this.offset = 0
    // the container restarted: its last unfinished fragments will never be closed
    for (const entry of this.joiner.flush()) this.options.emit(entry)
    await this.start()
  }

  /** Whole lines from this.offset on; a line still being written waits for the next poll. */
  private async readFrom(path: string, given: Buffer | undefined, toEnd = false): Promise<void> {
    const data = given ?? (this.host.readBytes ? await this.host.readBytes(path) : Buffer.from((await this.host.readFile(path)) ?? '', 'utf8'))
    if (!data || data.length <= this.offset) return
    const chunk = data.subarray(this.offset)
    const lastNewline = chunk.lastIndexOf(NEWLINE)
    // a rotated file is finished: its last line counts even without a newline
    const end = toEnd ? chunk.length : lastNewline + 1
    if (end <= 0) return
    this.offset += end
    this.joiner.startFile()
    const before = this.joiner.bad.length
    const entries: LogEntry[] = []
    this.joiner.pushAll(chunk.subarray(0, end), entries)
    for (const entry of entries) this.options.emit(entry)
    for (const b of this.joiner.bad.slice(before)) this.options.onBadLine?.(path, b.message)
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, {once: true})
  })
}
