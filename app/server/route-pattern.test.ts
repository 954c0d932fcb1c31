import type { ServerBuild } from '@remix-run/cloudflare'
import { describe, expect, it } from 'vitest'
import { createRouteMatcher } from './route-pattern.server'

const route = (id: string, parentId: string | undefined, path: string | undefined, module: Record<string, unknown> = {}, index = false) => ({
  id,
  parentId,
  path,
  index,
  module,
})

const routes = [
  route('root', undefined, ''),
  route('routes/_app', 'root', undefined),
  route('routes/_app.referrals.$id', 'routes/_app', 'referrals/:id', { action: () => null }),
  route('routes/_app.referrals.new', 'routes/_app', 'referrals/new', { action: () => null, handle: { requestBody: { maxBytes: 1 } } }),
  route('routes/_app.referrals.$id.access', 'routes/_app', 'referrals/:id/access'),
]
const build = { routes: Object.fromEntries(routes.map((r) => [r.id, r])) } as unknown as ServerBuild

describe('createRouteMatcher', () => {
  const match = createRouteMatcher(build)
  const a = '0b7a3f3e-1c1d-4c3e-9a55-2a1f7c8e9d01'
  const b = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b'

  it('answers each path by its pattern, whatever the id, the same as a first lookup', () => {
    expect(match(`/referrals/${a}`)).toEqual({ pattern: '/referrals/:id', hasAction: true, bodyPolicy: undefined })
    expect(match(`/referrals/${b}`)).toEqual({ pattern: '/referrals/:id', hasAction: true, bodyPolicy: undefined })
    expect(match(`/referrals/${b}/access`)).toEqual({ pattern: '/referrals/:id/access', hasAction: false, bodyPolicy: undefined })
    expect(match('/referrals/new')).toEqual({ pattern: '/referrals/new', hasAction: true, bodyPolicy: { maxBytes: 1 } })
    expect(match('/nowhere/at/all')).toEqual({ pattern: 'unmatched', hasAction: false, bodyPolicy: undefined })
  })

  it('keeps answering right after many distinct unknown paths (the kept answers are bounded)', () => {
    for (let i = 0; i < 2000; i++) expect(match(`/x${i}`).pattern).toBe('unmatched')
    expect(match(`/referrals/${a}`).pattern).toBe('/referrals/:id')
    expect(match('/referrals/new').bodyPolicy).toEqual({ maxBytes: 1 })
  })
})
