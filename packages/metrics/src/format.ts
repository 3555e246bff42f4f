/** Text of the exposition formats, shared by the generic renderer and the request metrics' fast path. */

export function formatLabels (labels: Record<string, unknown> | undefined): string {
  if (labels === undefined) return ''
  let s = ''
  for (const k in labels) {
    const v = labels[k]
    if (v === undefined || v === null) continue
    s += `${s === '' ? '' : ','}${k}="${escapeLabel(String(v))}"`
  }
  return s === '' ? '' : `{${s}}`
}

/**
 * The label text of `{ ...defaults, ...labels }` without building that object: the registry's
 * default labels first (a sample's own value wins), then the sample's other labels.
 */
export function formatLabelsOver (defaults: Record<string, unknown>, labels: Record<string, unknown> | undefined): string {
  let s = ''
  for (const k in defaults) {
    const v = labels !== undefined && Object.hasOwn(labels, k) ? labels[k] : defaults[k]
    if (v === undefined || v === null) continue
    s += (s === '' ? '' : ',') + k + '="' + escapeLabel(String(v)) + '"'
  }
  if (labels !== undefined) {
    for (const k in labels) {
      if (!Object.hasOwn(labels, k) || Object.hasOwn(defaults, k)) continue
      const v = labels[k]
      if (v === undefined || v === null) continue
      s += (s === '' ? '' : ',') + k + '="' + escapeLabel(String(v)) + '"'
    }
  }
  return s === '' ? '' : '{' + s + '}'
}

const NEEDS_ESCAPE = /[\\\n"]/

export function escapeLabel (v: string): string {
  // Almost no label value needs escaping; one test instead of three replaces on every sample.
  if (!NEEDS_ESCAPE.test(v)) return v
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

export function escapeHelp (v: string, om: boolean): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
  return om ? s.replace(/"/g, '\\"') : s
}

export function formatValue (v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}
