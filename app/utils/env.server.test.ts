import { describe, expect, test } from 'vitest'
import { EnvError, readEnv, type Env } from './env.server'

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)))
const SHORT_KEY = btoa('sixteen bytes!!!')
const good = () =>
  ({
    APP_ENV: 'production',
    DATABASE_URL: 'postgresql://intakepilot_app:secret-password@db.example.org/intakepilot?sslmode=require',
    SESSION_SECRETS: 'one,two',
    PHI_KEYRING: JSON.stringify({ current: 'k2', keys: { k1: KEY, k2: KEY } }),
    PHI_BLIND_INDEX_KEY: KEY,
    OIDC_AUTHORITY: 'https://login.microsoftonline.com/tenant/v2.0',
    OIDC_CLIENT_ID: 'client',
    OIDC_CLIENT_SECRET: 'client-secret-value',
    API_AUDIENCE: 'api://intakepilot',
    CORS_ORIGINS: 'https://ehr.example.org, https://other.example.org/',
    REQUEST_DEADLINE_MS: '3000',
  }) as unknown as Env

function problemsOf(env: Env) {
  try {
    readEnv(env)
  } catch (error) {
    if (error instanceof EnvError) return error
  }
  throw new Error('expected an EnvError')
}

describe('the bindings, checked once per isolate', () => {
  test('a complete environment comes back as it was given', () => {
    const env = good()
    expect(readEnv(env)).toBe(env)
    expect(readEnv({ ...good(), APP_ENV: undefined, CORS_ORIGINS: '', DATABASE_WS_PROXY: '127.0.0.1:55433' })).toBeTruthy()
  })

  test('each missing binding is named, all of them at once', () => {
    const env = good() as unknown as Record<string, unknown>
    for (const name of ['DATABASE_URL', 'SESSION_SECRETS', 'PHI_KEYRING', 'OIDC_CLIENT_SECRET']) delete env[name]
    env.API_AUDIENCE = ' '
    const error = problemsOf(env as unknown as Env)
    expect(error.problems).toEqual([
      'DATABASE_URL is missing',
      'SESSION_SECRETS is missing',
      'PHI_KEYRING is missing',
      'OIDC_CLIENT_SECRET is missing',
      'API_AUDIENCE is missing',
    ])
  })

  test.each([
    ['DATABASE_URL', 'https://db.example.org/intakepilot', 'must be a postgres:// connection string'],
    ['PHI_KEYRING', '{"current":"k3","keys":{"k1":"x"}}', 'must be a JSON key ring'],
    ['PHI_KEYRING', 'not json', 'must be a JSON key ring'],
    ['PHI_KEYRING', JSON.stringify({ current: 'k1', keys: { k1: SHORT_KEY } }), 'must be a JSON key ring'],
    ['PHI_BLIND_INDEX_KEY', SHORT_KEY, 'must be a base64 key of 32 bytes'],
    ['OIDC_AUTHORITY', 'login.microsoftonline.com', 'must be an http(s) URL'],
    ['APP_ORIGIN', 'https://intake.example.org/app', 'must be an origin'],
    ['CORS_ORIGINS', 'https://ehr.example.org,*.example.org', 'must be comma-separated origins (never *)'],
    ['REQUEST_DEADLINE_MS', '30s', 'must be a whole number of milliseconds'],
    ['APP_ENV', 'staging', 'must be production, development or test'],
    ['DATABASE_WS_PROXY', 'ws://127.0.0.1:55433', 'must be host:port'],
    ['AUDIT_CHECKPOINT_KEY', 'short', 'must be a base64 key of 32 bytes'],
  ])('a malformed %s is named, and its value is not repeated', (name, value, message) => {
    const error = problemsOf({ ...good(), [name]: value })
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]).toMatch(new RegExp(`^${name} ${message.replace(/[()*]/g, '\\$&')}`))
    expect(error.message).not.toContain(value)
  })

  test('the values of the other bindings never appear in the message', () => {
    const error = problemsOf({ ...good(), PHI_BLIND_INDEX_KEY: 'nope' })
    for (const secret of ['secret-password', 'client-secret-value', KEY]) expect(error.message).not.toContain(secret)
  })

  test('the verdict is kept for the environment object: checked once, refused every time', () => {
    const env = { ...good(), SESSION_SECRETS: undefined } as unknown as Env
    const first = problemsOf(env)
    ;(env as unknown as Record<string, string>).SESSION_SECRETS = 'now set'
    expect(problemsOf(env)).toBe(first)
  })
})
