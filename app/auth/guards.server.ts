/**
 * Guards that throw: loaders and actions call them FIRST, before any query.
 */
import { redirect, type AppLoadContext } from '@remix-run/cloudflare'
import { deniedEvent, type PhiAttempt } from '~/audit/audit.server'
import type { RequestClinic } from '~/tenancy/request-start.server'
import { isUuid } from '~/utils/keyset'
import type { UserRole } from '~/db/enums'
import type { SessionUser } from './identity.server'
import { hasPermission, type Permission } from './permissions'

/** A person signed in (never an EHR integration: only /api and /fhir take its app-only token). */
export type Person = SessionUser & { role: UserRole }

/** Signed in, or off to the sign-in page, which brings them back here afterwards. */
export function requireUser(request: Request, context: AppLoadContext): Person {
  if (context.user?.role === 'integration') throw new Response('Forbidden', { status: 403, statusText: 'Forbidden' })
  if (context.user) return context.user as Person
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

/**
 * requirePermission for routes that show or change PHI (`handle.phi`): the refusal is itself
 * recorded (decisions 013, 016), as the actor, in their own clinic's chain, before the 403 is thrown.
 * Under /api the pipeline gives the 403 the API's JSON error shape.
 */
export async function requirePhiPermission(context: AppLoadContext, user: SessionUser, permission: Permission, attempt: PhiAttempt) {
  if (!hasPermission(user, permission)) await refusePhi(context, attempt, 403)
}

/** A referral id from the URL, or a recorded 404 (the row says what was attempted, not what was typed). */
export async function requirePhiId(context: AppLoadContext, id: string | undefined, attempt: PhiAttempt): Promise<string> {
  if (isUuid(id)) return id
  return refusePhi(context, attempt, 404)
}

/**
 * Records a refused attempt on PHI, then throws the refusal. In its own transaction: nothing
 * was read, and the row must stay even though the request fails. A 404 says nothing more
 * than "not found" to the caller, whatever the reason (another clinic's, another referrer's).
 */
export async function refusePhi(context: AppLoadContext, attempt: PhiAttempt, status: 403 | 404): Promise<never> {
  await context.db.tenant((tx) => context.audit(tx, deniedEvent(attempt, status)))
  throw status === 403 ? new Response('Forbidden', { status, statusText: 'Forbidden' }) : new Response('Not found', { status, statusText: 'Not Found' })
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
