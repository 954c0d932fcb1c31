/**
 * What every /api/v1 route module uses: the success envelope, guards that throw JSON errors
 * (permission FIRST, as on the pages), the JSON body reader (415/413/400) and a wrapper that
 * turns an unexpected error into a 500 carrying only the request id.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import type { z } from 'zod'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission, type Permission } from '~/auth/permissions'
import { openReferral } from '~/referrals/open-referral.server'
import { isProduction } from '~/utils/env.server'
import { logError } from '~/utils/log.server'
import { apiError, internalError, validationError } from './errors.server'

export const MAX_BODY_BYTES = 64 * 1024

type Args = { request: Request; context: AppLoadContext; params: Record<string, string | undefined> }

export function apiRoute<A extends Args>(fn: (args: A) => Promise<Response>) {
  return async (args: A): Promise<Response> => {
    try {
      return await fn(args)
    } catch (thrown) {
      if (thrown instanceof Response) return thrown
      // The pipeline answers 503 for the database being away (failures.server.ts).
      args.context.noteFailure(thrown)
      logError(args.context.requestId, thrown, 'api', { verbose: !isProduction(args.context.env) })
      return internalError(args.context.requestId)
    }
  }
}

export function ok(data: unknown, options: { status?: number; pagination?: Record<string, unknown> | null; headers?: HeadersInit; requestId: string }) {
  return Response.json(
    { data, pagination: options.pagination ?? null, metadata: { requestId: options.requestId } },
    { status: options.status ?? 200, headers: options.headers },
  )
}

/** The pipeline already refused requests without a valid token; this narrows the type. */
export function requireApiUser(context: AppLoadContext): SessionUser & { clinicId: string } {
  const user = context.user
  if (!user) throw apiError(401)
  if (!user.clinicId) throw apiError(403)
  return user as SessionUser & { clinicId: string }
}

export function requireApiPermission(user: SessionUser, permission: Permission) {
  if (!hasPermission(user, permission)) throw apiError(403)
}

/** Parses a JSON body against a schema: 415 if not JSON, 413 over 64 KB, 400 with field errors. */
export async function readJson<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const type = request.headers.get('Content-Type') ?? ''
  if (!/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(type)) throw apiError(415)
  if (Number(request.headers.get('Content-Length') ?? 0) > MAX_BODY_BYTES) throw apiError(413, undefined, { maxBytes: MAX_BODY_BYTES })
  // Content-Length can be absent (chunked) or wrong: count what actually arrives.
  const bytes = new Uint8Array(await request.arrayBuffer())
  if (bytes.byteLength > MAX_BODY_BYTES) throw apiError(413, undefined, { maxBytes: MAX_BODY_BYTES })
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw apiError(400, 'The body is not valid JSON', { fields: {} })
  }
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw validationError(parsed.error.issues)
  return parsed.data
}

/**
 * GET of one referral over the API (its record or its history): the page's door (openReferral:
 * guards, RLS, audit, decryption); a refusal is recorded and answered 403/404 like on the page.
 */
export function openApiReferral(context: AppLoadContext, referralId: string | undefined) {
  return openReferral(context, requireApiUser(context), referralId)
}
