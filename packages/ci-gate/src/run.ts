// `run(argv, io)`: the whole CLI as a function. It parses the arguments, finds the files and lines
// to check, analyses them, applies suppressions and the baseline, writes the reports and returns
// the exit code. It never exits the process and never throws for user errors.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { parseArgs } from 'node:util'
import { analyzeFile, mergeScan, scanProjectFile, type ProjectScan } from './analyzer'
import { readBaseline, writeBaseline } from './baseline'
import { loadConfig, Settings } from './config'
import {
  CLI_FLAGS, FORMATS, GENERATED_MARKERS, SOURCE_EXTENSIONS, TOOL_NAME, type FormatName
} from './constants'
import { ERROR_CODES, GateError, outputError, readError, usageError } from './errors'
import { changesSince, defaultBase, intersects, mergeBase, repoRoot, shortSha, stagedChanges, stagedContent, type ChangedLines } from './git'
import { render } from './reporters/index'
import { EXIT } from '@o11y/cli-kit'
import type { Finding, GateResult, HandlerCoverage, Report, RunIO } from './types'

export const VERSION: string = (require('../package.json') as { version: string }).version

export const HELP = `Usage: ${TOOL_NAME} [mode] [options] [paths...]

Checks that Fastify route handlers and the code around them stay observable.

Modes (pick one; default: --base <the repository's main branch>):
  --base <ref>            check lines changed since the merge base with <ref>
  --staged                check lines staged in the git index
  --files                 check the files given as paths, whole
  --all                   check every source file under the paths (default: .)
  With --base/--staged, paths limit the changed files to those under them.

Options:
  --strict                require tracing, metrics and logging in every handler
                          (what registered @o11y plugins give routes does not count)
  --format <f>[=<file>]   stylish (default), json, github, sarif; repeatable or
                          comma-separated; "=<file>" writes that format to a file
  --output <file>         write the formats given without "=<file>" to <file>
  --config <file>         use this config (.o11y-gate.json or a package.json)
  --baseline <file>       accept the findings recorded in <file>
  --write-baseline <file> record the current findings in <file> and exit 0
  --debug                 print stack traces of errors
  -h, --help              show this help
  -v, --version           show the version

Exit codes: 0 no error findings, 1 error findings, 2 usage, configuration or git error.
`

interface Target { format: FormatName, file: string | undefined }

export function parseFormats (values: readonly string[], output: string | undefined): Target[] {
  const targets: Target[] = []
  for (const value of values) {
    for (const item of value.split(',')) {
      const trimmed = item.trim()
      if (trimmed === '') continue
      const eq = trimmed.indexOf('=')
      const name = (eq === -1 ? trimmed : trimmed.slice(0, eq)) as FormatName
      const file = eq === -1 ? undefined : trimmed.slice(eq + 1)
      if (!FORMATS.includes(name)) throw usageError(`unknown format "${name}" (use ${FORMATS.join(', ')})`)
      if (file === '') throw usageError(`--format ${name}= needs a file name after "="`)
      targets.push({ format: name, file: file ?? output })
    }
  }
  if (targets.length === 0) targets.push({ format: 'stylish', file: output })
  const files = targets.filter((t) => t.file !== undefined).map((t) => resolve(t.file as string))
  const dup = files.find((f, i) => files.indexOf(f) !== i)
  if (dup !== undefined) throw usageError(`two formats would write to the same file ${relative(process.cwd(), dup) || dup}`)
  return targets
}

function toPosix (p: string): string {
  return p.split(sep).join('/')
}

function hasSourceExtension (file: string): boolean {
  const lower = file.toLowerCase()
  return SOURCE_EXTENSIONS.some((ext) => lower.endsWith(ext))
}

function isGenerated (text: string): boolean {
  const head = text.split('\n', 5).join('\n')
  return GENERATED_MARKERS.some((m) => head.includes(m))
}

