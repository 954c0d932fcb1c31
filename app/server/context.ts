import type { AuditEvent, AuditRequest } from '~/audit/audit.server'
import type { SessionUser } from '~/auth/identity.server'
import type { SessionData } from '~/auth/session.server'
import type { PhiCipher } from '~/crypto/phi.server'
import type { TenantDatabase, TenantTx } from '~/tenancy/tenant.server'
import type { Env } from '~/utils/env.server'
import type { RequestClinic } from '~/tenancy/request-start.server'

/** What every loader and action receives as `context` (built once per request by the pipeline). */
declare module '@remix-run/cloudflare' {
  interface AppLoadContext {
    env: Env
    requestId: string
    /** CSP nonce for this response's scripts. */
    nonce: string
    /** Scoped to the signed-in user's clinic, user id and role (RLS). */
    db: TenantDatabase
    user: SessionUser | null
    /** The clinic this request works in (name, slug, settings), read with the user; null for none. */
    clinic: RequestClinic | null
    session: SessionData | null
    /** Why an incoming session was ended this request (shown on the sign-in page). */
    sessionEnded: 'expired' | 'disabled' | null
    /** A refreshed (or cleared) session cookie to send with this response, if any. */
    sessionCookie: string | null
    auditRequest: AuditRequest
    /** Records an audit event in the given transaction, as this request's user. */
    audit: (tx: TenantTx, event: AuditEvent) => Promise<void>
    /**
     * The PHI cipher for this deployment's keys, one per request: the clinic keys it derives
     * are derived once for all of the request's reads. Built when first used, so a request
     * that shows no PHI never reads the key ring.
     */
    phi: PhiCipher
    /**
     * Work that outlives the response, such as a streamed body that still queries (the
     * audit export): the request's database connection stays open until it settles.
     */
    waitUntil: (promise: Promise<unknown>) => void
    /** Lets this page's scripts fetch from one more origin (CSP connect-src), e.g. the local AI server. */
    allowConnectTo: (origin: string) => void
    /**
     * Tells the pipeline about an error no route answered (handleError, the API's wrapper): the
     * database being away becomes a 503 instead of the 500 Remix rendered (failures.server.ts).
     */
    noteFailure: (error: unknown) => void
  }
}

export {}
