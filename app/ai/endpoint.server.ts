/**
 * Which local model server a staff member's browser talks to: their own choice (a cookie
 * in their browser: the model runs on their machine), else the clinic's, else LM Studio's
 * default. The page's CSP allows exactly that origin, and nothing else, for connect-src.
 */
import { readCookie } from '~/auth/session.server'
import { isProduction, type Env } from '~/server/env.server'
import { DEFAULT_AI_ENDPOINT, normalizeEndpoint } from './endpoint'

export { DEFAULT_AI_ENDPOINT, normalizeEndpoint }

const COOKIE = 'intakepilot_ai_endpoint'

export function aiEndpointFor(request: Request, clinicSettings: { localAiEndpoint?: string } | null) {
  const mine = normalizeEndpoint(decodeURIComponent(readCookie(request, COOKIE) ?? ''))
  const clinic = normalizeEndpoint(clinicSettings?.localAiEndpoint)
  const endpoint = mine ?? clinic ?? DEFAULT_AI_ENDPOINT
  return { endpoint, origin: new URL(endpoint).origin, source: mine ? 'you' : clinic ? 'clinic' : 'default' } as const
}

export function aiEndpointCookie(env: Env, endpoint: string | null) {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', endpoint ? `Max-Age=${60 * 60 * 24 * 365}` : 'Max-Age=0']
  if (isProduction(env)) attributes.push('Secure')
  return `${COOKIE}=${endpoint ? encodeURIComponent(endpoint) : ''}; ${attributes.join('; ')}`
}
