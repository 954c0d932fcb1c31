/**
 * Guards that throw (DESIGN §7): loaders and actions call them FIRST, before any query.
 */
import { redirect, type AppLoadContext } from '@remix-run/cloudflare'
import type { RequestClinic } from '~/server/request-start.server'
import type { SessionUser } from './identity.server'
import { hasPermission, type Permission } from './permissions'

/** Signed in, or off to the sign-in page, which brings them back here afterwards. */
export function requireUser(request: Request, context: AppLoadContext): SessionUser {
  if (context.user) return context.user
  const url = new URL(request.url)
  const here = `${url.pathname}${url.search}`.replace(/\.data$/, '')
  const params = new URLSearchParams({ redirectTo: here })
  if (context.sessionEnded) params.set('reason', context.sessionEnded)
  throw redirect(`/login?${params}`)
}

/** 403 unless the user's role grants the permission (one table: permissions.ts). */
export function requirePermission(user: SessionUser, permission: Permission) {
  if (!hasPermission(user, permission)) {
    throw new Response('Forbidden', { status: 403, statusText: 'Forbidden' })
  }
}

/** A clinic to work in: a superadmin who has not switched yet is asked to pick one. */
export function requireClinic(user: SessionUser): string {
  if (user.clinicId) return user.clinicId
  throw redirect('/clinics')
}

/** The clinic the request works in (name, slug, settings), read with the user: no query needed. */
export function requireCurrentClinic(context: AppLoadContext): RequestClinic {
  if (context.clinic) return context.clinic
  throw redirect('/clinics')
}
