/**
 * The first database round trip of every request: who is asking, the clinic they work in, and
 * their rate-limit count, in one statement outside any transaction (request_start,
 * drizzle/0012, drizzle/0015). Identity resolution decides *who* from the cookie or the bearer
 * token; this reads their row fresh (a disabled user is out on their next click), checks that a
 * page's session is still live (docs/decisions/020-server-side-sessions.md) and counts the request.
 */
import { sql } from 'drizzle-orm'
import type { ClinicSettings, IntegrationRole, UserRole } from '~/db/schema'
import type { Database } from '~/db/client.server'
import { RATE_LIMITS, type RateLimitVerdict } from './rate-limit.server'

/**
 * Who a request claims to be, already verified: a session cookie's user and session, a bearer
 * token's (tid, oid), or an app-only token's (tid, client id): an EHR integration (decision 058).
 */
export type Caller =
  { userId: string; sessionId: string; switchedClinic: string | null } | { tid: string; oid: string } | { tid: string; clientId: string } | null

/** An active EHR integration registered for the token's app, and the app roles IntakePilot lets it use. */
export type StartedIntegration = { id: string; name: string; roles: IntegrationRole[] }

export type StartedUser = {
  id: string
  email: string
  displayName: string
  role: UserRole
  status: string
  /** Their own local AI server, if they set one (the AI settings page). */
  aiEndpoint: string | null
}

/** The clinic this request works in (the user's own, or the one a superadmin switched to). */
export type RequestClinic = { id: string; name: string; slug: string; settings: ClinicSettings }

export type StartedRequest = {
  /** The user row, whatever its status; null when there is none. */
  user: StartedUser | null
  /** For a session caller: the session is live (not ended, not past its end). Always true for a bearer token. */
  sessionLive: boolean
  clinic: RequestClinic | null
  /** Null when nobody is counted (anonymous, outside the sign-in routes; or an inactive user). */
  rateLimit: RateLimitVerdict | null
  /** For an app-only token: its integration, or null when none is registered and active. */
  integration?: StartedIntegration | null
}

export type RequestStarter = (caller: Caller) => Promise<StartedRequest>

type Row = {
  user_id: string | null
  email: string | null
  display_name: string | null
  role: UserRole | null
  status: string | null
  ai_endpoint: string | null
  session_live: boolean
  clinic_id: string | null
  clinic_name: string | null
  clinic_slug: string | null
  clinic_settings: ClinicSettings | null
  counted: boolean
  allowed: boolean | null
  remaining: number | null
  reset_seconds: number | null
}

const NOBODY: StartedRequest = { user: null, sessionLive: false, clinic: null, rateLimit: null }

/**
 * @param anonymousKey the client address key when nobody is signed in on a sign-in route
 *   (counted per IP); null elsewhere, where an anonymous request costs no database work.
 */
export function requestStarter(db: Database, anonymousKey: string | null): RequestStarter {
  return async (caller) => {
    if (!caller && !anonymousKey) return NOBODY
    if (caller && 'clientId' in caller) return startIntegration(db, caller)
    const userId = caller && 'userId' in caller ? caller.userId : null
    const sessionId = caller && 'userId' in caller ? caller.sessionId : null
    const switched = caller && 'userId' in caller ? caller.switchedClinic : null
    const tid = caller && 'tid' in caller ? caller.tid : null
    const oid = caller && 'oid' in caller ? caller.oid : null
    const result = await db.execute<Row>(
      sql`select * from request_start(${userId}::uuid, ${sessionId}::uuid, ${tid}, ${oid}, ${switched}::uuid, ${anonymousKey}, ${RATE_LIMITS.user}, ${RATE_LIMITS.signIn})`,
    )
    const row = result.rows[0]
    if (!row) return NOBODY
    return {
      user:
        row.user_id && row.role
          ? {
              id: row.user_id,
              email: row.email ?? '',
              displayName: row.display_name ?? '',
              role: row.role,
              status: row.status ?? '',
              aiEndpoint: row.ai_endpoint,
            }
          : null,
      sessionLive: Boolean(row.session_live),
      clinic:
        row.clinic_id && row.clinic_name && row.clinic_slug
          ? { id: row.clinic_id, name: row.clinic_name, slug: row.clinic_slug, settings: row.clinic_settings ?? {} }
          : null,
      rateLimit: row.counted
        ? {
            allowed: Boolean(row.allowed),
            limit: userId || tid ? RATE_LIMITS.user : RATE_LIMITS.signIn,
            remaining: Number(row.remaining),
            resetSeconds: Number(row.reset_seconds),
          }
        : null,
    }
  }
}

type IntegrationRow = {
  integration_id: string
  integration_name: string
  roles: IntegrationRole[]
  clinic_id: string
  clinic_name: string
  clinic_slug: string
  clinic_settings: ClinicSettings | null
  allowed: boolean
  remaining: number
  reset_seconds: number
}

/** integration_start (drizzle/0034): the active integration of that app, its clinic, and its rate-limit count. */
async function startIntegration(db: Database, caller: { tid: string; clientId: string }): Promise<StartedRequest> {
  const result = await db.execute<IntegrationRow>(sql`select * from integration_start(${caller.tid}, ${caller.clientId}, ${RATE_LIMITS.user})`)
  const row = result.rows[0]
  if (!row) return { ...NOBODY, integration: null }
  return {
    user: null,
    sessionLive: true,
    clinic: { id: row.clinic_id, name: row.clinic_name, slug: row.clinic_slug, settings: row.clinic_settings ?? {} },
    rateLimit: { allowed: Boolean(row.allowed), limit: RATE_LIMITS.user, remaining: Number(row.remaining), resetSeconds: Number(row.reset_seconds) },
    integration: { id: row.integration_id, name: row.integration_name, roles: row.roles },
  }
}
