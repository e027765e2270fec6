// Host.stream: a program's stdout handed over as bytes while it writes, past execa's 100 MB
// buffer, up to a cap that stops the program; recorded into a snapshot as run() records it, and
// replayed from one. Real programs (head, printf) run from a folder of scripts this test makes.
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {OutputTooLargeError, runStream} from '../../../src/host/host.js'
import {LiveHost} from '../../../src/host/live.js'
import {RecordingHost} from '../../../src/host/recording.js'
import {commandFileName} from '../../../src/host/snapshot-layout.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const work = tempFolder('nd-stream-')

/** A program of ours: a script in the work folder, run by its path. */
function program(name: string, body: string): string {
  const path = join(work, name)
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

const MiB = 1024 * 1024

describe('LiveHost.stream', () => {
  it('hands over 110 MiB piece by piece, more than execa buffers for run()', async () => {
    const big = program('big', `exec head -c ${110 * MiB} /dev/zero`)
    let bytes = 0
    let pieces = 0
    const result = await new LiveHost().stream([big], (piece) => {
      bytes += piece.length
      pieces++
    }, {maxBytes: 256 * MiB})
    expect(result).toEqual({stderr: '', exitCode: 0})
    expect(bytes).toBe(110 * MiB)
    expect(pieces).toBeGreaterThan(100)
  }, 60_000)

  it('stops a program that prints past the cap, and says so in one line naming it', async () => {
    const endless = program('endless', 'exec yes -- "-A KUBE-SERVICES -j RETURN"')
    let bytes = 0
    const started = Date.now()
    const reading = new LiveHost().stream([endless], (piece) => {
      bytes += piece.length
    }, {maxBytes: 4 * MiB})
    await expect(reading).rejects.toThrow(OutputTooLargeError)
    await expect(reading).rejects.toThrow(`${endless} printed more than 4 MiB: nodedoc reads at most that much of a program's output`)
    expect(bytes).toBeLessThanOrEqual(4 * MiB)
    expect(Date.now() - started).toBeLessThan(10_000)
  }, 30_000)

  it('a program that is not there: undefined, as run() says it', async () => {
    expect(await new LiveHost().stream([join(work, 'absent')], () => undefined, {maxBytes: MiB})).toBeUndefined()
  })
})

describe('a snapshot of a streamed run', () => {
  it('holds what run() would have recorded, and replays the same bytes and exit', async () => {
    const failing = program('failing', 'printf "one\\ntwo\\n"; printf "bad\\n\\n" >&2; exit 3')
    const argv = [failing, '-x']
    const viaRun = await RecordingHost.create(new LiveHost(), join(work, 'by-run'))
    const ran = await viaRun.run(argv)
    const viaStream = await RecordingHost.create(new LiveHost(), join(work, 'by-stream'))
    const pieces: Buffer[] = []
    const streamed = await viaStream.stream(argv, (piece) => pieces.push(piece), {maxBytes: MiB})
    expect(Buffer.concat(pieces).toString()).toBe('one\ntwo\n')
    expect(streamed).toEqual({stderr: ran!.stderr, exitCode: 3})
    const meta = {format: 1, hostname: 'test', kernel: 'test', capturedAt: new Date(0).toISOString(), nodedocVersion: 'test', hostRoot: '/'}
    await viaRun.finish(meta)
    await viaStream.finish(meta)
    const base = `cmd/${commandFileName(argv)}`
    for (const suffix of ['.out', '.err', '.exit']) {
      expect(readFileSync(join(work, 'by-stream', base + suffix), 'utf8'), suffix).toBe(readFileSync(join(work, 'by-run', base + suffix), 'utf8'))
    }
    const replay = await SnapshotHost.open(join(work, 'by-stream'))
    const replayed: Buffer[] = []
    expect(await runStream(replay, argv, (piece) => replayed.push(piece), {maxBytes: MiB})).toEqual({stderr: 'bad\n', exitCode: 3})
    // as run() gave it, and as the snapshot holds it: the final newline left out
    expect(Buffer.concat(replayed).toString()).toBe('one\ntwo')
    await expect(runStream(replay, argv, () => undefined, {maxBytes: 4})).rejects.toThrow(OutputTooLargeError)
  })
})
