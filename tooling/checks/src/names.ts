import { readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import ts from 'typescript'
import { sourceFiles } from './cycles'

/** One name of @o11y/semconv: its value and where it is exported (`METRIC_NAMES.requestsTotal`). */
export interface Name {
  value: string | number
  exportPath: string
  /** Part of an exported list (KNOWN_HTTP_METHODS, HEALTH_ROUTES, DEFAULT_LATENCY_BUCKETS). */
  list?: string
}

/** Every name the module exports: strings and numbers, objects and arrays walked. */
export function namesOf (mod: Record<string, unknown>): Name[] {
  const out: Name[] = []
  const visit = (value: unknown, path: string, list: string | undefined): void => {
    if (typeof value === 'string' || typeof value === 'number') out.push(list === undefined ? { value, exportPath: path } : { value, exportPath: path, list })
    else if (Array.isArray(value)) value.forEach((v, i) => { visit(v, `${path}[${i}]`, list ?? path) })
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`, list)
  }
  for (const [k, v] of Object.entries(mod).sort(([a], [b]) => a.localeCompare(b))) if (k !== 'default' && k !== '__esModule') visit(v, k, undefined)
  return out
}

/**
 * The names a single string literal is compared against. A name made only of letters (`route`,
 * `method`, `GET`, `le`) is an ordinary word in code too (a property, a severity, a kind), and a
 * value starting with `/` (a route path) may be an app's own route that happens to be a default;
 * these are found when copied as a list (see `lists`), not one by one.
 */
function isDistinctive (name: Name): name is Name & { value: string } {
  return typeof name.value === 'string' && name.list === undefined && /[^A-Za-z]/.test(name.value) && !name.value.startsWith('/')
}

/** An error or warning code of the suite: `O11Y_ERR_<PKG>_<KEY>`. */
const ERROR_CODE = /^O11Y_ERR_[A-Z0-9_]+$/

/** A metric name is also found inside a longer string (PromQL, a message): `rate(http_requests_total[5m])`. */
const METRIC_GROUPS = /^(?:METRIC_NAMES|OTEL_METRIC_NAMES|RUNTIME_METRIC_NAMES)\./

export interface Finding {
  /** Path relative to the scanned root, with `/`. */
  file: string
  line: number
  /** The text found: the literal's value, or the metric name inside it, or the list's elements. */
  value: string
  /** `copy`: equal to a name of @o11y/semconv; `prefix`: an error code with no prefix of ERROR_CODE_PREFIXES. */
  kind: 'copy' | 'prefix'
  /** Which export of @o11y/semconv it copies, or the one it should start with. */
  copies: string
}

export interface Matcher {
  exact: Map<string, string>
  /** Every error-code prefix (`O11Y_ERR_METRICS_`): a literal code must start with one of them. */
  prefixes: { exportPath: string, value: string }[]
  metrics: { name: string, exportPath: string, pattern: RegExp }[]
  lists: { exportPath: string, members: Set<string | number>, min: number }[]
}

export function matcher (names: Name[]): Matcher {
  const exact = new Map<string, string>()
  for (const n of names.filter(isDistinctive)) exact.set(n.value, exact.has(n.value) ? `${exact.get(n.value)} / ${n.exportPath}` : n.exportPath)
  const metrics = names
    .filter((n): n is Name & { value: string } => typeof n.value === 'string' && METRIC_GROUPS.test(n.exportPath))
    .map((n) => ({
      name: n.value,
      exportPath: n.exportPath,
      // Not part of a longer identifier; `:` on either side is a recording rule's own name.
      pattern: new RegExp(`(?<![A-Za-z0-9_:])${n.value}(?:_bucket|_sum|_count)?(?![A-Za-z0-9_:])`)
    }))
  const byList = new Map<string, Set<string | number>>()
  for (const n of names) if (n.list !== undefined) byList.set(n.list, (byList.get(n.list) ?? new Set()).add(n.value))
  // A copy of a list: at least 3 of its members, and at least half of it, in one array literal.
  const lists = [...byList].map(([exportPath, members]) => ({ exportPath, members, min: Math.max(3, Math.ceil(members.size / 2)) }))
  const prefixes = names
    .filter((n): n is Name & { value: string } => typeof n.value === 'string' && n.exportPath.startsWith('ERROR_CODE_PREFIXES.'))
    .map((n) => ({ exportPath: n.exportPath, value: n.value }))
  return { exact, metrics, prefixes, lists }
}

/** The literal value of an array element (`'GET'`, `0.25`, `-1`), or undefined. */
function elementValue (node: ts.Expression): string | number | undefined {
  if (ts.isStringLiteralLike(node)) return node.text
  if (ts.isNumericLiteral(node)) return Number(node.text)
  return undefined
}

/** Findings in one TypeScript source text. */
export function scanText (text: string, file: string, m: Matcher): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const out: Finding[] = []
  const add = (node: ts.Node, value: string, copies: string, kind: Finding['kind'] = 'copy'): void => {
    out.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, value, kind, copies })
  }
  const embedded = (node: ts.Node, value: string): void => {
    for (const metric of m.metrics) {
      const hit = metric.pattern.exec(value)
      if (hit !== null) add(node, hit[0], metric.exportPath)
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isExternalModuleReference(node)) return
    if (ts.isStringLiteralLike(node)) {
      const copies = m.exact.get(node.text)
      if (copies !== undefined) add(node, node.text, copies)
      else embedded(node, node.text)
      if (ERROR_CODE.test(node.text) && !m.prefixes.some((p) => node.text.startsWith(p.value))) {
        add(node, node.text, 'ERROR_CODE_PREFIXES', 'prefix')
      }
    } else if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      embedded(node, node.text)
    } else if ((ts.isPropertyAssignment(node) || ts.isPropertySignature(node)) && ts.isIdentifier(node.name)) {
      // `{ http_requests_total: ... }`: a name spelled as a key is a copy as well.
      const copies = m.exact.get(node.name.text)
      if (copies !== undefined) add(node.name, node.name.text, copies)
    } else if (ts.isArrayLiteralExpression(node)) {
      const values = node.elements.map(elementValue)
      for (const list of m.lists) {
        const hits = values.filter((v) => v !== undefined && list.members.has(v))
        if (hits.length >= list.min) add(node, `[${hits.map((v) => JSON.stringify(v)).join(', ')}]`, list.exportPath)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

/** Folders scanned: the `src` of every workspace package but the names package itself. */
export function scannedDirs (packages: string[], namesPackage: string): string[] {
  return packages.filter((p) => p !== namesPackage).map((p) => join(p, 'src'))
}

/** Findings in every TypeScript source below `dirs` (fixtures and build output skipped), less the allowed ones. */
export function scanDirs (root: string, dirs: string[], m: Matcher, allowed: ReadonlyMap<string, string> = new Map()): Finding[] {
  const out: Finding[] = []
  for (const dir of dirs) {
    let files: string[]
    try {
      files = sourceFiles(dir)
    } catch {
      continue // a package without src/
    }
    for (const path of files) {
      const file = relative(root, path).split(sep).join('/')
      for (const f of scanText(readFileSync(path, 'utf8'), file, m)) if (!allowed.has(`${f.file}: ${f.value}`)) out.push(f)
    }
  }
  return out
}

/** `deploy/src/constants.ts:47 'http_requests_total' copies METRIC_NAMES.requestsTotal of @o11y/semconv`. */
export function formatFinding (f: Finding): string {
  const value = f.value.startsWith('[') ? f.value : JSON.stringify(f.value)
  if (f.kind === 'prefix') return `${f.file}:${f.line} ${value} starts with no prefix of ERROR_CODE_PREFIXES of @o11y/semconv; use the package's prefix (or add it there)`
  return `${f.file}:${f.line} ${value} copies ${f.copies} of @o11y/semconv; import it`
}
