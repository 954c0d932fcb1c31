/**
 * Entering a referral on the referrer's behalf (a fax, a call, an email, a walk-in): the
 * referrer is one of the clinic's referrer accounts, or typed in; the referral is created by
 * createReferral like any other, and counts from when it first reached the clinic.
 * docs/decisions/028-referrals-entered-by-staff.md
 */
import { and, asc, eq, ne } from 'drizzle-orm'
import type { AuditEvent } from '~/audit/audit.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { users, type IntakeFormDefinition } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { createReferral } from './create-referral.server'
import type { FormValues } from './form-data.server'
import { INBOUND_KEYS, receivedAtOf, SOMEONE_ELSE, type InboundValues } from './inbound'

/** The clinic's referrers who can be picked: its referrer accounts, except disabled ones. */
export async function knownReferrers(tx: TenantTx, clinicId: string) {
  const rows = await tx
    .select({ id: users.id, displayName: users.displayName, organization: users.organization })
    .from(users)
    .where(and(eq(users.clinicId, clinicId), eq(users.role, 'referrer'), ne(users.status, 'disabled')))
    .orderBy(asc(users.displayName))
  return rows.map((r) => ({ id: r.id, name: r.organization ? `${r.displayName} (${r.organization})` : r.displayName }))
}

export type InboundReferral = {
  clinic: { id: string; slug: string }
  /** The staff member entering it. */
  enteredBy: string
  form: { version: number; definition: IntakeFormDefinition }
  values: InboundValues
  idempotencyKey: string
}

/**
 * Creates the referral, or says the picked referrer is not one of this clinic's (another
 * clinic's, disabled, not a referrer, made up): then nothing is written.
 */
export async function enterInboundReferral(tx: TenantTx, cipher: PhiCipher, audit: (tx: TenantTx, event: AuditEvent) => Promise<void>, input: InboundReferral) {
  const { arrivedVia, receivedOn, receivedTime, referrerId, referrerName, referrerPractice } = input.values
  const typedIn = referrerId === SOMEONE_ELSE
  if (!typedIn) {
    const known = await knownReferrers(tx, input.clinic.id)
    if (!known.some((r) => r.id === referrerId)) return { refused: 'unknown-referrer' as const }
  }
  const values = Object.fromEntries(Object.entries(input.values).filter(([key]) => !(INBOUND_KEYS as string[]).includes(key))) as FormValues
  const created = await createReferral(tx, cipher, audit, {
    clinic: input.clinic,
    submittedBy: typedIn ? input.enteredBy : referrerId,
    form: input.form,
    values,
    idempotencyKey: input.idempotencyKey,
    entered: {
      by: input.enteredBy,
      channel: arrivedVia,
      receivedAt: receivedAtOf(receivedOn, receivedTime),
      referrer: typedIn ? { name: referrerName!, organization: referrerPractice ?? null } : undefined,
    },
  })
  return { created }
}
