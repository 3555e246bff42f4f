import { join, resolve } from 'node:path'
import t from 'tap'
import { checkBlocks, collectBlocks, extractBlocks, findDocs, formatProblem } from '../src/docs'

const ROOT = resolve(__dirname, '..', '..', '..')
const BASE_CONFIG = join(ROOT, 'tsconfig.base.json')
const FIXTURE = join(__dirname, 'fixtures', 'docs-tree')
// Inside this package, so that @o11y/*, fastify and pino resolve as they would for a reader who installed them.
const WORK = join(__dirname, '..', '.docs-blocks')

t.test('every TypeScript block of every README and docs page type-checks under strict', async (t) => {
  const blocks = collectBlocks(ROOT)
  const files = new Set(blocks.map((b) => b.file))
  t.ok(files.has('packages/metrics/README.md'), 'the metrics README is read')
  t.ok(files.has('packages/logging/README.md'), 'the logging README is read')
  t.notOk([...files].some((f) => f.includes('node_modules')), 'nothing under node_modules is read')
  const checked = blocks.filter((b) => !b.partial)
  t.ok(checked.length >= 10, `${checked.length} blocks checked, ${blocks.length - checked.length} marked partial`)
  const problems = checkBlocks(blocks, join(WORK, 'repo'), BASE_CONFIG).map(formatProblem)
  t.same(problems, [], problems.length === 0 ? 'no problems' : `failing blocks:\n${problems.join('\n')}`)
})

t.test('a failing block is reported with its Markdown file and line', async (t) => {
  const blocks = collectBlocks(FIXTURE)
  t.same(blocks.map((b) => `${b.file}:${b.line}${b.partial ? ' partial' : ''}`), [
    'README.md:6',
    'README.md:14',
    'README.md:21 partial',
    'docs/guide.md:2'
  ], 'ts/typescript fences of README.md and docs/*.md only; fences inside other fences, js blocks, node_modules and other Markdown files are passed over')
  const problems = checkBlocks(blocks, join(WORK, 'fixture'), BASE_CONFIG)
  t.same(problems.map((p) => `${p.file}:${p.line} TS${p.code}`), ['README.md:15 TS2322', 'docs/guide.md:4 TS2339'])
  t.match(formatProblem(problems[0]!), /^README\.md:15 TS2322 Type 'string' is not assignable to type 'number'/)
  t.match(problems[1]!.message, /Property 'nope' does not exist/, 'route generics and @o11y/fastify types resolve from the workspace')
})

t.test('extractBlocks', async (t) => {
  t.same(extractBlocks('```ts\nconst a = 1\n', 'x.md'), [{ file: 'x.md', line: 2, code: 'const a = 1\n', partial: false }], 'an unclosed fence runs to the end')
  t.same(extractBlocks('~~~typescript\nlet b\n~~~\n', 'x.md').map((b) => b.code), ['let b'], 'tilde fences')
  t.same(extractBlocks('<!-- ts-nocheck -->\n\n```TS\nx\n```', 'x.md').map((b) => b.partial), [true], 'the marker may stand a blank line above')
  t.same(extractBlocks('<!-- ts-nocheck -->\ntext\n```ts\nx\n```', 'x.md').map((b) => b.partial), [false], 'a marker with text in between does not count')
  t.same(extractBlocks('```ts\n```\n', 'x.md').map((b) => b.code), [''], 'empty block')
  t.same(extractBlocks('no fences at all', 'x.md'), [])
})

t.test('checkBlocks with nothing to check writes nothing and finds nothing', async (t) => {
  t.same(checkBlocks([{ file: 'a.md', line: 1, code: 'nonsense(', partial: true }], join(WORK, 'none'), BASE_CONFIG), [])
})

t.test('findDocs skips node_modules and other Markdown files', async (t) => {
  t.same(findDocs(FIXTURE).map((f) => f.slice(FIXTURE.length + 1)), ['README.md', 'docs/guide.md'])
})
