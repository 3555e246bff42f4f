import t from 'tap'
import { hasTool, requireTool } from '../src/index'

t.test('hasTool finds sh and not a made-up tool', async (t) => {
  t.equal(hasTool('sh'), true)
  t.equal(hasTool('definitely-not-a-tool-o11y'), false)
})

t.test('requireTool skips with an install hint outside CI and never skips in CI', async (t) => {
  const saved = process.env.CI
  delete process.env.CI
  t.match(requireTool('definitely-not-a-tool-o11y').skip, /apt-get install prometheus/)
  t.equal(requireTool('sh').skip, false)
  process.env.CI = 'true'
  t.equal(requireTool('definitely-not-a-tool-o11y').skip, false)
  if (saved === undefined) delete process.env.CI
  else process.env.CI = saved
})
