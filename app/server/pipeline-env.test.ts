import type { ServerBuild } from '@remix-run/cloudflare'
import { afterEach, describe, expect, test, vi } from 'vitest'
import type { Env } from '~/utils/env.server'
import { createRequestPipeline, type PipelineContext } from './pipeline.server'

// No route is reached: a deployment with unusable bindings is refused before anything runs.
const build = { routes: {}, assets: { routes: {} }, entry: { module: {} }, future: {} } as unknown as ServerBuild
const lacking = { APP_ENV: 'production', DATABASE_URL: 'postgresql://app:hunter2-password@db.example.org/app' } as unknown as Env

afterEach(() => vi.restoreAllMocks())

describe('a deployment whose bindings are not usable', () => {
  test.each([
    ['a page', '/queue', 'text/html'],
    ['the API', '/api/v1/referrals', 'application/json'],
  ])('%s answers 500, without a stack or a value, and the log names each binding', async (_, path, type) => {
    const logged: string[] = []
    vi.spyOn(console, 'error').mockImplementation((line: string) => void logged.push(line))
    const handle = createRequestPipeline(build)
    const response = await handle({
      request: new Request(`https://intake.example.org${path}`) as PipelineContext['request'],
      env: lacking,
      waitUntil: () => {},
    })
    expect(response.status).toBe(500)
    expect(response.headers.get('Content-Type')).toContain(type)
    expect(response.headers.get('Content-Security-Policy')).toBeTruthy()
    const body = await response.text()
    expect(body).not.toMatch(/SESSION_SECRETS|hunter2|at .*\.ts/)
    expect(logged).toHaveLength(1)
    const line = JSON.parse(logged[0]!)
    expect(line).toMatchObject({ level: 'error', msg: 'environment not usable', requestId: response.headers.get('X-Request-Id') })
    expect(line.problems).toEqual(
      expect.arrayContaining(['SESSION_SECRETS is missing', 'PHI_KEYRING is missing', 'OIDC_AUTHORITY is missing', 'API_AUDIENCE is missing']),
    )
    expect(logged[0]).not.toContain('hunter2')
  })
})
