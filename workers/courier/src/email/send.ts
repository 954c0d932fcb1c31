/**
 * Sending what is due: claim due deliveries across clinics (claim_email_deliveries: ids and
 * clinics only), then per clinic read what each email needs under that clinic's scope, send it,
 * and record the outcome. A failure backs off (10 s, 20 s, 40 s … at most an hour) and a delivery
 * still failing a day after it was recorded is given up (`failed`, shown on the admin page).
 */
import { inArray, sql } from 'drizzle-orm'
import type { Database } from '~/db/client.server'
import { webhookEndpoints, type EmailKind } from '~/db/schema'
import { createTenantDatabase } from '~/tenancy/tenant.server'
import { courierScope as webhooksCourierScope } from '../webhooks/record'
import { composeEmail, type EmailFacts } from './compose'
import { connectMailer, MailError, type MailEnv, type Mailer } from './smtp'
import { courierScope } from './scope'

const BATCH = 25
const LEASE_SECONDS = 120
const GIVE_UP_AFTER_MS = 24 * 3600 * 1000

export const emailRetryDelaySeconds = (attempts: number) => Math.min(3600, 10 * 2 ** Math.max(0, attempts - 1))

type Due = {
  id: string
  kind: EmailKind
  attempts: number
  created_at: string | Date
  referral_id: string | null
  endpoint_id: string | null
  email: string
  reference_number: string | null
  clinic_name: string
  /** endpoint_disabled: the endpoint's host, read under the webhooks channel's scope (endpointHosts). */
  endpoint_host?: string
}

export async function sendDueEmails(db: Database, env: MailEnv): Promise<{ sent: number; failed: number }> {
  const { rows: claimed } = await db.execute<{ id: string; clinic_id: string }>(sql`select * from claim_email_deliveries(${BATCH}, ${LEASE_SECONDS})`)
  const outcome = { sent: 0, failed: 0 }
  if (claimed.length === 0) return outcome
  let mailer: Mailer | MailError | undefined
  const mailerOnce = async () =>
    (mailer ??= await connectMailer(env).catch((error: unknown) => (error instanceof MailError ? error : new MailError('smtp_unreachable'))))
  try {
    for (const clinicId of new Set(claimed.map((c) => c.clinic_id))) {
      const ids = claimed.filter((c) => c.clinic_id === clinicId).map((c) => c.id)
      const tenant = createTenantDatabase(db, courierScope(clinicId))
      const due = await tenant.tenant((tx) =>
        tx
          .execute<Due>(
            sql`select d.id, d.kind, d.attempts, d.created_at, d.referral_id, d.endpoint_id, u.email, r.reference_number, c.name as clinic_name
              from email_deliveries d
              join users u on u.clinic_id = d.clinic_id and u.id = d.recipient_id
              left join referrals r on r.clinic_id = d.clinic_id and r.id = d.referral_id
              join clinics c on c.id = d.clinic_id
             where d.clinic_id = ${clinicId} and d.id in (${sql.join(
               ids.map((id) => sql`${id}::uuid`),
               sql`, `,
             )}) and d.status = 'pending'`,
          )
          .then((r) => r.rows),
      )
      const hosts = await endpointHosts(db, clinicId, due)
      for (const delivery of due) {
        delivery.endpoint_host = delivery.endpoint_id ? hosts.get(delivery.endpoint_id) : undefined
        const result = await sendOne(await mailerOnce(), delivery, env)
        await tenant.tenant((tx) => tx.execute(settleStatement(delivery, result)))
        if (result === 'sent') outcome.sent++
        else outcome.failed++
        // A connection that broke mid-batch: the rest wait for their retry.
        if (result === 'smtp_unreachable') mailer = new MailError('smtp_unreachable')
      }
    }
  } finally {
    if (mailer && !(mailer instanceof MailError)) await mailer.close()
  }
  return outcome
}

async function sendOne(mailer: Mailer | MailError, delivery: Due, env: MailEnv): Promise<'sent' | MailError['code']> {
  if (mailer instanceof MailError) return mailer.code
  const origin = (env.APP_ORIGIN ?? '').replace(/\/+$/, '')
  const facts = factsOf(delivery, origin)
  // Its referral or endpoint is gone (cannot happen under the foreign keys): nothing to say.
  if (!facts) return 'smtp_rejected'
  const email = composeEmail(facts)
  try {
    await mailer.send({ ...email, to: delivery.email, messageId: `<${delivery.id}@${messageIdHost(origin)}>` })
    return 'sent'
  } catch (error) {
    return error instanceof MailError ? error.code : 'smtp_rejected'
  }
}

function factsOf(delivery: Due, origin: string): EmailFacts | null {
  if (delivery.kind === 'endpoint_disabled')
    return delivery.endpoint_host ? { kind: delivery.kind, clinicName: delivery.clinic_name, endpointHost: delivery.endpoint_host, origin } : null
  if (!delivery.referral_id || !delivery.reference_number) return null
  return { kind: delivery.kind, clinicName: delivery.clinic_name, referenceNumber: delivery.reference_number, referralId: delivery.referral_id, origin }
}

/**
 * The hosts of the endpoints these deliveries name. The endpoints' table is the webhooks channel's
 * (its policy admits that channel's scope, not this one's), so they are read under its scope; only
 * the host is kept, never the path or query, which can carry a receiver's token.
 */
async function endpointHosts(db: Database, clinicId: string, due: Due[]): Promise<Map<string, string>> {
  const ids = [...new Set(due.flatMap((d) => (d.endpoint_id ? [d.endpoint_id] : [])))]
  if (ids.length === 0) return new Map()
  const rows = await createTenantDatabase(db, webhooksCourierScope(clinicId)).tenant((tx) =>
    tx.select({ id: webhookEndpoints.id, url: webhookEndpoints.url }).from(webhookEndpoints).where(inArray(webhookEndpoints.id, ids)),
  )
  return new Map(rows.map((row) => [row.id, hostOf(row.url)]))
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host
  } catch {
    return 'an address that no longer parses'
  }
}

function settleStatement(delivery: Due, result: 'sent' | MailError['code']) {
  if (result === 'sent') {
    return sql`update email_deliveries set status = 'sent', sent_at = now(), attempts = attempts + 1, claimed_until = null, last_error = null
      where id = ${delivery.id} and status = 'pending'`
  }
  const attempts = delivery.attempts + 1
  const givenUp = Date.now() - new Date(delivery.created_at).getTime() > GIVE_UP_AFTER_MS
  return sql`update email_deliveries set attempts = ${attempts}, last_error = ${result}, claimed_until = null,
      next_attempt_at = now() + make_interval(secs => ${emailRetryDelaySeconds(attempts)}),
      status = ${givenUp ? 'failed' : 'pending'}
    where id = ${delivery.id} and status = 'pending'`
}

const messageIdHost = (origin: string) => {
  try {
    return new URL(origin).hostname || 'intakepilot.invalid'
  } catch {
    return 'intakepilot.invalid'
  }
}
