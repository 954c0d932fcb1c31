/**
 * Creating a referral: PHI sealed field by field, blind indexes for patient matching, the
 * duplicate check, the first history event and the audit row, in one transaction.
 * A repeated idempotency key returns the referral the first submit created.
 */
import { and, eq, sql } from 'drizzle-orm'
import type { PhiCipher } from '~/crypto/phi.server'
import { referralEvents, referrals, type IntakeChannel, type IntakeFormDefinition, type ReferralPriority } from '~/db/schema'
import { writeWithCommit, type TenantTx } from '~/tenancy/tenant.server'
import type { AuditEvent } from '~/audit/audit.server'
import { patientIndexes, sealFormData, type FormValues } from './form-data.server'
import { newReferenceNumber } from './reference-number'

export type NewReferral = {
  clinic: { id: string; slug: string }
  /** Who sent it: a person's account, or (FHIR, decision 061) the EHR integration that did. */
  submittedBy: string | { integration: string }
  form: { version: number; definition: IntakeFormDefinition }
  values: FormValues
  idempotencyKey: string
  /** The id to create it with, when documents were already sealed for it (app/documents/attach.server.ts). */
  id?: string
  /** Entered by staff on the referrer's behalf: who, how it came, when it first reached the clinic. */
  entered?: EnteredByStaff
}

/**
 * `submittedBy` is then the referrer's account, or the staff member when the referrer has none
 * here and was typed in (`referrer`). docs/decisions/028-referrals-entered-by-staff.md
 */
export type EnteredByStaff = {
  by: string
  channel: IntakeChannel
  receivedAt: Date
  referrer?: { name: string; organization: string | null }
}

/**
 * The insert decides: a key already used (or being used by a concurrent submit) inserts nothing,
 * and the referral it created is returned instead. The duplicate check runs inside the insert.
 * One statement for a new referral (the insert); its first event and the audit row go with the commit.
 */
export async function createReferral(tx: TenantTx, cipher: PhiCipher, audit: (tx: TenantTx, event: AuditEvent) => Promise<void>, input: NewReferral) {
  const id = input.id ?? crypto.randomUUID()
  const entered = input.entered
  const indexes = await patientIndexes(cipher, input.clinic.id, input.values)
  const urgency = input.values.urgency
  const priority: ReferralPriority = urgency === 'urgent' || urgency === 'emergent' ? urgency : 'routine'
  const referenceNumber = newReferenceNumber(input.clinic.slug)
  // A system's referral names no user: its sender is the registration, and so is its idempotency scope.
  const integration = typeof input.submittedBy === 'string' ? null : input.submittedBy.integration
  const person = typeof input.submittedBy === 'string' ? input.submittedBy : null
  const sender = integration ? referrals.submittedByIntegration : referrals.submittedBy
  const inserted = await tx
    .insert(referrals)
    .values({
      id,
      clinicId: input.clinic.id,
      referenceNumber,
      formVersion: input.form.version,
      submittedBy: person,
      submittedByIntegration: integration,
      priority,
      formData: await sealFormData(cipher, input.form.definition, { clinicId: input.clinic.id, referralId: id }, input.values),
      ...indexes,
      possibleDuplicateOf: sql`find_open_duplicate(${indexes.healthCardIndex}, ${indexes.nameDobIndex}, ${id}::uuid)`,
      idempotencyKey: input.idempotencyKey,
      ...(entered && {
        enteredBy: entered.by,
        channel: entered.channel,
        receivedAt: entered.receivedAt,
        referrerName: entered.referrer?.name ?? null,
        referrerOrganization: entered.referrer?.organization ?? null,
      }),
    })
    // A repeated key, or a concurrent double submit: the first one wins (this one waits for it), then is found.
    .onConflictDoNothing({ target: [referrals.clinicId, sender, referrals.idempotencyKey] })
    .returning({ id: referrals.id })
  if (!inserted.length) {
    const [first] = await tx
      .select({ id: referrals.id, referenceNumber: referrals.referenceNumber })
      .from(referrals)
      .where(and(eq(referrals.clinicId, input.clinic.id), eq(sender, (integration ?? person)!), eq(referrals.idempotencyKey, input.idempotencyKey)))
    return { ...first!, created: false }
  }
  // Its first history event goes with the commit (nothing here reads it back). Its time is the
  // transaction's start, now(): before any event a later statement of this transaction writes
  // (those take clock_timestamp()), as if it had been written first.
  await writeWithCommit(
    tx,
    tx.insert(referralEvents).values({
      clinicId: input.clinic.id,
      referralId: id,
      // An integration is no user: its event names no actor (the row and the audit name it).
      actorId: entered?.by ?? person,
      type: 'created',
      data: entered ? { channel: entered.channel } : {},
      visibleToReferrer: true,
      createdAt: sql`now()`,
    }),
  )
  // Who entered it is the row's actor; for which referrer is an id, or only that one was typed in (never a name).
  const details = entered ? { channel: entered.channel, enteredBy: entered.by, referrer: entered.referrer ? 'typed-in' : person } : undefined
  await audit(tx, { action: 'referral.create', entityType: 'referral', entityId: id, ...(details && { details }) })
  return { id, referenceNumber, created: true }
}
