import { closeSync, constants, fstatSync, openSync, write as fsWrite, writeSync } from 'node:fs'
import { isatty } from 'node:tty'
import { DROPPED_LINES_READER, MAX_RETRY_DELAY_MS } from './constants'
import { ERROR_CODES, emitLoggingWarning } from './errors'
import type { LoggingStats } from './types'

/**
 * The file-descriptor destination behind every logger that writes to stdout, stderr, an fd or a
 * file path.
 *
 * Why not pino.destination (SonicBoom): with no `maxLength` its buffer grows without bound while
 * nobody reads; an `ECONNRESET` on a closed stdout is emitted as an unhandled 'error' (only EPIPE
 * is filtered); and the exit handler's `flushSync` retries `write(1)` every 100 ms for as long as
 * it gets EAGAIN, so a process whose reader went away never exits. Here:
 *
 * - lines are queued and written in one `write(2)` per event-loop turn (setImmediate), one write
 *   in flight at a time, so a blocked pipe holds one thread-pool thread and nothing else;
 * - the queue is bounded (`maxBufferLength` characters, queued plus in flight): a line that does
 *   not fit is dropped whole (drop-newest: what is queued is still written in order when the
 *   reader resumes) and counted;
 * - EAGAIN is retried from an unref'd timer (it never keeps the process alive); any other write
 *   error (EPIPE, ECONNRESET, EBADF, ENOSPC, EIO ...) stops the destination for good: what is
 *   queued and every later line is dropped and counted, the app keeps serving;
 * - on exit, queued lines are written with at most one synchronous attempt per partial write, and
 *   not at all while a write is still pending (the pipe is full): never a retry loop;
 * - a FIFO (a shell pipe, the stdout a container runtime gives) is reopened through
 *   /proc/self/fd/N as a second, non-blocking description of the same pipe (the process's own fd
 *   and anyone sharing it stay as they were): writes then never wait in the thread pool, a full
 *   pipe answers EAGAIN, and a process whose stdout nobody reads can still end by itself;
 * - a regular file or a character device other than a terminal (/dev/null) is written on the main
 *   thread too, still one write per turn: such a write does not wait for a reader, and handing it
 *   to the thread pool cost more than the write itself (a thread wake-up per batch, the callback).
 *   Terminals keep the thread pool: a terminal stopped by flow control (Ctrl-S) blocks a write.
 */

/**
 * What `fd` is, from one fstat: a FIFO (a twin may be opened), a file or device whose writes never
 * wait for anyone (a regular file, a character device that is not a terminal: /dev/null,
 * /dev/full), or anything else (a terminal, a socket, an fd that cannot be inspected).
 */
function fdKind (fd: number): 'fifo' | 'never-waits' | 'other' {
  try {
    const stats = fstatSync(fd)
    if (stats.isFIFO()) return 'fifo'
    return stats.isFile() || (stats.isCharacterDevice() && !isatty(fd)) ? 'never-waits' : 'other'
  } catch (_error) {
    // o11y-gate-ignore error-observed: an fd that cannot be inspected keeps the thread-pool writes, as before
    return 'other'
  }
}

/**
 * A non-blocking description of the FIFO `fd`, or null (no /proc, no reader).
 * Sockets are no FIFO and keep the thread-pool writes.
 */
