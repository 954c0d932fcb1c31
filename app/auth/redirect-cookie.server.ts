/** Where to land after sign-in: kept in a short-lived cookie across the trip to the provider. */
import { isProduction, type Env } from '~/utils/env.server'
import { safeRedirect } from '~/utils/misc'
import { readCookie } from './session.server'

const name = (env: Env) => (isProduction(env) ? '__Host-intakepilot_redirect' : 'intakepilot_redirect')

export function redirectToCookie(env: Env, to: string | null) {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', to === null ? 'Max-Age=0' : 'Max-Age=600']
  if (isProduction(env)) attributes.push('Secure')
  return `${name(env)}=${to === null ? '' : encodeURIComponent(to)}; ${attributes.join('; ')}`
}

/** The remembered page, or home: a cookie that is not one we wrote (bad encoding, a foreign site) is ignored. */
export function readRedirectTo(env: Env, request: Request) {
  const raw = readCookie(request, name(env))
  let to: string | null = null
  try {
    to = raw ? decodeURIComponent(raw) : null
  } catch {
    // Malformed percent-encoding (`%E0%A4%A`): not ours.
  }
  return safeRedirect(to, '/')
}
