import t from 'tap'
import { createLogger, DEFAULT_CENSOR, DEFAULT_REDACT_PATHS, REDACT_MAX_DEPTH } from '../src/index'
import { capture, SECRET_NAMES } from './helpers'

const SECRET = 's3cr3t-value'

/** Logs `fields` and returns the written line and the raw text. */
function logOnce (fields: Record<string, unknown>, options: Parameters<typeof createLogger>[0] = {}): { line: Record<string, any>, text: string } {
  const out = capture()
  createLogger({ ...options, destination: out }).info(fields, 'm')
  return { line: out.lines()[0]!, text: out.text() }
}

/** `{ a: { b: { ... { [key]: value } } } }` with `depth` levels above the key. */
function nest (depth: number, key: string, value: unknown): Record<string, unknown> {
  let object: Record<string, unknown> = { [key]: value }
  for (let i = depth; i > 0; i--) object = { [`level${i}`]: object }
  return object
}

function dig (line: Record<string, any>, depth: number, key: string): unknown {
  let object = line
  for (let i = 1; i <= depth; i++) object = object[`level${i}`]
  return object[key]
}

/** Names that look close to secret ones and are written as they are. */
const PLAIN_NAMES = ['cookies_enabled', 'api', 'key', 'pass', 'author', 'card', 'cvv2', 'keyboard', 'description']

t.test('the default patterns are the documented ones', async (t) => {
  t.same(DEFAULT_REDACT_PATHS, ['*authorization*', 'cookie', 'set-cookie', '*token*', '*secret*', '*passw*', '*api?key*', '*apikey*',
    '*private?key*', '*privatekey*', '*session*', '*credential*', 'cardNumber', 'card_number', 'cvv'])
  t.equal(DEFAULT_CENSOR, '[REDACTED]')
})

t.test('secret headers are redacted in req.headers, res.headers and headers, in any case', async (t) => {
  for (const header of SECRET_NAMES) {
    const upper = header.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
    const { line, text } = logOnce({
      req: { method: 'GET', headers: { [header]: SECRET, accept: 'text/html' } },
      res: { statusCode: 200, headers: { [upper]: SECRET, 'content-type': 'text/plain' } },
      headers: { [header]: SECRET },
      upstream: { request: { headers: { [header.toUpperCase()]: SECRET } } }
    })
    t.notOk(text.includes(SECRET), `${header}: secret value not written`)
    t.equal(line.req.headers[header], DEFAULT_CENSOR)
    t.equal(line.req.headers.accept, 'text/html', 'other headers kept')
    t.equal(line.req.method, 'GET')
    t.equal(line.res.headers[upper], DEFAULT_CENSOR)
    t.equal(line.res.headers['content-type'], 'text/plain')
    t.equal(line.headers[header], DEFAULT_CENSOR)
    t.equal(line.upstream.request.headers[header.toUpperCase()], DEFAULT_CENSOR)
  }
})

t.test('secret field names are redacted at every depth, in arrays, in any case', async (t) => {
  for (const name of SECRET_NAMES) {
    for (const depth of [0, 1, 2, 5, 12, REDACT_MAX_DEPTH - 1]) {
      const { line, text } = logOnce({ data: nest(depth, name, SECRET), keep: nest(depth, 'order_id', 'visible') })
      t.notOk(text.includes(SECRET), `${name} at depth ${depth + 1}`)
      t.equal(dig(line.data, depth, name), DEFAULT_CENSOR)
      t.equal(dig(line.keep, depth, 'order_id'), 'visible', 'a plain name beside it is kept')
    }
    const { line, text } = logOnce({
      [name]: SECRET,
      [name.toUpperCase()]: SECRET,
      list: [{ [name]: SECRET, id: 1 }, [{ [name]: SECRET }], 'plain'],
      objectValue: { [name]: { nested: SECRET } }
    })
    t.notOk(text.includes(SECRET), `${name} top level, upper case, arrays, object value`)
    t.equal(line[name], DEFAULT_CENSOR)
    t.equal(line[name.toUpperCase()], DEFAULT_CENSOR)
    t.same(line.list, [{ [name]: DEFAULT_CENSOR, id: 1 }, [{ [name]: DEFAULT_CENSOR }], 'plain'])
    t.same(line.objectValue, { [name]: DEFAULT_CENSOR }, 'an object value is replaced whole')
  }
})

t.test('exact default names match only themselves; names close to a secret are kept', async (t) => {
  const { line } = logOnce(Object.fromEntries([...PLAIN_NAMES, 'cookie_hint', 'cvv_hint', 'card_number_hint'].map((name) => [name, 'visible'])))
  for (const name of [...PLAIN_NAMES, 'cookie_hint', 'cvv_hint', 'card_number_hint']) t.equal(line[name], 'visible', name)
})