function nonBlockingTwin (fd: number): number | null {
  try {
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (_error) {
    // o11y-gate-ignore error-observed: no twin is the normal case off Linux; the fd is used as it is
    return null
  }
}

interface DroppedReader {
  (): number
  totals: { dropped: number }
}

/**
 * A process-wide reader of the number of dropped lines, shared by every copy of this package
 * loaded in the process (documented in the README: `globalThis[Symbol.for('o11y.logging.dropped')]()`).
 */
function sharedTotals (): { dropped: number } {
  const holder = globalThis as unknown as Record<symbol, DroppedReader | undefined>
  const key = Symbol.for(DROPPED_LINES_READER)
  let reader = holder[key]
  if (typeof reader !== 'function' || typeof reader.totals !== 'object') {
    const totals = { dropped: 0 }
    reader = Object.assign(function o11yLoggingDroppedLines () { return totals.dropped }, { totals })
    Object.defineProperty(globalThis, key, { value: reader, configurable: true, writable: true, enumerable: false })
  }
  return reader.totals
}

const totals = sharedTotals()

const live = new Set<WeakRef<LineDestination>>()
const registry = new FinalizationRegistry<WeakRef<LineDestination>>((ref) => { live.delete(ref) })
let exitHookInstalled = false

function flushAllOnExit (): void {
  for (const ref of live) ref.deref()?.flushOnExit()
}

export interface LineDestinationOptions {
  /** File descriptor to write to, or a path opened for appending. */
  target: number | string
  /** `true`: write each line synchronously (still bounded, same error handling). */
  sync: boolean
  /** Largest number of characters queued and in flight; a line beyond it is dropped. */
  maxBufferLength: number
  /** Logger name, for warnings. */
  name: string
}

export class LineDestination {
  private readonly fd: number
  private readonly ownsFd: boolean
  private readonly sync: boolean
  /** Write on the main thread: `sync`, a non-blocking FIFO twin, or a file or device that never waits. */
  private readonly direct: boolean
  private readonly max: number
  private readonly name: string
  private queue: string[] = []
  private queuedLength = 0
  /** Bytes of the chunk being written (the rest after a partial write), or null. */
  private inFlight: Buffer | null = null
  private inFlightLines = 0
  private inFlightLength = 0
  private scheduled = false
  private retryDelay = 0
  private retryTimer: NodeJS.Timeout | null = null
  private waiting: Array<(err?: Error) => void> = []
  private written = 0
  private dropped = 0
  private failure: NodeJS.ErrnoException | null = null
  private warnedDrop = false

  constructor (options: LineDestinationOptions) {
    this.sync = options.sync
    this.max = options.maxBufferLength
    this.name = options.name
    let twin: number | null = null
    let kind: ReturnType<typeof fdKind>
    if (typeof options.target === 'number') {
      kind = fdKind(options.target)
      twin = kind === 'fifo' ? nonBlockingTwin(options.target) : null
      this.fd = twin ?? options.target
      this.ownsFd = twin !== null
    } else {
      this.fd = openSync(options.target, 'a')
      this.ownsFd = true
      kind = fdKind(this.fd)
    }
    this.direct = this.sync || twin !== null || kind === 'never-waits'
    const ref = new WeakRef(this)
    live.add(ref)
    registry.register(this, ref)
    if (!exitHookInstalled) {
      exitHookInstalled = true
      process.on('exit', flushAllOnExit)
    }
  }

  /** Called by pino with one serialized line (ending in a newline). Never throws. */
  write (line: string): boolean {
    if (this.failure !== null) {
      this.drop(1)
      return true
    }
    const length = line.length
    if (this.queuedLength + this.inFlightLength + length > this.max) {
      this.drop(1)
      if (!this.warnedDrop) {
        this.warnedDrop = true
        emitLoggingWarning(ERROR_CODES.DROPPED,
          `logger "${this.name}": the log destination is not keeping up (more than ${this.max} characters waiting); lines are dropped and counted (loggingStats(logger).dropped)`)
      }
      return true
    }
    this.queue.push(line)
    this.queuedLength += length
    if (this.inFlight !== null) return true
    if (this.sync) {
      this.take()
      this.writeNowSync()
    } else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushQueued)
    }
    return true
  }

  /** pino's `logger.flush(cb)`: calls back once everything queued is written, or dropped. */
  flush (cb?: (err?: Error) => void): void {
    const done = cb ?? noop
    if (this.failure !== null || (this.inFlight === null && this.queue.length === 0)) {
      done()
      return
    }
    this.waiting.push(done)
    if (this.inFlight === null && !this.sync) this.flushQueued()
  }

  stats (): Pick<LoggingStats, 'written' | 'dropped' | 'buffered' | 'failed'> {
    return {
      written: this.written,
      dropped: this.dropped,
      buffered: this.queue.length + this.inFlightLines,
      failed: this.failure === null ? null : (this.failure.code ?? this.failure.message)
    }
  }

  /** Synchronous, at process exit: one attempt, no retry, nothing while a write is pending. */
  flushOnExit (): void {
    if (this.failure !== null || this.queue.length === 0) return
    if (this.inFlight !== null) {
      this.drop(this.queue.length)
      this.queue = []
      this.queuedLength = 0
      return
    }
    this.take()
    const chunk = this.inFlight as Buffer | null
    if (chunk === null) return
    let offset = 0
    try {
      while (offset < chunk.length) offset += writeSync(this.fd, chunk, offset)
      this.written += this.inFlightLines
    } catch (_error) {
      // o11y-gate-ignore error-observed: the process is exiting; the lines are counted as dropped
      this.drop(this.inFlightLines)
    }
    this.inFlight = null
    this.inFlightLines = 0
    this.inFlightLength = 0
  }

  private drop (lines: number): void {
    this.dropped += lines
    totals.dropped += lines
  }

  /** Moves the queue into one chunk in flight. */
  private take (): void {
    const queue = this.queue
    this.inFlight = Buffer.from(queue.length === 1 ? queue[0] as string : queue.join(''))
    this.inFlightLines = queue.length
    this.inFlightLength = this.queuedLength
    this.queue = []
    this.queuedLength = 0
  }

  private readonly flushQueued = (): void => {
    this.scheduled = false
    if (this.failure !== null || this.inFlight !== null || this.queue.length === 0) return
    this.take()
    if (this.direct) this.writeNowSync()
    else this.writeAsync()
  }

  private writeAsync (): void {
    const chunk = this.inFlight as Buffer
    fsWrite(this.fd, chunk, 0, chunk.length, null, this.onWritten)
  }

  private readonly onWritten = (error: NodeJS.ErrnoException | null, bytes: number): void => {
    if (error !== null) {
      if (error.code === 'EAGAIN') this.retryLater()
      else this.fail(error)
      return
    }
    this.retryDelay = 0
    const chunk = this.inFlight as Buffer
    if (bytes < chunk.length) {
      this.inFlight = chunk.subarray(bytes)
      this.writeAsync()
      return
    }
    this.completed()
    if (this.queue.length !== 0) this.flushQueued()
    else this.settle()
  }

  private writeNowSync (): void {
    let chunk = this.inFlight as Buffer
    try {
      while (chunk.length > 0) {
        const bytes = writeSync(this.fd, chunk)
        chunk = chunk.subarray(bytes)
      }
    } catch (error) {
      this.inFlight = chunk
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') this.retryLater()
      else this.fail(error as NodeJS.ErrnoException)
      return
    }
    this.retryDelay = 0
    this.completed()
    this.settle()
  }

  private completed (): void {
    this.written += this.inFlightLines
    this.inFlight = null
    this.inFlightLines = 0
    this.inFlightLength = 0
  }

  /** EAGAIN (a non-blocking fd whose reader is slow): try again later, without keeping the process alive. */
  private retryLater (): void {
    this.retryDelay = Math.min(MAX_RETRY_DELAY_MS, this.retryDelay === 0 ? 1 : this.retryDelay * 2)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (this.failure !== null) return
      // Lines queued meanwhile join the retried chunk: one write, order kept.
      if (this.queue.length !== 0) {
        const pending = this.inFlight as Buffer
        const lines = this.inFlightLines
        const length = this.inFlightLength
        this.take()
        this.inFlight = Buffer.concat([pending, this.inFlight as Buffer])
        this.inFlightLines += lines
        this.inFlightLength += length
      }
      if (this.direct) this.writeNowSync()
      else this.writeAsync()
    }, this.retryDelay)
    this.retryTimer.unref()
  }

  private fail (error: NodeJS.ErrnoException): void {
    this.failure = error
    this.drop(this.inFlightLines + this.queue.length)
    this.queue = []
    this.queuedLength = 0
    this.inFlight = null
    this.inFlightLines = 0
    this.inFlightLength = 0
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    if (this.ownsFd) {
      try {
        closeSync(this.fd)
      } catch (_error) {
        // o11y-gate-ignore error-observed: the destination already failed and says so in the warning below
      }
    }
    emitLoggingWarning(ERROR_CODES.WRITE_FAILED,
      `logger "${this.name}": writing log lines failed (${error.code ?? error.message}); this logger writes nothing from now on, its lines are dropped and counted (loggingStats(logger).dropped), the application keeps running`)
    this.settle()
  }

  private settle (): void {
    if (this.waiting.length === 0) return
    const waiting = this.waiting
    this.waiting = []
    for (const cb of waiting) cb()
  }
}

function noop (): void {}
