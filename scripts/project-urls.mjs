// The project's home URL lives in one place, the root package.json `homepage`. This script
// derives from it the repository, homepage and bugs fields of every published package.json and
// the runbook links of the hand-written alert rules under deploy/ (the SLO rules are generated
// by o11y-slo, which derives its runbook base from @o11y/slo's package.json; the SARIF help links
// of o11y-gate come from @o11y/ci-gate's). `--check` changes nothing and exits 1 on drift;
// packages/ci-gate/test/project-urls.test.ts runs it.
//   node scripts/project-urls.mjs          rewrite what drifted
//   node scripts/project-urls.mjs --check  list what drifted, exit 1 if anything did

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const WORKSPACE_DIRS = ['packages', 'apps', 'tooling']
const WORKSPACE_SINGLES = ['deploy', 'bench']
/** Hand-written files whose `runbook_url:` values point into docs/ of this repository. */
export const RUNBOOK_FILES = [
  'deploy/prometheus/rules/alerts.yml',
  'deploy/prometheus/tests/alerts.test.yml',
  'deploy/test/fixtures/wrong-annotation.test.yml'
]

export function projectHome (root) {
  const home = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).homepage
  if (typeof home !== 'string' || !/^https:\/\/[^#?]+[^/]$/.test(home)) throw new Error(`root package.json needs "homepage": the project's https URL without a trailing slash (got ${JSON.stringify(home)})`)
  return home
}

function packageDirs (root) {
  const dirs = []
  for (const parent of WORKSPACE_DIRS) {
    if (!existsSync(join(root, parent))) continue
    for (const e of readdirSync(join(root, parent), { withFileTypes: true })) {
      if (e.isDirectory() && existsSync(join(root, parent, e.name, 'package.json'))) dirs.push(`${parent}/${e.name}`)
    }
  }
  for (const d of WORKSPACE_SINGLES) if (existsSync(join(root, d, 'package.json'))) dirs.push(d)
  return dirs.sort()
}

/** package.json of a published package with the fields derived from `home`, keys in a fixed place. */
function withUrls (manifest, dir, home) {
  const fields = {
    repository: { type: 'git', url: `git+${home}.git`, directory: dir },
    homepage: `${home}/tree/main/${dir}#readme`,
    bugs: { url: `${home}/issues` }
  }
  const out = {}
  for (const [k, v] of Object.entries(manifest)) {
    if (k in fields) continue
    out[k] = v
    if (k === 'license') Object.assign(out, fields)
  }
  return 'repository' in out ? out : { ...out, ...fields }
}

function withRunbooks (text, home) {
  return text.replace(/(runbook_url: )https?:\/\/\S+?\/blob\/main\/docs\//g, `$1${home}/blob/main/docs/`)
}

/** Files whose derived URLs differ from the root homepage: [{ file, text }] with the text they should have. */
export function drift (root) {
  const home = projectHome(root)
  const out = []
  for (const dir of packageDirs(root)) {
    const file = join(root, dir, 'package.json')
    const text = readFileSync(file, 'utf8')
    const manifest = JSON.parse(text)
    if (manifest.private === true) continue
    const want = JSON.stringify(withUrls(manifest, dir, home), null, 2) + '\n'
    if (want !== text) out.push({ file: relative(root, file), text: want })
  }
  for (const rel of RUNBOOK_FILES) {
    const file = join(root, rel)
    if (!existsSync(file)) continue
    const text = readFileSync(file, 'utf8')
    const want = withRunbooks(text, home)
    if (want !== text) out.push({ file: rel, text: want })
  }
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..')
  const check = process.argv.includes('--check')
  const stale = drift(root)
  for (const { file, text } of stale) {
    if (check) process.stdout.write(`drifted from the root homepage: ${file}\n`)
    else { writeFileSync(join(root, file), text); process.stdout.write(`wrote ${file}\n`) }
  }
  if (check && stale.length > 0) {
    process.stderr.write(`${stale.length} file(s) drifted; run \`pnpm urls\` and regenerate the SLO rules (see docs/slo.md)\n`)
    process.exitCode = 1
  }
}