t.test('shrinking: redact.remove drops default patterns; an unknown entry is refused', async (t) => {
  const { line } = logOnce({ session: { id: 's-1' }, total_tokens: 1200, password: SECRET }, { redact: { remove: ['*session*', '*token*'] } })
  t.same(line.session, { id: 's-1' })
  t.equal(line.total_tokens, 1200)
  t.equal(line.password, DEFAULT_CENSOR, 'the other defaults stay')
  t.throws(() => createLogger({ destination: capture(), redact: { remove: ['*sesion*'] } }), { code: 'O11Y_ERR_LOGGING_INVALID_REDACT' })
})

t.test('extension: name patterns with * and ? at any depth', async (t) => {
  const { line, text } = logOnce({ a: { b: { stripe_sk_live: SECRET, sk_test: SECRET, sk: 'short' } }, pin1: SECRET, pin12: 'two characters' },
    { redact: ['*sk_*', 'pin?'] })
  t.notOk(text.includes(SECRET))
  t.same(line.a.b, { stripe_sk_live: DEFAULT_CENSOR, sk_test: DEFAULT_CENSOR, sk: 'short' })
  t.same([line.pin1, line.pin12], [DEFAULT_CENSOR, 'two characters'])
})

t.test('a value is redacted whatever its type; undefined stays absent', async (t) => {
  const { line } = logOnce({ password: 1234, token: null, secret: false, cvv: ['1', '2'], cardNumber: undefined })
  t.same([line.password, line.token, line.secret, line.cvv], [DEFAULT_CENSOR, DEFAULT_CENSOR, DEFAULT_CENSOR, DEFAULT_CENSOR])
  t.notOk('cardNumber' in line)
})

t.test("the caller's objects are not modified", async (t) => {
  const user = { name: 'ada', password: SECRET, cards: [{ cvv: '123' }] }
  const frozen = Object.freeze({ token: SECRET })
  const { line } = logOnce({ user, frozen })
  t.same(user, { name: 'ada', password: SECRET, cards: [{ cvv: '123' }] })
  t.equal(line.user.password, DEFAULT_CENSOR)
  t.equal(line.frozen.token, DEFAULT_CENSOR)
})

t.test('child bindings, base fields, errors and message-less objects are redacted', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out, base: { config: { secret: SECRET, region: 'eu' } } })
  log.child({ ctx: { token: SECRET }, user: 'ada' }).info('bound')
  const error = Object.assign(new Error('login failed'), { password: SECRET, details: { card_number: SECRET } })
  log.error(error)
  log.warn({ cause: error, nested: { err: error } }, 'error held in other fields')
  log.info({ err: { message: 'plain object as err', token: SECRET } })
  const text = out.text()
  t.notOk(text.includes(SECRET))
  const [bound, errored, held, plain] = out.lines()
  t.same(bound!.config, { secret: DEFAULT_CENSOR, region: 'eu' })
  t.same(bound!.ctx, { token: DEFAULT_CENSOR })
  t.equal(bound!.user, 'ada')
  t.equal(errored!.err.message, 'login failed')
  t.match(errored!.err.stack, /^Error: login failed/)
  t.equal(errored!.err.password, DEFAULT_CENSOR)
  t.same(errored!.err.details, { card_number: DEFAULT_CENSOR })
  t.equal(held!.cause.password, DEFAULT_CENSOR)
  t.equal(held!.nested.err.password, DEFAULT_CENSOR)
  t.equal(plain!.err.token, DEFAULT_CENSOR)
  t.equal(plain!.message, 'plain object as err')
})

t.test('request and response objects logged in any field are summarized without headers', async (t) => {
  const request = {
    method: 'POST',
    url: '/login',
    headers: { authorization: SECRET, host: 'shop.test' },
    socket: { remoteAddress: '10.0.0.1', remotePort: 4000 }
  }
  Object.setPrototypeOf(request, { kind: 'IncomingMessage-like' })
  const response = { statusCode: 201, setHeader () {}, headers: { 'set-cookie': SECRET } }
  Object.setPrototypeOf(response, { kind: 'ServerResponse-like' })
  const { line, text } = logOnce({ req: request, res: response, ctx: { request, response } })
  t.notOk(text.includes(SECRET))
  for (const summary of [line.req, line.ctx.request]) {
    t.same(summary, { method: 'POST', url: '/login', host: 'shop.test', remoteAddress: '10.0.0.1', remotePort: 4000 })
  }
  t.same(line.res, { statusCode: 201 })
  t.same(line.ctx.response, { statusCode: 201 })
})

