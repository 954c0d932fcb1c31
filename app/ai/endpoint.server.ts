/**
 * Which local model server a staff member's browser talks to: their own choice (kept with
 * their user row, set on the AI settings page), else the clinic's, else LM Studio's default.
 * The page's CSP allows exactly that origin, and nothing else, for connect-src.
 *
 * Never from a cookie: a cookie can be planted from a sibling origin, and it would widen the CSP
 * and send referrals to whoever planted it (docs/decisions/020-server-side-sessions.md). Cookies
 * of the old `intakepilot_ai_endpoint` are ignored.
 */
import { eq, sql } from 'drizzle-orm'
import { clinics } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { DEFAULT_AI_ENDPOINT, normalizeEndpoint } from './endpoint'

export { DEFAULT_AI_ENDPOINT, normalizeEndpoint }

export function aiEndpointFor(user: { aiEndpoint: string | null }, clinicSettings: { localAiEndpoint?: string } | null) {
  const mine = normalizeEndpoint(user.aiEndpoint)
  const clinic = normalizeEndpoint(clinicSettings?.localAiEndpoint)
  const endpoint = mine ?? clinic ?? DEFAULT_AI_ENDPOINT
  return { endpoint, origin: new URL(endpoint).origin, source: mine ? 'you' : clinic ? 'clinic' : 'default' } as const
}

/** The signed-in user's own endpoint (null: use the clinic's); only their own row (drizzle/0015). */
export async function saveMyAiEndpoint(tx: TenantTx, endpoint: string | null) {
  const result = await tx.execute<{ saved: boolean }>(sql`select user_ai_endpoint_set(${endpoint}) as saved`)
  return Boolean(result.rows[0]?.saved)
}

/** The clinic's default endpoint (null: LM Studio's); the clinic's other settings stay as they are. */
export async function saveClinicAiEndpoint(tx: TenantTx, clinicId: string, endpoint: string | null) {
  await tx
    .update(clinics)
    .set({
      settings: endpoint ? sql`${clinics.settings} || ${JSON.stringify({ localAiEndpoint: endpoint })}::jsonb` : sql`${clinics.settings} - 'localAiEndpoint'`,
    })
    .where(eq(clinics.id, clinicId))
}
