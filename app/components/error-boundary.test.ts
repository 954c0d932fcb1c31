/**
 * Every page of the signed-in app has its own error boundary, so that an error shows inside
 * the app's header and navigation: without one, the boundary of the shell (_app.tsx) takes the
 * whole screen. Resource routes (no component) have nothing to show and are left out.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROUTES = join(import.meta.dirname, '..', 'routes')
const pages = readdirSync(ROUTES)
  .filter((file) => file.startsWith('_app.') && file.endsWith('.tsx'))
  .map((file) => ({ file, source: readFileSync(join(ROUTES, file), 'utf8') }))
  .filter(({ source }) => /^export default function /m.test(source))

describe('the pages of the signed-in app', () => {
  it('are found', () => expect(pages.length).toBeGreaterThanOrEqual(12))
  it.each(pages)('$file shows its errors with the general error boundary', ({ source }) => {
    expect(source).toMatch(/^export function ErrorBoundary\(\) \{\n {2}return <GeneralErrorBoundary \/>\n\}$/m)
  })
})
