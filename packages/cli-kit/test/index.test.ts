import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { EXIT, lines, projectHome } from '../src/index'

t.test('exit codes', async (t) => {
  t.same(EXIT, { OK: 0, FINDINGS: 1, USAGE: 2 })
})

t.test('lines', async (t) => {
  t.equal(lines([]), '')
  t.equal(lines(['a']), 'a\n')
  t.equal(lines(['a', 'b']), 'a\nb\n')
})

t.test('finish writes both streams of a real process and sets its exit code, without exit()', async (t) => {
  const script = `
    const { finish } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))})
    finish({ exitCode: 1, stdout: 'x'.repeat(200000) + '\\nreport\\n', stderr: 'one line\\n' })
    process.on('exit', (code) => process.stderr.write('exit ' + code + '\\n'))`
  const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 1e7 })
  t.equal(res.status, 1)
  t.equal(res.stdout.length, 200008, 'a large stdout reaches the pipe whole')
  t.ok(res.stdout.endsWith('\nreport\n'))
  t.equal(res.stderr, 'one line\nexit 1\n', 'the process ends normally, with the code')

  const quiet = spawnSync(process.execPath, ['-e', script.replace("'x'.repeat(200000) + '\\nreport\\n'", "''").replace("'one line\\n'", "''").replace('exitCode: 1', 'exitCode: 0')], { encoding: 'utf8' })
  t.equal(quiet.status, 0)
  t.equal(quiet.stdout, '')
  t.equal(quiet.stderr, 'exit 0\n', 'empty output writes nothing')
})

t.test('projectHome: the https URL of a package.json repository', async (t) => {
  t.equal(projectHome({ repository: { url: 'git+https://github.com/o11y-fastify/o11y-fastify.git' } }), 'https://github.com/o11y-fastify/o11y-fastify')
  t.equal(projectHome({ repository: 'https://git.example.org/team/repo/' }), 'https://git.example.org/team/repo')
  t.throws(() => projectHome({}), /no https repository URL \(got undefined\)/)
  t.throws(() => projectHome({ repository: { url: 'git@github.com:o/r.git' } }), /no https repository URL/)
  t.throws(() => projectHome({ repository: { url: 'http://insecure.example.org/r.git' } }), /no https repository URL/)
})
