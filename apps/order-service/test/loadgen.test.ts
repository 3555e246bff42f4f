import t from 'tap'
import { buildApp } from '../src/app.js'
import { cli, formatSummary, MIX, runLoad } from '../src/loadgen.js'
import type { PaymentProvider } from '../src/orders/payment.js'
import { closedPort, databaseTargets, testDatabase } from './helpers.js'

const [target] = (await databaseTargets(t)).filter((x) => x.name === 'embedded')

t.test('sends the whole mix and summarises it', async (t) => {
  if (!target) throw new Error('no embedded target')
  const db = await testDatabase(t, target)
  // Every other charge fails, so the run shows 502s and cancels of paid orders (409).
  let charges = 0
  const provider: PaymentProvider = { name: 'alternating', charge: async () => (charges++ % 2 === 0 ? { ok: true, providerRef: 'r', latencyMs: 0 } : { ok: false, reason: 'card declined', latencyMs: 0 }) }
  const app = await buildApp({ db, payment: provider, logger: { level: 'silent' } })
  t.teardown(() => app.close())
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const progress: string[] = []
  // Four full cycles of the mix, one request at a time, bounded by count rather than by how fast a
  // loaded machine serves, so every run sees the same sequence.
  // The rate keeps the run over a second so a progress line is written.
  const summary = await runLoad({ url, durationSeconds: 120, rate: 40, concurrency: 1, maxRequests: 4 * MIX.length, onProgress: (line) => progress.push(line) })
  t.equal(summary.sent, 4 * MIX.length, 'sent exactly four full cycles')
  t.equal(summary.networkErrors, 0)
  for (const op of new Set(MIX)) t.ok(summary.byOperation[op], `${op} was sent`)
  t.ok(summary.byOperation.create?.['201'], 'creates: 201')
  t.ok(summary.byOperation.get?.['200'], 'reads: 200')
  t.ok(summary.byOperation.list?.['200'], 'lists: 200')
  t.ok(summary.byOperation.checkout?.['200'], 'checkouts: 200')
  t.ok(summary.byOperation.checkout?.['502'], 'checkouts with a failing charge: 502')
  t.ok(summary.byOperation.cancel?.['200'], 'cancels of pending orders: 200')
  t.ok(summary.byOperation.cancel?.['409'], 'cancels of paid orders: 409')
  t.ok(summary.byOperation.not_found?.['404'], 'unknown ids: 404')
  t.ok(summary.byOperation.invalid?.['400'], 'invalid bodies: 400')
  t.ok(progress.length >= 1, 'progress was reported')
  t.match(progress[0], /^\[\s*\d+s\] sent \d+ /)
  const text = formatSummary(summary)
  t.match(text, /^sent \d+ requests in [\d.]+s/)
  t.match(text, /status codes: .*201:\d+/)
  t.match(text, /by operation:\n {2}cancel/)

  const metrics = await app.inject({ url: '/metrics' })
  t.match(metrics.body, /orders_created_total \d+/, 'the traffic shows in the business metrics')
  t.match(metrics.body, /payments_processed_total\{[^}]*status="failed"/)
  // Half of the 8 checkouts with an order failed, each with the provider's reason 'card declined'.
  const failed = /^payment_failures_total\{reason="card_declined"\} (\d+)$/m.exec(metrics.body)
  t.ok(failed, 'failed payments counted by reason')
  t.ok(Number(failed?.[1]) >= 1)
  t.notMatch(metrics.body, /^payment_failures_total\{reason="other"\}/m, 'a known reason is not counted as other')
})

t.test('cli: usage errors exit 2, --help 0, an unreachable service 1', async (t) => {
  const out: string[] = []
  const log = (line: string): void => { out.push(line) }
  t.equal(await cli(['--rate', 'fast'], log), 2)
  t.equal(await cli(['--max-requests', '0'], log), 2)
  t.match(out.join('\n'), /invalid arguments/)
  t.equal(await cli(['--bogus'], log), 2)
  t.match(out.join('\n'), /Unknown option '--bogus'/)
  t.equal(await cli(['--help'], log), 0)
  t.match(out.at(-1), /^usage: loadgen/)
  const port = await closedPort()
  out.length = 0
  t.equal(await cli(['--url', `http://127.0.0.1:${port}`, '--duration', '0.3', '--rate', '10'], log), 1)
  t.match(out.join('\n'), /network errors [1-9]/)
  t.match(out.at(-1), /no request succeeded/)
})

t.test('failureReason: known reasons in snake case, anything else is other (bounded label)', async (t) => {
  const { failureReason } = await import('../src/app.js')
  t.equal(failureReason('card declined'), 'card_declined')
  t.equal(failureReason('Insufficient Funds'), 'insufficient_funds')
  t.equal(failureReason(' provider timeout '), 'provider_timeout')
  t.equal(failureReason('card declined for order 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed'), 'other', 'an id in the reason does not make a new series')
  t.equal(failureReason('x'.repeat(10_000)), 'other')
  t.equal(failureReason(undefined), 'other')
  t.equal(failureReason(''), 'other')
})
