import t from 'tap'
import { openFdsByStat, statusKilobytes } from '../src/runtime'
import { buildApp, find, scrape } from './fixtures/helpers'

t.test('statusKilobytes reads a /proc/self/status field the way prom-client does', async (t) => {
  const status = 'Name:\tnode\nVmPeak:\t 1306904 kB\nVmSize:\t 1305876 kB\nVmRSS:\t   44328 kB\nVmData:\t  586780 kB\nVmStk:\t     132 kB\n'
  t.equal(statusKilobytes(status, 'VmSize'), 1305876)
  t.equal(statusKilobytes(status, 'VmRSS'), 44328)
  t.equal(statusKilobytes(status, 'VmData'), 586780)
  t.equal(statusKilobytes('VmRSS:\t12 kB', 'VmRSS'), 12, 'first line, no trailing newline')
  t.equal(statusKilobytes(status, 'VmSwap'), undefined, 'absent field')
  t.equal(statusKilobytes('XVmRSS:\t1 kB\n', 'VmRSS'), undefined, 'only whole field names')
})

t.test('the memory gauges read from v8 and /proc/self/status have their values', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const app = await buildApp(t)
  const { samples } = await scrape(app)
  const value = (name: string): number => find(samples, name)[0]?.value ?? Number.NaN
  for (const name of ['process_resident_memory_bytes', 'process_virtual_memory_bytes', 'process_heap_bytes']) {
    t.ok(value(name) > 0 && value(name) % 1024 === 0, `${name} is a positive number of kB in bytes`)
  }
  t.ok(value('process_virtual_memory_bytes') >= value('process_resident_memory_bytes'), 'virtual >= resident')
  t.ok(value('nodejs_heap_size_total_bytes') > 0, 'heap total')
  t.ok(value('nodejs_heap_size_used_bytes') > 0 && value('nodejs_heap_size_used_bytes') <= value('nodejs_heap_size_total_bytes'), 'heap used <= total')
  t.ok(value('nodejs_external_memory_bytes') > 0, 'external memory')
})

t.test('process_open_fds counts what a listing of /proc/self/fd counts, as descriptors open and close', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const { closeSync, openSync, readdirSync } = await import('node:fs')
  const app = await buildApp(t)
  // prom-client's own way: the listing, minus the descriptor the listing used.
  const listed = (): number => readdirSync('/proc/self/fd').length - 1
  const openFds = async (): Promise<number> => find((await scrape(app)).samples, 'process_open_fds')[0]?.value ?? Number.NaN
  const before = await openFds()
  t.equal(before, listed(), 'the gauge equals the listing')
  const fds = Array.from({ length: 40 }, () => openSync('/dev/null', 'r'))
  t.teardown(() => { for (const fd of fds.splice(0)) closeSync(fd) })
  const opened = await openFds()
  t.equal(opened, listed(), 'equal with 40 more open')
  t.equal(opened - before, 40, '40 more than before')
  for (const fd of fds.splice(0)) closeSync(fd)
  t.equal(await openFds(), before, 'back to the first count once they are closed')
})

t.test('openFdsByStat: the size of /proc/self/fd where the kernel reports it, else undefined', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const { readdirSync } = await import('node:fs')
  const n = openFdsByStat()
  // Linux before 6.2 reports no size: the gauge then keeps prom-client's listing.
  if (n === undefined) t.pass('this kernel reports no size for /proc/self/fd')
  else t.equal(n, readdirSync('/proc/self/fd').length - 1, 'the count of open descriptors')
})
