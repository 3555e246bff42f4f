import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, mkdtempSync, open as openAsync, openSync, readFileSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, DROPPED_LINES_READER, loggingStats } from '../src/index'
import { capture } from './helpers'

// The child apps whose stdout is closed, full or never read (and their exit-time bounds) are a
// load suite: load/stdout-victims.ts, run alone after every package's tests.

const cwd = join(__dirname, '..')

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a file destination: lines are batched, written in order, flushed by logger.flush and on exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-logging-dest-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'app.log')
  const log = createLogger({ destination: file })
  for (let i = 0; i < 1000; i++) log.info({ i }, 'line')
  t.equal(readFileSync(file, 'utf8'), '', 'nothing written synchronously: lines wait for the next turn of the event loop')
  await new Promise<void>((resolve) => log.flush(() => resolve()))
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { i: number })
  t.same(lines.map((line) => line.i), Array.from({ length: 1000 }, (_, i) => i))
  t.same(loggingStats(log), { written: 1000, dropped: 0, buffered: 0, failed: null, otlpExported: 0, otlpDropped: 0, otlpFailed: 0, otlpQueued: 0 })
  t.same(loggingStats(log.child({ a: 1 })), loggingStats(log), 'children report their parent destination')
  t.equal(loggingStats(createLogger({ destination: capture() })), undefined, 'a stream you pass has no stats')

  const onExit = join(dir, 'exit.log')
  const child = spawn(process.execPath, ['-e', `
    const { createLogger } = require('@o11y/logging')
    const log = createLogger({ destination: ${JSON.stringify(onExit)} })
    log.info('first')
    log.fatal('last words')
    process.exit(3)
  `], { cwd, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  t.equal(code, 3)
  t.same(readFileSync(onExit, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { message: string }).message), ['first', 'last words'], 'process.exit() still writes the queued lines')
})

t.test('a file and /dev/null are written on the main thread: a thread pool held by other work does not hold the lines back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-logging-pool-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // Every libuv thread-pool thread is taken by an open() of a FIFO that has no writer yet: a
  // thread-pool write would wait until they are released.
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
  const fifos = Array.from({ length: poolSize }, (_, i) => join(dir, `held-${i}`))
  const held = fifos.map((fifo) => {
    execFileSync('mkfifo', [fifo])
    return new Promise<number>((resolve, reject) => openAsync(fifo, 'r', (error, fd) => { if (error === null) resolve(fd); else reject(error) }))
  })
  // Released whatever the assertions say, before the directory goes.
  t.teardown(async () => {
    const writers = fifos.map((fifo) => openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK))
    for (const fd of [...writers, ...await Promise.all(held)]) closeSync(fd)
  })
  await sleep(50)

  const file = join(dir, 'app.log')
  const toFile = createLogger({ destination: file })
  const toNull = createLogger({ destination: '/dev/null' })
  const nullFd = openSync('/dev/null', 'w')
  t.teardown(() => closeSync(nullFd))
  const toNullFd = createLogger({ destination: nullFd })
  for (let i = 0; i < 100; i++) {
    toFile.info({ i }, 'pool held')
    toNull.info({ i }, 'pool held')
    toNullFd.info({ i }, 'pool held')
  }
  t.equal(readFileSync(file, 'utf8'), '', 'still batched: nothing written before the next turn')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { i: number }).i), Array.from({ length: 100 }, (_, i) => i),
    'the file has every line one turn later, in order, with the thread pool still busy')
  t.same([loggingStats(toNull)?.written, loggingStats(toNull)?.buffered], [100, 0], '/dev/null by path: written')
  t.same([loggingStats(toNullFd)?.written, loggingStats(toNullFd)?.buffered], [100, 0], '/dev/null by fd: written')
})

t.test('a failing device: the write error stops the logger, the caller never sees it, drops are counted process-wide', async (t) => {
  const reader = (globalThis as unknown as Record<symbol, () => number>)[Symbol.for(DROPPED_LINES_READER)]
  t.equal(typeof reader, 'function', 'the documented global reader exists once the package is loaded')
  const before = reader!()
  for (const sync of [false, true]) {
    const log = createLogger({ destination: openSync('/dev/full', 'w'), sync })
    t.doesNotThrow(() => { for (let i = 0; i < 10; i++) log.info({ i }, 'no space') })
    await new Promise<void>((resolve) => log.flush(() => resolve()))
    await new Promise((resolve) => setImmediate(resolve))
    log.info('after the failure')
    const s = loggingStats(log)!
    t.same([s.written, s.dropped, s.failed], [0, 11, 'ENOSPC'], `${sync ? 'sync' : 'async'}: all lines dropped and counted`)
  }
  t.equal(reader!() - before, 22, 'the global reader counts them too')
})

t.test('the buffer bound: lines beyond maxBufferLength are dropped whole, the queued ones are written in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-logging-bound-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'bound.log')
  const log = createLogger({ destination: file, maxBufferLength: 64 * 1024 })
  const pad = 'p'.repeat(900)
  for (let i = 0; i < 200; i++) log.info({ i, pad }, 'burst')
  await new Promise<void>((resolve) => log.flush(() => resolve()))
  const written = readFileSync(file, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { i: number }).i)
  const s = loggingStats(log)!
  t.comment(`burst of 200 lines of ~1 KB into a 64 Ki buffer: ${s.written} written, ${s.dropped} dropped`)
  t.ok(s.dropped > 0 && s.written > 0)
  t.equal(s.written + s.dropped, 200)
  t.same(written, Array.from({ length: s.written }, (_, i) => i), 'drop-newest: the first lines, in order, each whole')
})

t.test('a slow reader on a non-blocking pipe (EAGAIN): writes are retried, nothing lost, nothing blocks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-logging-fifo-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const sync of [false, true]) {
    const fifo = join(dir, `pipe-${String(sync)}`)
    execFileSync('mkfifo', [fifo])
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
    const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
    t.teardown(() => { closeSync(readFd); closeSync(writeFd) })
    const log = createLogger({ destination: writeFd, sync })
    const pad = 'q'.repeat(500)
    const started = Date.now()
    for (let i = 0; i < 400; i++) log.info({ i, pad }, 'slow reader') // ~240 KB, more than a pipe holds
    const loggedMs = Date.now() - started
    await sleep(100)
    const stalled = loggingStats(log)!
    t.ok(stalled.buffered > 0, `${sync ? 'sync' : 'async'}: the pipe is full, ${stalled.buffered} lines wait (logging 400 lines took ${loggedMs} ms)`)
    t.equal(stalled.failed, null, 'EAGAIN is not a failure')
    // Read slowly until every line has arrived.
    let text = ''
    const chunk = Buffer.alloc(64 * 1024)
    const deadline = Date.now() + 15_000
    while (text.split('\n').length <= 400 && Date.now() < deadline) {
      try {
        const n = readSync(readFd, chunk, 0, chunk.length, null)
        text += chunk.subarray(0, n).toString()
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
      }
      await sleep(20)
    }
    const got = text.trim().split('\n').map((line) => (JSON.parse(line) as { i: number }).i)
    t.same(got, Array.from({ length: 400 }, (_, i) => i), 'every line arrives, in order, whole')
    t.same(loggingStats(log), { written: 400, dropped: 0, buffered: 0, failed: null, otlpExported: 0, otlpDropped: 0, otlpFailed: 0, otlpQueued: 0 })
  }
})
