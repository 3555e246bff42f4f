export interface Spread {
  median: number
  min: number
  max: number
}

export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function spread (values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN }
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) }
}

/** Least-squares line through (x, y) points: y = intercept + slope * x. */
export function linearFit (points: ReadonlyArray<{ x: number, y: number }>): { slope: number, intercept: number } {
  const n = points.length
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN }
  let sx = 0
  let sy = 0
  for (const p of points) { sx += p.x; sy += p.y }
  const mx = sx / n
  const my = sy / n
  let sxy = 0
  let sxx = 0
  for (const p of points) { sxy += (p.x - mx) * (p.y - my); sxx += (p.x - mx) ** 2 }
  if (sxx === 0) return { slope: Number.NaN, intercept: Number.NaN }
  const slope = sxy / sxx
  return { slope, intercept: my - slope * mx }
}
