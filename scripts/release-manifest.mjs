// Checks of a packed package.json (the manifest inside the tarball `pnpm pack` wrote), shared by
// `pnpm release` (scripts/release.mjs) and its tests (tooling/release/test).
//
// A published manifest must not hold:
// - an exact version among dependencies, peerDependencies or optionalDependencies: a pin forces
//   npm to nest a private copy whenever the app has another version (two `@opentelemetry/api`
//   copies make the app's own spans non-recording), and blocks every patch release;
// - a `workspace:` or `catalog:` range anywhere: only pnpm inside this repository understands them;
// - `example.invalid` anywhere: a placeholder URL (repository, homepage, bugs) that would ship.

/** The fields whose ranges npm resolves when a consumer installs the package. */
export const RANGE_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies']

// One version and nothing else: `1.2.3`, `=1.2.3`, `v1.2.3`, `1.2.3-rc.1`, `1.2.3+build`.
const EXACT = /^\s*=?\s*v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?\s*$/

/** True when a dependency range admits exactly one version (also behind an `npm:name@` alias). */
export function isExactVersion (range) {
  if (typeof range !== 'string') return false
  const alias = /^npm:(?:@[^/]+\/)?[^@]+@(.*)$/.exec(range)
  return EXACT.test(alias ? alias[1] : range)
}

/**
 * Problems of one packed manifest, one line each, naming the package and the key.
 * @param {string} name the package name, for the messages
 * @param {string} text the packed package.json as it is in the tarball
 * @returns {string[]}
 */
export function manifestProblems (name, text) {
  let manifest
  try {
    manifest = JSON.parse(text)
  } catch (err) {
    return [`${name}: the packed package.json is not valid JSON (${err.message})`]
  }
  const problems = []
  for (const field of RANGE_FIELDS) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (isExactVersion(range)) problems.push(`${name}: ${field}.${dep} is pinned to the exact version "${range}"; publish a range (^${String(range).replace(/^[\s=v]+|^npm:.*@/g, '')})`)
    }
  }
  for (const [path, value] of strings(manifest)) {
    if (/\b(?:workspace|catalog):/.test(value)) problems.push(`${name}: ${path} is "${value}" in the packed manifest; pnpm pack should have replaced it with a real range`)
    if (/example\.invalid/i.test(value)) problems.push(`${name}: ${path} is "${value}": example.invalid is a placeholder, not something to publish`)
  }
  for (const [path] of strings(manifest, true)) {
    if (/example\.invalid/i.test(path)) problems.push(`${name}: the key ${path} names example.invalid`)
  }
  return problems
}

/** [path, value] of every string in a JSON value (or of every key, with keys = true). */
function * strings (value, keys = false, path = '') {
  if (typeof value === 'string') {
    if (!keys) yield [path || '(root)', value]
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield * strings(v, keys, `${path}[${i}]`)
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path === '' ? k : `${path}.${k}`
      if (keys) yield [p, k]
      yield * strings(v, keys, p)
    }
  }
}

/**
 * Files of a packed tarball that name `example.invalid` (the README, the built code, the SARIF
 * help links in it), one problem line per file with the first line that does.
 * @param {string} name the package name, for the messages
 * @param {Array<[string, string]>} files [path inside the tarball, text] of each file
 * @returns {string[]}
 */
export function placeholderProblems (name, files) {
  const problems = []
  for (const [path, text] of files) {
    const at = text.search(/example\.invalid/i)
    if (at < 0) continue
    const line = text.slice(0, at).split('\n').length
    problems.push(`${name}: ${path} line ${line} names example.invalid, a placeholder that would ship`)
  }
  return problems
}