function walkFiles (dir: string, settings: Settings, out: string[]): void {
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch (err) {
    throw readError(`cannot read directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err)
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const abs = join(dir, e.name)
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name === '.git' || settings.isExcludedDir(abs)) continue
      walkFiles(abs, settings, out)
    } else if (e.isFile() && hasSourceExtension(e.name)) {
      out.push(abs)
    }
  }
}

function projectRootOf (file: string, top: string): string {
  let dir = dirname(file)
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (dir === top || parent === dir) return top
    dir = parent
  }
}

/** Source files of one project, without nested projects (directories with their own package.json). */
function projectFiles (dir: string, settings: Settings, out: string[], isRoot = true): void {
  if (!isRoot && existsSync(join(dir, 'package.json'))) return
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    // o11y-gate-ignore error-observed: an unreadable directory registers nothing; checked files are read elsewhere
    return
  }
  for (const e of entries) {
    const abs = join(dir, e.name)
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name === '.git' || settings.isExcludedDir(abs)) continue
      projectFiles(abs, settings, out, false)
    } else if (e.isFile() && hasSourceExtension(e.name) && settings.isIncluded(abs)) {
      out.push(abs)
    }
  }
}

interface Values {
  base?: string
  staged?: boolean
  files?: boolean
  all?: boolean
  strict?: boolean
  format?: string[]
  output?: string
  config?: string
  baseline?: string
  'write-baseline'?: string
  debug?: boolean
  help?: boolean
  version?: boolean
}

function parse (argv: string[]): { values: Values, positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        [CLI_FLAGS.base]: { type: 'string' },
        [CLI_FLAGS.staged]: { type: 'boolean' },
        [CLI_FLAGS.files]: { type: 'boolean' },
        [CLI_FLAGS.all]: { type: 'boolean' },
        [CLI_FLAGS.strict]: { type: 'boolean' },
        [CLI_FLAGS.format]: { type: 'string', multiple: true, short: 'f' },
        [CLI_FLAGS.output]: { type: 'string', short: 'o' },
        [CLI_FLAGS.config]: { type: 'string', short: 'c' },
        [CLI_FLAGS.baseline]: { type: 'string' },
        [CLI_FLAGS.writeBaseline]: { type: 'string' },
        [CLI_FLAGS.debug]: { type: 'boolean' },
        [CLI_FLAGS.help]: { type: 'boolean', short: 'h' },
        [CLI_FLAGS.version]: { type: 'boolean', short: 'v' }
      }
    })
    return { values: values as Values, positionals }
  } catch (err) {
    // parseArgs' first sentence names the problem; the rest is advice about `--`.
    const first = (err as Error).message.split('\n')[0]?.split('. ')[0]?.replace(/\.$/, '') ?? 'bad arguments'
    throw usageError(`${first} (see --help)`)
  }
}

/** Collects what a run prints; the caller (the bin's main) writes it. */
class Buffer {
  text = ''
  write (chunk: string): void { this.text += chunk }
}

export function run (argv: string[], io: RunIO = {}): GateResult {
  const cwd = resolve(io.cwd ?? process.cwd())
  const stdout = new Buffer()
  const stderr = new Buffer()
  const result = runTo(argv, cwd, stdout, stderr)
  return { ...result, stdout: stdout.text, stderr: stderr.text }
}

type Outcome = Omit<GateResult, 'stdout' | 'stderr'>

function runTo (argv: string[], cwd: string, stdout: Buffer, stderr: Buffer): Outcome {
  const debug = argv.includes(`--${CLI_FLAGS.debug}`)
  try {
    return execute(argv, cwd, stdout, stderr)
  } catch (err) {
    if (err instanceof GateError) {
      stderr.write(`${TOOL_NAME}: ${err.code}: ${err.message.replace(/^@o11y\/ci-gate: /, '')}\n`)
      if (debug) stderr.write(`${err.stack ?? ''}\n${err.cause instanceof Error ? `caused by: ${err.cause.stack ?? ''}\n` : ''}`)
      return { exitCode: EXIT.USAGE, error: { code: err.code, message: err.message } }
    }
    // o11y-gate-ignore error-observed: reported on stderr with exit code 2; a CLI has no logger or span
    const e = err instanceof Error ? err : new Error(String(err))
    stderr.write(`${TOOL_NAME}: internal error: ${e.message}${debug ? `\n${e.stack ?? ''}` : ' (run with --debug for the stack trace)'}\n`)
    return { exitCode: EXIT.USAGE, error: { code: ERROR_CODES.INTERNAL, message: e.message } }
  }
}

function execute (argv: string[], cwd: string, stdout: Buffer, stderr: Buffer): Outcome {
  const { values, positionals } = parse(argv)
  if (values.help === true) { stdout.write(HELP); return { exitCode: EXIT.OK } }
  if (values.version === true) { stdout.write(`${VERSION}\n`); return { exitCode: EXIT.OK } }

  const modes = (['base', 'staged', 'files', 'all'] as const).filter((m) => values[m] !== undefined && values[m] !== false)
  if (modes.length > 1) throw usageError(`--${modes[0] ?? ''} and --${modes[1] ?? ''} cannot be combined; pick one mode`)
  const mode = modes[0] ?? 'default'
  if (mode === 'files' && positionals.length === 0) throw usageError('--files needs at least one file')
  const targets = parseFormats(values.format ?? [], values.output)

  const top = repoRoot(cwd)
  const root = top ?? cwd
  const settings = new Settings(loadConfig(cwd, values.config, top), values.strict === true)

  // Which files, and which of their lines, to check.
  let candidates: string[] = []
  let changes: Map<string, ChangedLines> | undefined
  let what: string
  if (mode === 'all' || mode === 'files') {
    const paths = positionals.length > 0 ? positionals : ['.']
    for (const p of paths) {
      const abs = resolve(cwd, p)
      let st: import('node:fs').Stats
      try {
        st = statSync(abs)
      } catch {
        throw usageError(`path ${p} does not exist`)
      }
      if (st.isDirectory()) {
        if (mode === 'files') throw usageError(`--files takes files, and ${p} is a directory (use --all ${p})`)
        walkFiles(abs, settings, candidates)
      } else {
        candidates.push(abs)
      }
    }
    what = mode === 'all' ? `all files under ${paths.join(', ')}` : 'the given files'
  } else {
    if (top === undefined) throw new GateError(ERROR_CODES.GIT, `${cwd} is not inside a git repository (use --all or --files outside one)`)
    if (mode === 'staged') {
      changes = stagedChanges(top)
      what = 'lines staged in the index'
    } else {
      const ref = values.base ?? defaultBase(top)
      const mb = mergeBase(top, ref)
      changes = changesSince(top, mb)
      what = `lines changed since ${ref} (merge base ${shortSha(top, mb)})`
    }
    const limits = positionals.map((p) => resolve(cwd, p))
    for (const path of [...changes.keys()].sort()) {
      const abs = resolve(top, path)
      if (limits.length > 0 && !limits.some((l) => abs === l || abs.startsWith(l + sep))) continue
      if (hasSourceExtension(abs)) candidates.push(abs)
    }
  }
  const unique = [...new Set(candidates)]
  candidates = unique.filter((abs) => hasSourceExtension(abs) && settings.isIncluded(abs)).sort()
  if (mode === 'files' && candidates.length < unique.length) {
    // Files named explicitly but left out are worth a word: the user expected them checked.
    const skipped = unique.filter((abs) => !candidates.includes(abs)).map((abs) => toPosix(relative(cwd, abs))).sort()
    stderr.write(`${TOOL_NAME}: skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that the configuration excludes or that are not sources: ${skipped.join(', ')}\n`)
  }

  const registrations = new Map<string, ProjectScan>()
  const registrationsOf = (abs: string): { reg: ProjectScan, name: string } => {
    const projectDir = projectRootOf(abs, root)
    let reg = registrations.get(projectDir)
    if (reg === undefined) {
      reg = { registrations: { metrics: false, tracing: false, logging: false }, plugins: { metrics: false, tracing: false, logging: false } }
      const files: string[] = []
      projectFiles(projectDir, settings, files)
      // `node --import @o11y/tracing/register` in the project's scripts sets up tracing too.
      if (existsSync(join(projectDir, 'package.json'))) files.push(join(projectDir, 'package.json'))
      for (const f of files) {
        let text: string
        try {
          text = readFileSync(f, 'utf8')
        } catch {
          // o11y-gate-ignore error-observed: a file that vanished while walking registers nothing
          continue
        }
        mergeScan(reg, scanProjectFile(f, text))
      }
      registrations.set(projectDir, reg)
    }
    return { reg, name: toPosix(relative(root, projectDir)) || '.' }
  }

  const findings: Finding[] = []
  const handlers: HandlerCoverage[] = []
  let suppressed = 0
  let checked = 0
  const generated: string[] = []
  for (const abs of candidates) {
    const rel = toPosix(relative(root, abs))
    let text: string
    try {
      text = mode === 'staged' ? stagedContent(root, rel) : readFileSync(abs, 'utf8')
    } catch (err) {
      if (err instanceof GateError) throw err
      throw readError(`cannot read ${rel}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err)
    }
    if (isGenerated(text)) { generated.push(toPosix(relative(cwd, abs))); continue }
    checked++
    const changed = changes?.get(rel)
    const project = registrationsOf(abs)
    const result = analyzeFile({
      file: rel,
      text,
      rules: settings.rulesFor(abs),
      changed: changed === undefined ? undefined : (a, b) => intersects(changed, a, b),
      projectRegistrations: project.reg.registrations,
      projectPlugins: project.reg.plugins,
      projectName: project.name
    })
    findings.push(...result.findings)
    handlers.push(...result.handlers)
    suppressed += result.suppressed
  }

  if (mode === 'files' && generated.length > 0) {
    stderr.write(`${TOOL_NAME}: skipped ${generated.length} generated file${generated.length === 1 ? '' : 's'} (${GENERATED_MARKERS.join(' or ')} in the first lines): ${generated.join(', ')}\n`)
  }
  findings.sort(compareFindings)
  handlers.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line))

  let baselined = 0
  let reported = findings
  if (values.baseline !== undefined) {
    const known = readBaseline(resolve(cwd, values.baseline), values.baseline)
    reported = findings.filter((f) => !known.has(f.fingerprint))
    baselined = findings.length - reported.length
  }
  const report: Report = { findings: reported, handlers, filesChecked: checked, suppressed, baselined }

  if (values['write-baseline'] !== undefined) {
    writeBaseline(resolve(cwd, values['write-baseline']), values['write-baseline'], findings)
  }

  let toStdout = ''
  for (const t of targets) {
    const text = render(t.format, report, VERSION)
    if (t.file === undefined) { toStdout += text; continue }
    const abs = resolve(cwd, t.file)
    try {
      mkdirSync(dirname(abs), { recursive: true })
      writeFileSync(abs, text)
    } catch (err) {
      throw outputError(`cannot write ${t.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err)
    }
  }
  stdout.write(toStdout)

  const errors = reported.filter((f) => f.severity === 'error').length
  const warnings = reported.length - errors
  stderr.write(`${TOOL_NAME}: checked ${checked} file${checked === 1 ? '' : 's'} (${what}): ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}` +
    `${suppressed > 0 ? `, ${suppressed} suppressed` : ''}${baselined > 0 ? `, ${baselined} in baseline` : ''}\n`)
  if (values['write-baseline'] !== undefined) {
    stderr.write(`${TOOL_NAME}: wrote ${findings.length} finding${findings.length === 1 ? '' : 's'} to baseline ${values['write-baseline']}\n`)
    return { exitCode: EXIT.OK, report }
  }
  return { exitCode: errors > 0 ? EXIT.FINDINGS : EXIT.OK, report }
}

export function compareFindings (a: Finding, b: Finding): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1
  if (a.line !== b.line) return a.line - b.line
  if (a.column !== b.column) return a.column - b.column
  if (a.ruleId !== b.ruleId) return a.ruleId < b.ruleId ? -1 : 1
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0
}
