/** Where to land after sign-in: kept in a short-lived cookie across the trip to the provider. */
import { isProduction, type Env } from '~/server/env.server'
import { safeRedirect } from '~/utils/misc'
import { readCookie } from './session.server'

const name = (env: Env) => (isProduction(env) ? '__Host-intakepilot_redirect' : 'intakepilot_redirect')

export function redirectToCookie(env: Env, to: string | null) {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', to === null ? 'Max-Age=0' : 'Max-Age=600']
  if (isProduction(env)) attributes.push('Secure')
  return `${name(env)}=${to === null ? '' : encodeURIComponent(to)}; ${attributes.join('; ')}`
}

export function readRedirectTo(env: Env, request: Request) {
  const raw = readCookie(request, name(env))
  return safeRedirect(raw ? decodeURIComponent(raw) : null, '/')
}
