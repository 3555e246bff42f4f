import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { analyzeFile, type Registrations } from '../src/analyzer'
import { RULES } from '../src/registry'
import { run } from '../src/run'
import type { GateResult, RequiredCategories, SeverityOrOff, RuleId } from '../src/index'

export const FIXTURES = join(__dirname, 'fixtures')

export function fixture (name: string): string {
  return readFileSync(join(FIXTURES, 'rules', name), 'utf8')
}

/** 1-based line of the first occurrence of `needle`. */
export function lineOf (text: string, needle: string): number {
  const i = text.indexOf(needle)
  if (i === -1) throw new Error(`"${needle}" not in fixture`)
  return text.slice(0, i).split('\n').length
}

export interface AnalyzeOpts {
  required?: RequiredCategories
  severities?: Partial<Record<RuleId, SeverityOrOff>>
  registrations?: Registrations
  changed?: (a: number, b: number) => boolean
}

export function analyze (name: string, opts: AnalyzeOpts = {}) {
  const text = fixture(name)
  const sev = new Map<RuleId, SeverityOrOff>(RULES.map((r) => [r.id, opts.severities?.[r.id] ?? r.defaultSeverity]))
  return analyzeFile({
    file: name,
    text,
    rules: { severity: (id) => sev.get(id) ?? 'off', requiredCategories: opts.required ?? 'any' },
    projectRegistrations: opts.registrations ?? { metrics: true, tracing: true, logging: true },
    changed: opts.changed
  })
}

/** `rule@line` of every finding of one rule (or all). */
export function hits (result: { findings: { ruleId: string, line: number }[] }, rule?: string): string[] {
  return result.findings.filter((f) => rule === undefined || f.ruleId === rule).map((f) => `${f.ruleId}@${f.line}`)
}

export type Captured = GateResult

export function runCapture (argv: string[], cwd: string): Captured {
  return run(argv, { cwd })
}

/** A temporary directory with the given files; removed in teardown. */
export function tempDir (t: { teardown: (fn: () => void) => void }, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-gate-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFiles(dir, files)
  return dir
}

export function writeFiles (dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const abs = join(dir, rel)
    mkdirSync(dirname(abs), { recursive: true })
    writeFileSync(abs, text)
  }
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@localhost',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@localhost',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null'
}

export function git (cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** A git repository on branch main with one commit of `files`. */
export function gitRepo (t: { teardown: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = tempDir(t, files)
  git(dir, 'init', '-q', '-b', 'main')
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'initial')
  return dir
}

export function commitAll (dir: string, message: string): void {
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', message)
}

/** A Fastify app file; `body` is the handler body of GET /orders. */
export function appFile (body: string, extra = ''): string {
  return [
    "import Fastify from 'fastify'",
    "import o11yMetrics from '@o11y/metrics'",
    "import o11yTracing from '@o11y/tracing'",
    "import { fastifyLoggerOptions } from '@o11y/logging'",
    '',
    'const db = { query: async (_sql: string) => [] as unknown[] }',
    'export async function buildApp () {',
    '  const app = Fastify({ ...fastifyLoggerOptions({ name: "shop" }) })',
    '  await app.register(o11yMetrics)',
    '  await app.register(o11yTracing)',
    "  app.get('/orders', async (request) => {",
    `    ${body}`,
    '  })',
    extra,
    '  return app',
    '}',
    ''
  ].join('\n')
}
