import t from 'tap'
import { MAX_WORKERS, parseWorkers } from '../src/cluster.js'
import { ERROR_CODES } from '../src/errors.js'

t.test('--workers: flag, --workers=N, WORKERS, default 1; the flag wins', async (t) => {
  t.equal(parseWorkers([], {}), 1)
  t.equal(parseWorkers(['--workers', '4'], {}), 4)
  t.equal(parseWorkers(['--workers=3'], {}), 3)
  t.equal(parseWorkers([], { WORKERS: '2' }), 2)
  t.equal(parseWorkers(['--workers', '5'], { WORKERS: '2' }), 5)
  t.equal(parseWorkers(['--other', 'x'], { WORKERS: '' }), 1)
})

t.test('bad worker counts stop the start with a coded error naming the flag or variable', async (t) => {
  for (const bad of ['0', '-1', '1.5', 'four', '', String(MAX_WORKERS + 1), '1e9']) {
    t.throws(() => parseWorkers(['--workers', bad], {}), { code: ERROR_CODES.config, message: /--workers must be an integer from 1 to 64/ }, `--workers ${JSON.stringify(bad)}`)
  }
  t.throws(() => parseWorkers(['--workers'], {}), { code: ERROR_CODES.config }, 'flag without a value')
  t.throws(() => parseWorkers([], { WORKERS: 'many' }), { code: ERROR_CODES.config, message: /WORKERS must be/ })
})
