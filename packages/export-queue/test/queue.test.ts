import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import * as core from '@opentelemetry/core'
import { isTracingSuppressed } from '@opentelemetry/core'
import t from 'tap'
import { BoundedExportQueue, ExportResultCode, type BatchExporter, type ExportQueueOptions, type ExportResult } from '../src/index'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

interface Item { n: number, resource?: { asyncAttributesPending?: boolean, waitForAsyncAttributes?: () => Promise<void> } }

const OPTIONS: ExportQueueOptions = { maxQueueSize: 10, maxExportBatchSize: 4, scheduledDelayMillis: 20, exportTimeoutMillis: 200 }
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** The queue's timers do not keep a process alive (by design); the test process needs to stay while it waits for one. */
async function awaitAlive<T> (p: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000)
  try {
    return await p
  } finally {
    clearInterval(hold)
  }
}

/** An exporter whose behaviour each test sets: answer now, later, never, with a failure, or throw. */
class TestExporter implements BatchExporter<Item> {
  batches: number[][] = []
  suppressed: boolean[] = []
  inFlight = 0
  maxInFlight = 0
  shutdowns = 0
  mode: 'ok' | 'fail' | 'failbare' | 'hang' | 'throw' | 'throwstring' | 'slow' | 'late' = 'ok'
  export (items: Item[], done: (result: ExportResult) => void): void {
    this.batches.push(items.map((i) => i.n))
    this.suppressed.push(isTracingSuppressed(context.active()))
    if (this.mode === 'throw') throw new Error('exporter broke')
    if (this.mode === 'throwstring') throw 'not an Error' // a careless exporter
    if (this.mode === 'hang') return
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    const answer = (): void => {
      this.inFlight--
      done(this.mode === 'fail' ? { code: ExportResultCode.FAILED, error: new Error('collector said 503') } : { code: ExportResultCode.SUCCESS })
    }
    if (this.mode === 'failbare') {
      setImmediate(() => { this.inFlight--; done({ code: ExportResultCode.FAILED }) })
      return
    }
    if (this.mode === 'slow') setTimeout(answer, 30)
    else if (this.mode === 'late') setTimeout(answer, 80).unref()
    else setImmediate(answer)
  }

  async shutdown (): Promise<void> { this.shutdowns++ }
}

t.test('ExportResultCode is @opentelemetry/core\'s own, re-exported for exporters written against the queue', async (t) => {
  t.equal(ExportResultCode, core.ExportResultCode)
  t.equal(ExportResultCode.SUCCESS, 0)
})

const items = (from: number, to: number): Item[] => Array.from({ length: to - from }, (_, i) => ({ n: from + i }))

t.test('a full batch goes at once, a partial one after the delay; every export runs with tracing suppressed', async (t) => {
  const exporter = new TestExporter()
  const queue = new BoundedExportQueue(exporter, OPTIONS)
  for (const item of items(0, 5)) queue.add(item)
  t.same(exporter.batches, [[0, 1, 2, 3]], 'the fourth item sent the first batch')
  t.equal(queue.queued, 1)
  await sleep(OPTIONS.scheduledDelayMillis * 3)
  t.same(exporter.batches, [[0, 1, 2, 3], [4]], 'the rest after scheduledDelayMillis')
  t.same(queue.counts, { exported: 5, dropped: 0, failed: 0 })
  t.same(exporter.suppressed, [true, true], 'the exporter\'s own calls are not traced')
})

t.test('a flood: the bound holds, drops are counted and reported once, one export in flight at a time', async (t) => {
  const exporter = new TestExporter()
  exporter.mode = 'slow'
  let drops = 0
  const queue = new BoundedExportQueue(exporter, OPTIONS, { onFirstDrop: () => { drops++ } })
  for (const item of items(0, 10_000)) queue.add(item)
  t.ok(queue.queued <= OPTIONS.maxQueueSize, `queued ${queue.queued} <= ${OPTIONS.maxQueueSize}`)
  t.equal(drops, 1, 'one report for thousands of drops')
  await queue.forceFlush()
  t.equal(exporter.maxInFlight, 1, 'never two exports at once')
  const { exported, dropped, failed } = queue.counts
  t.equal(exported + dropped + failed + queue.queued, 10_000, 'every item is accounted for')
  t.ok(dropped >= 10_000 - OPTIONS.maxQueueSize - OPTIONS.maxExportBatchSize, `dropped ${dropped}`)
  t.equal(failed, 0)
})

t.test('a hanging exporter: each export ends at its timeout, counted as failed, reported once', async (t) => {
  const exporter = new TestExporter()
  exporter.mode = 'hang'
  const reasons: string[] = []
  const queue = new BoundedExportQueue(exporter, { ...OPTIONS, exportTimeoutMillis: 50 }, { onFirstFailure: (r) => reasons.push(r) })
  for (const item of items(0, 8)) queue.add(item)
  const started = Date.now()
  await awaitAlive(queue.forceFlush())
  const took = Date.now() - started
  t.same(queue.counts, { exported: 0, dropped: 0, failed: 8 })
  t.ok(took < 1000, `two hung batches released in ${took} ms`)
  t.same(reasons, ['no answer within 50 ms'])
})

t.test('a refusing or throwing exporter: counted as failed, the caller never sees it', async (t) => {
  for (const mode of ['fail', 'failbare', 'throw', 'throwstring'] as const) {
    const exporter = new TestExporter()
    exporter.mode = mode
    const reasons: string[] = []
    const queue = new BoundedExportQueue(exporter, OPTIONS, { onFirstFailure: (r) => reasons.push(r) })
    for (const item of items(0, 6)) queue.add(item)
    await queue.forceFlush()
    t.same(queue.counts, { exported: 0, dropped: 0, failed: 6 }, mode)
    t.same(reasons, [mode === 'fail' ? 'collector said 503' : mode === 'failbare' ? 'export failed' : mode === 'throw' ? 'exporter broke' : 'not an Error'], mode)
  }
})

