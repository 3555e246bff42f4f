// Without @o11y/tracing: the OTLP records take the resource of a LoggerProvider that the
// OpenTelemetry SDK registered globally (as NodeSDK does), or detect one of their own.
import { logs } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { LoggerProvider } from '@opentelemetry/sdk-logs'
import { startOtlpReceiver } from '@o11y/test-utils'
import t from 'tap'
import { TRACING_RESOURCE_HOLDER } from '../src/constants'
import { createLogger, flushLogs } from '../src/index'
import { capture } from './helpers'

t.test('no tracing and no SDK provider: a detected resource of its own', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const log = createLogger({ name: 'alone', destination: capture(), otlp: { endpoint: receiver.logsUrl, scheduledDelayMillis: 20 } })
  log.info('first')
  t.equal(await flushLogs(log, { shutdown: true }), true)
  const [record] = await receiver.waitForLogs(1)
  t.equal(record?.body, 'first')
  t.match(record?.resource['service.name'], /^unknown_service/, 'the SDK default service name')
  t.ok(typeof record?.resource['service.instance.id'] === 'string', 'a detected service.instance.id')
})

t.test('a global SDK LoggerProvider (NodeSDK registers one): its resource is the records\' resource', async (t) => {
  const receiver = await startOtlpReceiver()
  const sdkProvider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'from-node-sdk', 'service.instance.id': 'instance-7' }) })
  t.ok(logs.setGlobalLoggerProvider(sdkProvider), 'registered globally')
  t.teardown(async () => {
    logs.disable()
    await receiver.close()
  })
  const log = createLogger({ name: 'beside-sdk', destination: capture(), otlp: { endpoint: receiver.logsUrl, scheduledDelayMillis: 20 } })
  log.info('second')
  t.equal(await flushLogs(log, { shutdown: true }), true)
  const [record] = await receiver.waitForLogs(1)
  t.equal(record?.body, 'second')
  t.equal(record?.resource['service.name'], 'from-node-sdk')
  t.equal(record?.resource['service.instance.id'], 'instance-7')
})

t.test('a foreign value under the tracing resource symbol is not used: records carry a detected resource and still go out', async (t) => {
  const holder = globalThis as Record<symbol, unknown>
  const key = Symbol.for(TRACING_RESOURCE_HOLDER)
  const trap = new Proxy({}, { get () { throw new Error('hostile getter') } })
  const foreign: Array<[string, unknown]> = [
    ['a number', 42],
    ['a string', 'service.name=evil'],
    ['an object with merge only', { merge: () => ({}) }],
    ['merge and getRawAttributes but attributes null', { merge: () => ({}), getRawAttributes: () => [], attributes: null }],
    ['a Proxy whose getters throw', trap]
  ]
  for (const [what, value] of foreign) {
    const receiver = await startOtlpReceiver()
    holder[key] = value
    try {
      const log = createLogger({ name: 'foreign', destination: capture(), otlp: { endpoint: receiver.logsUrl, scheduledDelayMillis: 20 } })
      log.info(`beside ${what}`)
      t.equal(await flushLogs(log, { shutdown: true }), true, `${what}: flushed`)
      const [record] = await receiver.waitForLogs(1)
      t.equal(record?.body, `beside ${what}`, `${what}: the record went out`)
      t.match(record?.resource['service.name'], /^unknown_service/, `${what}: a detected resource instead`)
      t.ok(typeof record?.resource['service.instance.id'] === 'string', `${what}: with a detected service.instance.id`)
    } finally {
      delete holder[key]
      await receiver.close()
    }
  }
})
