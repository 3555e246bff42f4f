import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkFiles, generateFiles, loadSpec, run } from '../src/index'
import { DEPLOY_DIR, ORDER_SERVICE_SPEC } from './helpers'

t.test('the checked-in SLO files under deploy/ are exactly what the generator makes of deploy/slo/order-service.yaml', async (t) => {
  const files = generateFiles(loadSpec(ORDER_SERVICE_SPEC), { specFile: ORDER_SERVICE_SPEC, outDir: DEPLOY_DIR })
  for (const file of files) {
    let onDisk = ''
    try {
      onDisk = readFileSync(join(DEPLOY_DIR, file.path), 'utf8')
    } catch { /* reported below */ }
    t.ok(onDisk === file.content, `deploy/${file.path} is up to date (regenerate: node packages/slo/bin/o11y-slo.js generate --spec deploy/slo/order-service.yaml --out-dir deploy)`)
  }
  t.same(checkFiles(DEPLOY_DIR, files).map((f) => f.status), ['up-to-date', 'up-to-date', 'up-to-date'])
})

t.test('o11y-slo check agrees, whatever the working directory', async (t) => {
  const result = run(['check', '--spec', ORDER_SERVICE_SPEC, '--out-dir', DEPLOY_DIR])
  t.equal(result.exitCode, 0, result.stderr)
  t.equal(result.stdout, '3 generated files up to date\n')
})