t.test('a throwing owner callback breaks neither the queue nor the caller', async (t) => {
  const exporter = new TestExporter()
  exporter.mode = 'fail'
  const queue = new BoundedExportQueue(exporter, { ...OPTIONS, maxQueueSize: 2 }, {
    onFirstDrop: () => { throw new Error('warning sink gone') },
    onFirstFailure: () => { throw new Error('warning sink gone') }
  })
  t.doesNotThrow(() => { for (const item of items(0, 50)) queue.add(item) })
  await queue.forceFlush()
  t.equal(queue.counts.dropped + queue.counts.failed, 50)
})

t.test('the export waits for detected resource attributes, within the same timeout', async (t) => {
  const exporter = new TestExporter()
  let resolve: () => void = () => {}
  const pending = new Promise<void>((r) => { resolve = r })
  const resource = { asyncAttributesPending: true, waitForAsyncAttributes: async () => await pending }
  const queue = new BoundedExportQueue(exporter, OPTIONS)
  for (const item of items(0, 4)) queue.add({ ...item, resource })
  await sleep(10)
  t.same(exporter.batches, [], 'nothing sent while the attributes are on their way')
  resolve()
  await queue.forceFlush()
  t.same(exporter.batches, [[0, 1, 2, 3]])

  const never = { asyncAttributesPending: true, waitForAsyncAttributes: async () => await new Promise<void>(() => {}) }
  const stuck = new BoundedExportQueue(new TestExporter(), { ...OPTIONS, exportTimeoutMillis: 50 })
  for (const item of items(0, 4)) stuck.add({ ...item, resource: never })
  await awaitAlive(stuck.forceFlush())
  t.same(stuck.counts, { exported: 0, dropped: 0, failed: 4 }, 'a detector that never answers costs one timeout')
})

t.test('shutdown flushes, shuts the exporter down once, then drops and counts what comes later', async (t) => {
  const exporter = new TestExporter()
  const queue = new BoundedExportQueue(exporter, OPTIONS)
  for (const item of items(0, 3)) queue.add(item)
  await queue.shutdown()
  await queue.shutdown()
  t.same(exporter.batches, [[0, 1, 2]])
  t.equal(exporter.shutdowns, 1)
  t.equal(queue.stopped, true)
  queue.add({ n: 99 })
  t.same(queue.counts, { exported: 3, dropped: 1, failed: 0 })
  t.equal(queue.queued, 0)
})

t.test('forceFlush drains what was queued when it was called, not what keeps coming', async (t) => {
  const exporter = new TestExporter()
  exporter.mode = 'slow'
  const queue = new BoundedExportQueue(exporter, { ...OPTIONS, maxQueueSize: 1000 })
  for (const item of items(0, 10)) queue.add(item)
  const flushed = queue.forceFlush()
  let n = 100
  const feeder = setInterval(() => { queue.add({ n: n++ }) }, 1)
  await flushed
  clearInterval(feeder)
  t.ok(exporter.batches.flat().filter((x) => x < 10).length === 10, 'the ten queued before the flush were exported')
})

t.test('an answer after the timeout changes nothing: the batch stays failed, counted once', async (t) => {
  const exporter = new TestExporter()
  exporter.mode = 'late'
  const queue = new BoundedExportQueue(exporter, { ...OPTIONS, exportTimeoutMillis: 30 })
  for (const item of items(0, 4)) queue.add(item)
  await awaitAlive(queue.forceFlush())
  await awaitAlive(sleep(100))
  t.same(queue.counts, { exported: 0, dropped: 0, failed: 4 })

  // Resource attributes that arrive after the timeout: the batch is not sent at all.
  let resolve: () => void = () => {}
  const late = new Promise<void>((r) => { resolve = r })
  const slowExporter = new TestExporter()
  const slow = new BoundedExportQueue(slowExporter, { ...OPTIONS, exportTimeoutMillis: 30 })
  for (const item of items(0, 4)) slow.add({ ...item, resource: { asyncAttributesPending: true, waitForAsyncAttributes: async () => await late } })
  await awaitAlive(slow.forceFlush())
  resolve()
  await sleep(10)
  t.same(slowExporter.batches, [], 'nothing is sent once its export has timed out')
  t.same(slow.counts, { exported: 0, dropped: 0, failed: 4 })
})

t.test('shutdown under a steady stream ends, and no export starts after it', async (t) => {
  const exporter = new TestExporter()
  exporter.mode = 'slow'
  const queue = new BoundedExportQueue(exporter, { ...OPTIONS, maxQueueSize: 1000 })
  let n = 0
  const feeder = setInterval(() => { for (let i = 0; i < 3; i++) queue.add({ n: n++ }) }, 1)
  await sleep(40)
  await queue.shutdown()
  const exportsAtShutdown = exporter.batches.length
  await sleep(100)
  clearInterval(feeder)
  t.equal(exporter.shutdowns, 1)
  t.ok(exporter.batches.length <= exportsAtShutdown, `no export after shutdown (${exporter.batches.length} in all)`)
  const { exported, dropped, failed } = queue.counts
  t.equal(exported + dropped + failed + queue.queued, n, 'every item is accounted for')
  t.ok(dropped > 0, 'items after shutdown are dropped and counted')
})
