// A small glob matcher for include/exclude patterns: `**`, `*`, `?`, `[...]`, `{a,b}`.
// A pattern without `/` matches at any depth (like .gitignore); a pattern also matches everything
// below a directory it names (`apps/legacy` covers `apps/legacy/src/a.ts`).

const cache = new Map<string, RegExp>()

export function globToRegExp (pattern: string): RegExp {
  const cached = cache.get(pattern)
  if (cached !== undefined) return cached
  let p = pattern.trim().replace(/\\/g, '/')
  if (p.startsWith('./')) p = p.slice(2)
  if (p.endsWith('/')) p += '**'
  if (!p.includes('/')) p = '**/' + p
  let re = ''
  let braceDepth = 0
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string
    if (c === '*') {
      if (p[i + 1] === '*') {
        const atStart = i === 0 || p[i - 1] === '/'
        const atEnd = i + 2 === p.length || p[i + 2] === '/'
        if (atStart && atEnd) {
          // `**/` matches zero or more directories; a trailing `**` matches anything.
          if (i + 2 === p.length) re += '.*'
          else { re += '(?:[^/]*/)*'; i++ }
          i++
          continue
        }
        re += '[^/]*'
        i++
        continue
      }
      re += '[^/]*'
    } else if (c === '?') {
      re += '[^/]'
    } else if (c === '[') {
      const close = p.indexOf(']', i + 1)
      if (close === -1) { re += '\\['; continue }
      let body = p.slice(i + 1, close).replace(/\\/g, '\\\\')
      if (body.startsWith('!')) body = '^' + body.slice(1)
      re += `[${body}]`
      i = close
    } else if (c === '{') {
      braceDepth++
      re += '(?:'
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--
      re += ')'
    } else if (c === ',' && braceDepth > 0) {
      re += '|'
    } else {
      re += c.replace(/[.+^${}()|\\]/g, '\\$&')
    }
  }
  const compiled = new RegExp(`^${re}(?:/.*)?$`)
  cache.set(pattern, compiled)
  return compiled
}

export function matchesAny (path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globToRegExp(p).test(path))
}
