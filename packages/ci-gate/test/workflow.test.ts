import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { PR_COMMENT_MARKER } from '../src/constants'
import { HELP } from '../src/run'

const WORKFLOW = join(__dirname, '..', '..', '..', '.github', 'workflows', 'observability.yml')

interface Step { name?: string, uses?: string, run?: string, with?: Record<string, unknown>, if?: string, id?: string }

const wf = parse(readFileSync(WORKFLOW, 'utf8')) as {
  on: { pull_request: { branches: string[] } }
  permissions: Record<string, string>
  jobs: Record<string, { steps: Step[] }>
}
const steps = Object.values(wf.jobs)[0]?.steps ?? []
const step = (pred: (s: Step) => boolean): Step => {
  const s = steps.find(pred)
  if (s === undefined) throw new Error('step not found')
  return s
}

t.test('observability.yml runs on pull requests to main and develop with what the gate needs', async (t) => {
  t.same(wf.on.pull_request.branches, ['main', 'develop'])
  t.equal(wf.permissions['security-events'], 'write')
  t.equal(wf.permissions['pull-requests'], 'write')
  t.equal(step((s) => s.uses?.startsWith('actions/checkout@') === true).with?.['fetch-depth'], 0)
  t.equal(String(step((s) => s.uses?.startsWith('actions/setup-node@') === true).with?.['node-version']), '24')
  t.match(step((s) => s.run?.includes('pnpm@') === true).run, 'npm i -g pnpm@10.34.9')
  const order = ['pnpm install', 'pnpm lint', 'pnpm typecheck', 'pnpm build', 'o11y-gate.js'].map((cmd) => steps.findIndex((s) => s.run?.includes(cmd) === true))
  t.ok(order.every((i, k) => i >= 0 && (k === 0 || i > (order[k - 1] as number))), `install, lint, typecheck, build, gate in order: ${order.join(',')}`)
})

t.test('the gate step uses flags the CLI has, and the later steps use its outputs', async (t) => {
  const gate = step((s) => s.id === 'gate')
  for (const flag of ['--base', '--format github', '--format sarif=o11y-gate.sarif', '--format json=o11y-gate.json']) t.match(gate.run, flag)
  for (const flag of ['--base', '--format']) t.match(HELP, flag)
  const upload = step((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@') === true)
  t.equal(upload.with?.sarif_file, 'o11y-gate.sarif')
  const comment = step((s) => s.uses?.startsWith('actions/github-script@') === true)
  t.match(String(comment.with?.script), `const marker = '${PR_COMMENT_MARKER}'`)
  t.match(String(comment.with?.script), "readFileSync('o11y-gate.json'")
  const fail = step((s) => s.name === 'Fail on findings')
  t.equal(fail.if, "steps.gate.outputs.exit != '0'")
  t.match(fail.run, 'exit 1')
})
