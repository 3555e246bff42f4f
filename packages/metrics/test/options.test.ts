import Fastify from 'fastify'
import { Registry } from 'prom-client'
import t from 'tap'
import { ERROR_CODES, ERROR_MESSAGES, MetricsError, o11yMetrics, RETIRED_CODES, WARNING_CODES, type O11yMetricsOptions } from '../src/index'

async function register (options: unknown): Promise<void> {
  const app = Fastify()
  try {
    await app.register(o11yMetrics, options as O11yMetricsOptions)
    await app.ready()
  } finally {
    await app.close()
  }
}

const cases: Array<[string, unknown, string]> = [
  ['options not an object', 'nope', 'O11Y_ERR_METRICS_OPTIONS'],
  ['registry not a Registry', { registry: {} }, 'O11Y_ERR_METRICS_REGISTRY'],
  ['prefix with a dash', { prefix: 'my-app_' }, 'O11Y_ERR_METRICS_PREFIX'],
  ['prefix not a string', { prefix: 3 }, 'O11Y_ERR_METRICS_PREFIX'],
  ['naming unknown', { naming: 'statsd' }, 'O11Y_ERR_METRICS_NAMING'],
  ['buckets empty', { buckets: [] }, 'O11Y_ERR_METRICS_BUCKETS'],
  ['buckets not increasing', { buckets: [1, 1] }, 'O11Y_ERR_METRICS_BUCKETS'],
  ['buckets with Infinity', { buckets: [1, Infinity] }, 'O11Y_ERR_METRICS_BUCKETS'],
  ['maxLabelSets zero', { maxLabelSets: 0 }, 'O11Y_ERR_METRICS_MAX_LABEL_SETS'],
  ['maxLabelSets fractional', { maxLabelSets: 1.5 }, 'O11Y_ERR_METRICS_MAX_LABEL_SETS'],
  ['labelNames reserved', { labelNames: ['route'] }, 'O11Y_ERR_METRICS_LABEL_NAMES'],
  ['labelNames le', { labelNames: ['le'] }, 'O11Y_ERR_METRICS_LABEL_NAMES'],
  ['labelNames invalid', { labelNames: ['a-b'] }, 'O11Y_ERR_METRICS_LABEL_NAMES'],
  ['labelNames duplicate', { labelNames: ['a', 'a'] }, 'O11Y_ERR_METRICS_LABEL_NAMES'],
  ['labelNames not an array', { labelNames: 'a' }, 'O11Y_ERR_METRICS_LABEL_NAMES'],
  ['labels not a function', { labelNames: ['a'], labels: {} }, 'O11Y_ERR_METRICS_LABELS_FUNCTION'],
  ['labels without labelNames', { labels: () => ({}) }, 'O11Y_ERR_METRICS_LABELS_FUNCTION'],
  ['ignoreRoutes with a relative path', { ignoreRoutes: ['health'] }, 'O11Y_ERR_METRICS_IGNORE_ROUTES'],
  ['ignoreRoutes not an array', { ignoreRoutes: '/health' }, 'O11Y_ERR_METRICS_IGNORE_ROUTES'],
  ['ignoreRoutes with a number', { ignoreRoutes: ['/a', 3] }, 'O11Y_ERR_METRICS_IGNORE_ROUTES'],
  ['excludeRoutes (deprecated alias) checked the same way', { excludeRoutes: ['health'] }, 'O11Y_ERR_METRICS_IGNORE_ROUTES'],
  ['both ignoreRoutes and excludeRoutes', { ignoreRoutes: ['/a'], excludeRoutes: ['/b'] }, 'O11Y_ERR_METRICS_IGNORE_ROUTES'],
  ['statusCodes unknown', { statusCodes: 'classes' }, 'O11Y_ERR_METRICS_STATUS_CODES'],
  ['unknown option (a typo)', { maxLabelSet: 10 }, 'O11Y_ERR_METRICS_UNKNOWN_OPTION'],
  ['unknown option (another package\'s)', { lifecycleSpans: true }, 'O11Y_ERR_METRICS_UNKNOWN_OPTION'],
  ['unknown endpoint option', { endpoint: { minInterval: 1000 } }, 'O11Y_ERR_METRICS_UNKNOWN_OPTION'],
  ['unknown auth field', { endpoint: { auth: { type: 'bearer', token: 't', passwd: 'x' } } }, 'O11Y_ERR_METRICS_UNKNOWN_OPTION'],
  ['endpoint.minIntervalMs negative', { endpoint: { minIntervalMs: -1 } }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['endpoint.minIntervalMs over a minute', { endpoint: { minIntervalMs: 60_001 } }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['endpoint.minIntervalMs not a number', { endpoint: { minIntervalMs: '1000' } }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['exemplars not a boolean', { exemplars: 'yes' }, 'O11Y_ERR_METRICS_BOOLEAN'],
  ['runtimeMetrics not a boolean', { runtimeMetrics: 1 }, 'O11Y_ERR_METRICS_BOOLEAN'],
  ['endpoint not an object', { endpoint: true }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['endpoint.path relative', { endpoint: { path: 'metrics' } }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['endpoint.port out of range', { endpoint: { port: 70000 } }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['endpoint.host empty', { endpoint: { port: 0, host: '' } }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['endpoint.timeoutMs zero', { endpoint: { timeoutMs: 0 } }, 'O11Y_ERR_METRICS_ENDPOINT'],
  ['auth not an object', { endpoint: { auth: 'token' } }, 'O11Y_ERR_METRICS_AUTH'],
  ['bearer without token', { endpoint: { auth: { type: 'bearer', token: '' } } }, 'O11Y_ERR_METRICS_AUTH'],
  ['basic without password', { endpoint: { auth: { type: 'basic', username: 'u' } } }, 'O11Y_ERR_METRICS_AUTH'],
  ['basic username with a colon', { endpoint: { auth: { type: 'basic', username: 'u:x', password: 'p' } } }, 'O11Y_ERR_METRICS_AUTH'],
  ['unknown auth type', { endpoint: { auth: { type: 'digest', token: 'x' } } }, 'O11Y_ERR_METRICS_AUTH']
]

for (const [title, options, code] of cases) {
  t.test(`${title} -> ${code}`, async (t) => {
    await t.rejects(register(options), { code, name: 'MetricsError', message: /^@o11y\/metrics: / })
  })
}

t.test('an unknown option names itself and the known ones', async (t) => {
  await t.rejects(register({ excludRoutes: ['/a'] }), { code: 'O11Y_ERR_METRICS_UNKNOWN_OPTION', message: /"excludRoutes"; known: registry, .*ignoreRoutes/ })
  await t.rejects(register({ endpoint: { prot: 9464 } }), { code: 'O11Y_ERR_METRICS_UNKNOWN_OPTION', message: /endpoint\."prot"/ })
})

t.test('every code has a message, and the error class carries it', async (t) => {
  for (const [key, code] of Object.entries(ERROR_CODES)) {
    t.equal(code, `O11Y_ERR_METRICS_${key}`, 'catalogue shape { KEY: O11Y_ERR_METRICS_KEY }')
    t.type(ERROR_MESSAGES[key as keyof typeof ERROR_MESSAGES], 'string')
  }
  t.same(Object.keys(ERROR_MESSAGES).sort(), Object.keys(ERROR_CODES).sort(), 'a message for every code, nothing else')
  for (const [key, code] of Object.entries(WARNING_CODES)) t.equal(ERROR_CODES[key as keyof typeof ERROR_CODES], code, `warning ${key} is in the one catalogue`)
  for (const [key, code] of Object.entries({ ...WARNING_CODES, ...RETIRED_CODES })) t.equal(code, `O11Y_ERR_METRICS_${key}`)
  const err = new MetricsError('O11Y_ERR_METRICS_NAMING')
  t.equal(err.code, 'O11Y_ERR_METRICS_NAMING')
  t.equal(err.message, "@o11y/metrics: option `naming` must be 'default' or 'otel'")
})

t.test('valid options register fine (null options too)', async (t) => {
  await register(null)
  await register({ registry: new Registry(), prefix: 'app_', naming: 'otel', buckets: [0.1, 1], maxLabelSets: 10, labelNames: ['tenant'], labels: () => ({ tenant: 'a' }), ignoreRoutes: [/^\/x/], statusCodes: 'class', exemplars: false, runtimeMetrics: false, endpoint: { path: '/m', auth: { type: 'basic', username: 'u', password: 'p' }, timeoutMs: 100, minIntervalMs: 1000 } })
  await register({ ignoreRoutes: (route: string) => route === '/x', endpoint: { auth: { type: 'bearer', token: 't' } } })
  t.pass()
})

t.test('every error code is documented in docs/errors.md and the README', async (t) => {
  const { readFileSync } = await import('node:fs')
  const { resolve } = await import('node:path')
  const docs = readFileSync(resolve(__dirname, '../../../docs/errors.md'), 'utf8')
  const section = docs.slice(docs.indexOf('## @o11y/metrics'), docs.indexOf('## @o11y/tracing'))
  const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8')
  for (const code of [...Object.values(ERROR_CODES), ...Object.values(WARNING_CODES)]) {
    t.match(section, `| \`${code}\` |`, `${code} in docs/errors.md`)
    t.match(readme, `| \`${code}\` |`, `${code} in the README`)
  }
  for (const code of Object.values(RETIRED_CODES)) t.match(section, `| \`${code}\` |`, `retired ${code} stays in docs/errors.md`)
})