t.test('values nested deeper than the limit are not written unchecked', async (t) => {
  const { line, text } = logOnce({ deep: nest(REDACT_MAX_DEPTH + 5, 'password', SECRET) })
  t.notOk(text.includes(SECRET))
  t.equal(dig(line.deep, REDACT_MAX_DEPTH - 1, `level${REDACT_MAX_DEPTH}`), '[Truncated]')
})

t.test('cycles are written as [Circular] and still redacted', async (t) => {
  const node: Record<string, unknown> = { name: 'loop', password: SECRET }
  node.self = node
  node.list = [node, { back: node }]
  const shared = { id: 1 }
  const { line, text } = logOnce({ node, a: shared, b: { shared } })
  t.notOk(text.includes(SECRET))
  t.same(line.node, { name: 'loop', password: DEFAULT_CENSOR, self: '[Circular]', list: ['[Circular]', { back: '[Circular]' }] })
  t.same([line.a, line.b.shared], [{ id: 1 }, { id: 1 }], 'a shared (not circular) object is written twice')
})

t.test('class instances and toJSON values are written as JSON.stringify writes them (documented)', async (t) => {
  class Money { constructor (readonly cents: number, readonly currency: string) {} }
  const when = new Date('2026-01-02T03:04:05.000Z')
  const { line } = logOnce({ amount: new Money(100, 'EUR'), when, tags: new Set(['a']) })
  t.same(line.amount, { cents: 100, currency: 'EUR' })
  t.equal(line.when, '2026-01-02T03:04:05.000Z')
  t.same(line.tags, {})
})

t.test('extension: redact paths add to the defaults', async (t) => {
  const fields = { user: { ssn: SECRET, password: SECRET, name: 'ada' }, ssn: 'not under user', order: { user: { ssn: SECRET } } }
  for (const redact of [['user.ssn'], { paths: ['user.ssn'] }]) {
    const { line, text } = logOnce(fields, { redact })
    t.notOk(text.includes(SECRET))
    t.same(line.user, { ssn: DEFAULT_CENSOR, password: DEFAULT_CENSOR, name: 'ada' })
    t.equal(line.ssn, 'not under user', 'a path with a parent only matches under that parent')
    t.equal(line.order.user.ssn, DEFAULT_CENSOR, 'the path matches at any depth')
  }
})

t.test('replacement: replaceDefaults keeps only the given paths', async (t) => {
  const { line } = logOnce({ password: 'visible', ssn: SECRET, headers: { authorization: 'visible' } },
    { redact: { paths: ['ssn'], replaceDefaults: true } })
  t.same([line.password, line.ssn, line.headers.authorization], ['visible', DEFAULT_CENSOR, 'visible'])

  const off = logOnce({ password: 'visible', req: { headers: { cookie: 'visible' } } }, { redact: { paths: [], replaceDefaults: true } })
  t.same([off.line.password, off.line.req.headers.cookie], ['visible', 'visible'], 'no paths: redaction off')
})

t.test('censor is configurable', async (t) => {
  const { line } = logOnce({ password: SECRET, nested: { token: SECRET } }, { redact: { censor: '***' } })
  t.same([line.password, line.nested.token], ['***', '***'])
})

t.test('path syntax: wildcards, quoted segments, case', async (t) => {
  const { line, text } = logOnce({
    headers: { 'x-custom': SECRET, accept: SECRET },
    payment: { card: { pin: SECRET }, wallet: { pin: SECRET } },
    config: { 'db.url': SECRET, 'db.name': 'orders' },
    Account: { IBAN: SECRET }
  }, { redact: ['headers.*', 'payment.*.pin', 'config["db.url"]', "account['iban']"] })
  t.notOk(text.includes(SECRET))
  t.same(line.headers, { 'x-custom': DEFAULT_CENSOR, accept: DEFAULT_CENSOR })
  t.same(line.payment, { card: { pin: DEFAULT_CENSOR }, wallet: { pin: DEFAULT_CENSOR } })
  t.same(line.config, { 'db.url': DEFAULT_CENSOR, 'db.name': 'orders' })
  t.same(line.Account, { IBAN: DEFAULT_CENSOR })
})

t.test('the logger fields themselves are never redacted', async (t) => {
  const { line } = logOnce({ note: 'x' }, { name: 'svc', redact: { paths: ['*'], replaceDefaults: true } })
  t.equal(line.logger, 'svc')
  t.equal(line.level, 'INFO')
  t.equal(line.message, 'm')
  t.equal(line.note, DEFAULT_CENSOR)
})
