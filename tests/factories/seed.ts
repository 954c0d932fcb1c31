/**
 * Demo data: the clinics, their users (one per role, from the shared demo directory), the
 * default intake form and a few hundred realistic referrals per clinic in varied states.
 * Runs as the owner role; used by `npm run db:seed`, `npm start` and the tests.
 */
import { eq, sql } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import { clinics, ehrIntegrations, intakeForms, referralEvents, referrals, users, type ReferralPriority, type ReferralStatus } from '../../app/db/schema'
import type { PhiCipher } from '../../app/crypto/phi.server'
import { DECLINE_REASONS } from '../../app/dashboard/turnaround'
import { defaultIntakeForm, REQUESTED_SERVICES } from '../../app/intake/default-form'
import { patientIndexes, sealFormData } from '../../app/referrals/form-data.server'
import { newReferenceNumber } from '../../app/referrals/reference-number'
import { DEMO_ACCOUNTS, DEMO_APPS, DEMO_CLINICS, DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'
import { fakePatient, fakeReferralValues, type FakePatient } from './patients'
import { createRandom } from './random'

/** How the demo clinics' referrals spread over the statuses; the bench seeds the same mix. */
export const STATUS_MIX: readonly ReferralStatus[] = [
  'received',
  'received',
  'received',
  'in_review',
  'in_review',
  'info_requested',
  'accepted',
  'accepted',
  'scheduled',
  'scheduled',
  'declined',
  'closed',
  'closed',
]
const OPEN: ReferralStatus[] = ['received', 'in_review', 'info_requested', 'accepted', 'scheduled']
const DAY = 86_400_000

export async function seedDemoData(db: Database, cipher: PhiCipher, options: { referralsPerClinic?: number; now?: Date } = {}) {
  const perClinic = options.referralsPerClinic ?? 220
  const now = options.now ?? new Date()
  const random = createRandom(20261125)
  const superadmin = DEMO_ACCOUNTS.find((a) => a.role === 'superadmin')!
  await db.insert(users).values(accountRow(superadmin, null)).onConflictDoNothing()

  for (const demo of DEMO_CLINICS) {
    const [clinic] = await db
      .insert(clinics)
      .values({ slug: demo.slug, name: demo.name, settings: { turnaroundHours: { emergent: 24, urgent: 72, routine: 336 } } })
      .returning()
    const members = await db
      .insert(users)
      .values(DEMO_ACCOUNTS.filter((a) => a.clinicSlug === demo.slug).map((a) => accountRow(a, clinic!.id)))
      .returning()
    const byEmail = (prefix: string) => members.find((m) => m.email.startsWith(`${prefix}@`))!
    const referrers = [byEmail('referrer'), byEmail('referrer2')]
    const workers = [byEmail('staff'), byEmail('admin')]
    const services = REQUESTED_SERVICES[demo.slug]!
    const definition = defaultIntakeForm(services)
    await db.insert(intakeForms).values({
      clinicId: clinic!.id,
      version: 1,
      definition,
      publishedAt: new Date(now.getTime() - 200 * DAY),
      createdBy: byEmail('admin').id,
    })
    // Northside's EHR is registered, so `npm run token -- --client northside-ehr` works at once.
    const ehr = DEMO_APPS.find((a) => a.clientId === `${demo.slug}-ehr`)
    if (ehr && demo.slug === 'northside') {
      await db
        .insert(ehrIntegrations)
        .values({ clinicId: clinic!.id, name: ehr.name, idpTenantId: DEMO_TENANT_ID, clientId: ehr.clientId, roles: ehr.roles, createdBy: byEmail('admin').id })
    }

    const patients: FakePatient[] = []
    const openByPatient = new Map<string, string>()
    const rows: (typeof referrals.$inferInsert)[] = []
    const events: (typeof referralEvents.$inferInsert)[] = []
    for (let i = 0; i < perClinic; i++) {
      const id = crypto.randomUUID()
      const referrer = random.pick(referrers)
      // About one in thirty patients is referred again: the duplicate check has work to do.
      const patient = patients.length > 10 && random.chance(1 / 30) ? random.pick(patients) : fakePatient(random)
      patients.push(patient)
      const values = fakeReferralValues(random, {
        clinicSlug: demo.slug,
        services,
        clinician: { name: referrer.displayName, practice: referrer.organization ?? 'Family practice' },
        patient,
      })
      const status = random.pick(STATUS_MIX)
      const received = new Date(now.getTime() - random.int(0, 120 * DAY) - random.int(0, DAY))
      const at = (days: number) => new Date(Math.min(now.getTime(), received.getTime() + days * DAY))
      const triaged = status !== 'received'
      const indexes = await patientIndexes(cipher, clinic!.id, values)
      const key = indexes.healthCardIndex ?? ''
      const duplicateOf = OPEN.includes(status) ? openByPatient.get(key) : undefined
      if (OPEN.includes(status) && key) openByPatient.set(key, id)
      rows.push({
        id,
        clinicId: clinic!.id,
        referenceNumber: newReferenceNumber(demo.slug),
        formVersion: 1,
        submittedBy: referrer.id,
        status,
        priority: values.urgency as ReferralPriority,
        assignedTo: triaged && random.chance(0.75) ? random.pick(workers).id : null,
        formData: await sealFormData(cipher, definition, { clinicId: clinic!.id, referralId: id }, values),
        ...indexes,
        possibleDuplicateOf: duplicateOf ?? null,
        receivedAt: received,
        firstOpenedAt: triaged ? at(0.2) : null,
        triagedAt: triaged ? at(1) : null,
        scheduledAt: status === 'scheduled' || status === 'closed' ? at(random.int(3, 20)) : null,
        closedAt: status === 'closed' || status === 'declined' ? at(random.int(5, 40)) : null,
      })
      events.push({ clinicId: clinic!.id, referralId: id, actorId: referrer.id, type: 'created', createdAt: received, visibleToReferrer: true })
      if (triaged) {
        events.push({
          clinicId: clinic!.id,
          referralId: id,
          actorId: workers[0]!.id,
          type: 'status',
          data: { from: 'received', to: status, ...declineReason(status, id) },
          createdAt: at(1),
          visibleToReferrer: true,
        })
      }
      if (status === 'info_requested') {
        const messageId = crypto.randomUUID()
        events.push({
          id: messageId,
          clinicId: clinic!.id,
          referralId: id,
          actorId: workers[0]!.id,
          type: 'message',
          body: await cipher.encrypt('Could you send the most recent imaging report and the current medication list?', {
            clinicId: clinic!.id,
            recordId: messageId,
            field: 'body',
          }),
          createdAt: at(1.1),
          visibleToReferrer: true,
        })
      }
      if (triaged && random.chance(0.4)) {
        const noteId = crypto.randomUUID()
        events.push({
          id: noteId,
          clinicId: clinic!.id,
          referralId: id,
          actorId: workers[0]!.id,
          type: 'note',
          body: await cipher.encrypt(
            random.pick([
              'Reviewed history; appropriate for our service.',
              'Called the patient to confirm contact details.',
              'Needs imaging before the first visit.',
              'Discussed with the clinical lead.',
            ]),
            { clinicId: clinic!.id, recordId: noteId, field: 'body' },
          ),
          createdAt: at(1.05),
        })
      }
    }
    for (let i = 0; i < rows.length; i += 100) await db.insert(referrals).values(rows.slice(i, i + 100))
    for (let i = 0; i < events.length; i += 200) await db.insert(referralEvents).values(events.slice(i, i + 200))
  }
  // The demo's history is not news: nobody is emailed, and no webhook or live queue hears of it
  // (the outbox triggers wrote an event for each of its events: drizzle/0024).
  await db.execute(sql`update outbox_events set done_at = clock_timestamp() where done_at is null`)
}

export async function isSeeded(db: Database) {
  const found = await db.select({ id: clinics.id }).from(clinics).where(eq(clinics.slug, DEMO_CLINICS[0].slug)).limit(1)
  return found.length > 0
}

function accountRow(account: (typeof DEMO_ACCOUNTS)[number], clinicId: string | null): typeof users.$inferInsert {
  return {
    clinicId,
    idpTenantId: account.tid,
    idpObjectId: account.oid,
    email: account.email,
    displayName: account.name,
    role: account.role!,
    status: account.status!,
    organization: account.organization ?? null,
  }
}

/**
 * A decline's category (the dashboard counts them), picked from the referral's own id, not from
 * the seeded random sequence: every other seeded value stays what it was.
 */
export function declineReason(status: ReferralStatus, id: string): { reasonCode?: string } {
  if (status !== 'declined') return {}
  const codes = Object.keys(DECLINE_REASONS)
  return { reasonCode: codes[parseInt(id.slice(0, 2), 16) % codes.length]! }
}
