/**
 * Every page action, loader and API route the fuzzer visits, each with a request it accepts
 * (read from the live app before each case, so it stays valid as the fuzzer changes things).
 * Every file in app/routes appears in ROUTE_FILES (fuzz.spec.ts checks it), so a new route
 * without a fuzz entry fails the suite.
 */
import { sql } from 'drizzle-orm'
import { PROMPT_VERSION } from '../../app/ai/prompts'
import { toEditorValue } from '../../app/intake/definition-schema'
import { NEXT_STATUSES } from '../../app/referrals/workflow'
import type { ReferralStatus, IntakeFormDefinition } from '../../app/db/schema'
import { transactionBundle } from './fhir-fixtures'
import { APP_URL, today, type Owner } from './fixtures'
import type { FieldSpec, Kind } from './fuzz-cases'
import type { Base, Endpoint } from './fuzz-requests'

export type World = {
  db: Owner
  /** A referral made for the fuzzer (Northside, by its referrer), and a summary entry on it. */
  referralId: string
  /** Another, moved only over the API (the page's moves take the first through accepted, where the API cannot move it on). */
  apiReferralId: string
  summaryEntryId: string
  /** A document on referralId, attached by staff. */
  documentId: string
  staffId: string
  /** Lakeview's former staff member: the admin's role and status changes land on them. */
  spareUserId: string
  northsideId: string
  lakeviewId: string
}

const spec = (kind: Kind, required = true): FieldSpec => ({ kind, required })
const query = (fields: [string, string][]): Base => ({ type: 'query', fields, specs: {} })
const form = (fields: [string, string][], specs: Record<string, FieldSpec>): Base => ({ type: 'form', fields, specs })

async function one<T>(db: Owner, q: ReturnType<typeof sql>) {
  return (await db.execute<T & Record<string, unknown>>(q)).rows[0]!
}
const referralState = (w: World, id = w.referralId) =>
  one<{ status: ReferralStatus; version: number }>(w.db, sql`select status, version from referrals where id = ${id}`)

/**
 * Lakeview's fuzz endpoint (the admin's clinic) and one delivery of it, made once. Disabled, so
 * the courier never sends to it (nor opens its placeholder secret); its log and redelivery work all the same.
 */
async function fuzzEndpoint(w: World) {
  const url = 'https://fuzz-hooks.example.com/intake'
  let endpoint = await one<{ id: string } | undefined>(w.db, sql`select id from webhook_endpoints where clinic_id = ${w.lakeviewId} and url = ${url} limit 1`)
  if (!endpoint) {
    endpoint = await one<{ id: string }>(
      w.db,
      sql`insert into webhook_endpoints (clinic_id, url, topics, secret, status, disabled_reason, disabled_at)
        values (${w.lakeviewId}, ${url}, array['referral.created'], '{"v":1,"iv":"","ct":""}'::jsonb, 'disabled', 'admin', now()) returning id`,
    )
    await w.db.execute(sql`insert into webhook_deliveries (clinic_id, endpoint_id, topic, payload, status, attempts)
      values (${w.lakeviewId}, ${endpoint.id}, 'webhook.test', ${JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: {} })}::jsonb, 'failed', 1)`)
  }
  const delivery = await one<{ id: string }>(w.db, sql`select id from webhook_deliveries where endpoint_id = ${endpoint.id} limit 1`)
  return { endpointId: endpoint.id, deliveryId: delivery.id }
}

/** A status move the referral can make now: through accepted and scheduled (which needs a date), and back. */
async function statusBase(w: World): Promise<Base> {
  const { status, version } = await referralState(w)
  const to: ReferralStatus = status === 'accepted' ? 'scheduled' : NEXT_STATUSES[status].includes('accepted') ? 'accepted' : 'in_review'
  return form(
    [
      [':id', w.referralId],
      ['intent', 'status'],
      ['to', to],
      ['version', String(version)],
      ['reason', 'Fuzz move'],
      ['scheduledFor', to === 'scheduled' ? '2027-03-15' : ''],
      ['scheduledTime', to === 'scheduled' ? '10:30' : ''],
    ],
    {
      intent: spec('enum'),
      to: spec('enum'),
      version: spec('int'),
      reason: spec('text', false),
      scheduledFor: spec(to === 'scheduled' ? 'date' : 'free', to === 'scheduled'),
      scheduledTime: spec('free', to === 'scheduled'),
    },
  )
}

/** Northside's current referral form, filled in as a referrer would. */
export async function referralFields(w: World) {
  const row = await one<{ version: number; definition: IntakeFormDefinition }>(
    w.db,
    sql`select version, definition from intake_forms where clinic_id = ${w.northsideId} order by version desc limit 1`,
  )
  const fields: [string, string][] = []
  const specs: Record<string, FieldSpec> = {}
  const KINDS: Record<string, Kind> = {
    text: 'text',
    textarea: 'text',
    phone: 'text',
    email: 'text',
    date: 'date',
    select: 'enum',
    number: 'free',
    checkbox: 'free',
  }
  for (const f of row.definition.sections.flatMap((s) => s.fields)) {
    const value =
      { date: '1980-02-03', phone: '(416) 555-0123', email: 'fuzz@example.test', number: '1', checkbox: 'on', select: f.options?.[0] ?? '' }[
        f.type as string
      ] ?? `Fuzz ${f.key}`
    // A field with a declared format takes a value of that shape (the default form's health card: Ontario's).
    fields.push([f.key, f.format ? '4821-093-771-KD' : value])
    specs[f.key] = spec(KINDS[f.type] ?? 'free', f.required)
  }
  return { version: row.version, fields, specs }
}

/** The New inbound referral form as the page posts it (multipart: it takes the faxed original). */
async function inboundBase(w: World): Promise<Base> {
  const { version: v, fields, specs } = await referralFields(w)
  const { id: referrer } = await one<{ id: string }>(w.db, sql`select id from users where email = 'referrer@northside.test'`)
  const base = form(
    [
      ['idempotencyKey', '0c9e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a'],
      ['formVersion', String(v)],
      ['arrivedVia', 'fax'],
      ['receivedOn', today()],
      ['receivedTime', ''],
      ['referrerId', referrer],
      ['referrerName', ''],
      ['referrerPractice', ''],
      ...fields,
    ],
    {
      idempotencyKey: spec('free'),
      formVersion: spec('int'),
      arrivedVia: spec('enum'),
      receivedOn: spec('date'),
      receivedTime: spec('free', false),
      referrerId: spec('free'),
      referrerName: spec('text', false),
      referrerPractice: spec('text', false),
      ...specs,
    },
  )
  return { ...base, multipart: true }
}

/** Lakeview's current form as its editor posts it (conform's names: sections[0].fields[1].label). */
let editorEdits = 0
async function editorBase(w: World): Promise<Base> {
  const row = await one<{ version: number; definition: IntakeFormDefinition }>(
    w.db,
    sql`select version, definition from intake_forms where clinic_id = ${w.lakeviewId} order by version desc limit 1`,
  )
  const value = toEditorValue(row.definition, row.version)
  // A publish that changes nothing is refused: the page's own request changes one help text.
  value.sections[0]!.fields[0]!.help = `Fuzz edit ${Date.now()}.${++editorEdits}`
  const fields: [string, string][] = [['baseVersion', String(value.baseVersion)]]
  const specs: Record<string, FieldSpec> = { baseVersion: spec('int'), intent: spec('enum') }
  value.sections.forEach((section, s) => {
    fields.push([`sections[${s}].title`, section.title])
    specs[`sections[${s}].title`] = spec('text')
    section.fields.forEach((f, i) => {
      const name = `sections[${s}].fields[${i}]`
      for (const [key, v] of [
        ['label', f.label],
        ['key', f.key],
        ['type', f.type],
        ['help', f.help],
        ['options', f.options],
      ] as const) {
        fields.push([`${name}.${key}`, v])
        specs[`${name}.${key}`] = spec(key === 'type' ? 'enum' : 'text', key !== 'help' && key !== 'options')
      }
      if (f.required) fields.push([`${name}.required`, 'on'])
      if (f.phi) fields.push([`${name}.phi`, 'on'])
    })
  })
  fields.push(['intent', 'publish'])
  return form(fields, specs)
}

/** A patient's accounting of disclosures as its page and export post it: a patient (by card, or name and birth date) and a period of at most six years. */
const disclosureSearch = () =>
  form(
    [
      ['healthCard', '1234-567-890-AB'],
      ['lastName', 'Fuzz'],
      ['dob', '1980-02-03'],
      ['from', `${Number(today().slice(0, 4)) - 1}-01-01`],
      ['to', today()],
    ],
    { healthCard: spec('text', false), lastName: spec('text', false), dob: spec('date', false), from: spec('date'), to: spec('date') },
  )

const work = (w: World, intent: string, extra: [string, string][], specs: Record<string, FieldSpec>) =>
  form([[':id', w.referralId], ['intent', intent], ...extra], { intent: spec('enum'), ...specs })

let invited = 0

export function endpoints(w: World): (Endpoint & { file: string })[] {
  const R = w.referralId
  const version = async () => String((await referralState(w)).version)
  const spare = () => one<{ role: string; status: string }>(w.db, sql`select role, status from users where id = ${w.spareUserId}`)
  return [
    { file: '_app._index.tsx', name: 'GET /', method: 'GET', role: 'staff', path: '/', page: true, base: async () => query([['view', 'all']]) },
    {
      file: '_app.admin.audit.tsx',
      name: 'GET /admin/audit',
      method: 'GET',
      role: 'admin',
      path: '/admin/audit',
      page: true,
      base: async () =>
        query([
          ['from', '2026-01-01'],
          ['to', today()],
          ['actor', w.staffId],
          ['action', 'referral.read'],
          ['outcome', 'success'],
          ['referral', R],
          ['cursor', '100'],
        ]),
    },
    {
      file: '_app.admin.audit.tsx',
      name: 'POST /admin/audit (verify)',
      method: 'POST',
      role: 'admin',
      path: '/admin/audit',
      page: true,
      base: async () => form([['intent', 'verify']], { intent: spec('enum') }),
    },
    {
      file: '_app.admin.disclosures.tsx',
      name: 'GET /admin/disclosures',
      method: 'GET',
      role: 'admin',
      path: '/admin/disclosures',
      page: true,
      base: async () => query([]),
    },
    {
      file: '_app.admin.disclosures.tsx',
      name: 'POST /admin/disclosures (accounting)',
      method: 'POST',
      role: 'admin',
      path: '/admin/disclosures',
      page: true,
      base: async () => disclosureSearch(),
    },
    {
      file: 'admin.disclosures.export.ts',
      name: 'POST /admin/disclosures/export',
      method: 'POST',
      role: 'admin',
      path: '/admin/disclosures/export',
      download: true,
      base: async () => disclosureSearch(),
    },
    {
      file: '_app.admin.intake-form.tsx',
      name: 'GET /admin/intake-form',
      method: 'GET',
      role: 'admin',
      path: '/admin/intake-form',
      page: true,
      base: async () => query([['published', '1']]),
    },
    {
      file: '_app.admin.intake-form.tsx',
      name: 'POST /admin/intake-form (publish)',
      method: 'POST',
      role: 'admin',
      path: '/admin/intake-form',
      page: true,
      base: () => editorBase(w),
    },
    {
      file: '_app.admin.users.tsx',
      name: 'GET /admin/users',
      method: 'GET',
      role: 'admin',
      path: '/admin/users',
      page: true,
      base: async () => query([['q', 'x']]),
    },
    {
      file: '_app.admin.users.tsx',
      name: 'POST /admin/users (invite)',
      method: 'POST',
      role: 'admin',
      path: '/admin/users',
      page: true,
      base: async () =>
        form(
          [
            ['intent', 'invite'],
            ['email', `fuzz.invitee.${++invited}@example.test`],
            ['displayName', 'Fuzz Invitee'],
            ['role', 'staff'],
          ],
          { intent: spec('enum'), email: spec('free'), displayName: spec('text'), role: spec('enum') },
        ),
    },
    {
      file: '_app.admin.users.tsx',
      name: 'POST /admin/users (role)',
      method: 'POST',
      role: 'admin',
      path: '/admin/users',
      page: true,
      base: async () =>
        form(
          [
            ['intent', 'role'],
            ['userId', w.spareUserId],
            ['role', (await spare()).role === 'staff' ? 'referrer' : 'staff'],
          ],
          { intent: spec('enum'), userId: spec('uuid'), role: spec('enum') },
        ),
    },
    {
      file: '_app.admin.users.tsx',
      name: 'POST /admin/users (disable, enable)',
      method: 'POST',
      role: 'admin',
      path: '/admin/users',
      page: true,
      base: async () =>
        form(
          [
            ['intent', (await spare()).status === 'disabled' ? 'enable' : 'disable'],
            ['userId', w.spareUserId],
          ],
          { intent: spec('enum'), userId: spec('uuid') },
        ),
    },
    {
      file: '_app.clinics.tsx',
      name: 'GET /clinics',
      method: 'GET',
      role: 'superadmin',
      path: '/clinics',
      page: true,
      base: async () => query([['clinic', w.northsideId]]),
    },
    {
      file: '_app.clinics.tsx',
      name: 'POST /clinics (switch)',
      method: 'POST',
      role: 'superadmin',
      path: '/clinics',
      page: true,
      base: async () =>
        form(
          [
            ['clinicId', w.northsideId],
            ['reason', 'Fuzzing the clinic switch'],
            ['redirectTo', '/queue'],
          ],
          { clinicId: spec('uuid'), reason: spec('text'), redirectTo: spec('free', false) },
        ),
    },
    {
      file: '_app.profile.tsx',
      name: 'GET /profile',
      method: 'GET',
      role: 'referrer',
      path: '/profile',
      page: true,
      base: async () => query([['saved', '1']]),
    },
    {
      file: '_app.profile.tsx',
      name: 'POST /profile',
      method: 'POST',
      role: 'referrer',
      path: '/profile',
      page: true,
      base: async () =>
        form(
          [
            ['clinicianName', 'Dr. Fuzz'],
            ['practice', 'Fuzz Family Practice'],
            ['phone', '(416) 555-0123'],
            ['fax', '(416) 555-0124'],
            ['billingNumber', '123456'],
          ],
          {
            clinicianName: spec('text', false),
            practice: spec('text', false),
            phone: spec('text', false),
            fax: spec('text', false),
            billingNumber: spec('text', false),
          },
        ),
    },
    {
      file: '_app.my-referrals.tsx',
      name: 'GET /my-referrals',
      method: 'GET',
      role: 'referrer',
      path: '/my-referrals',
      page: true,
      base: async () =>
        query([
          ['before', `2026-11-25 17:23:36.123456+00,${R}`],
          ['submitted', 'NOR-7K3M9PX'],
        ]),
    },
    {
      file: '_app.queue.tsx',
      name: 'GET /queue',
      method: 'GET',
      role: 'staff',
      path: '/queue',
      page: true,
      base: async () =>
        query([
          ['status', 'all'],
          ['priority', 'urgent'],
          ['assignee', 'me'],
          ['referrer', w.staffId],
          ['from', '2026-01-01'],
          ['to', today()],
          ['sort', 'age'],
          ['ref', 'NOR'],
          ['cursor', ''],
        ]),
    },
    {
      file: '_app.queue.tsx',
      name: 'POST /queue (patient search)',
      method: 'POST',
      role: 'staff',
      path: '/queue',
      page: true,
      base: async () =>
        form(
          [
            ['healthCard', '1234-567-890-AB'],
            ['lastName', 'Fuzz'],
            ['dob', '1980-02-03'],
          ],
          {},
        ),
    },
    {
      file: '_app.queue.tsx',
      name: 'POST /queue (bulk assign)',
      method: 'POST',
      role: 'staff',
      path: '/queue',
      page: true,
      base: async () =>
        form(
          [
            ['intent', 'bulk-assign'],
            ['selected[0]', `${R}:${await version()}`],
            ['assignee', w.staffId],
          ],
          { intent: spec('enum'), 'selected[0]': spec('free'), assignee: spec('uuid', false) },
        ),
    },
    {
      file: '_app.queue.tsx',
      // A move to the status it has: accepted, reported per referral as not allowed, nothing changed
      // (a real move would take the referral the other entries work on somewhere they cannot follow).
      name: 'POST /queue (bulk status)',
      method: 'POST',
      role: 'staff',
      path: '/queue',
      page: true,
      base: async () => {
        const { status, version: v } = await referralState(w)
        return form(
          [
            ['intent', 'bulk-status'],
            ['selected[0]', `${R}:${v}`],
            ['to', status === 'scheduled' ? 'received' : status],
            ['reason', 'Fuzz bulk'],
            ['reasonCode', 'other'],
          ],
          { intent: spec('enum'), 'selected[0]': spec('free'), to: spec('enum'), reason: spec('text', false), reasonCode: spec('enum', false) },
        )
      },
    },
    {
      file: '_app.queue.tsx',
      name: 'POST /queue (save view)',
      method: 'POST',
      role: 'staff',
      path: '/queue',
      page: true,
      base: async () => {
        // A user keeps at most 20 views: the fuzzer's own go before each case.
        await w.db.execute(sql`delete from saved_queue_views where user_id = ${w.staffId}::uuid and name like 'Fuzz view %'`)
        return {
          ...form(
            [
              ['intent', 'save-view'],
              ['name', `Fuzz view ${crypto.randomUUID().slice(0, 8)}`],
            ],
            { intent: spec('enum'), name: spec('text') },
          ),
        }
      },
    },
    {
      file: '_app.queue.tsx',
      name: 'POST /queue (delete view)',
      method: 'POST',
      role: 'staff',
      path: '/queue',
      page: true,
      base: async () => {
        await w.db.execute(sql`delete from saved_queue_views where user_id = ${w.staffId}::uuid and name like 'Fuzz view %'`)
        const name = `Fuzz view ${crypto.randomUUID().slice(0, 8)}`
        const [made] = (
          await w.db.execute<{ id: string }>(
            sql`insert into saved_queue_views (clinic_id, user_id, name, query) values (${w.northsideId}::uuid, ${w.staffId}::uuid, ${name}, 'status=open') returning id`,
          )
        ).rows
        return form(
          [
            ['intent', 'delete-view'],
            ['view', made!.id],
          ],
          { intent: spec('enum'), view: spec('uuid') },
        )
      },
    },
    {
      file: '_app.referrals.$id.tsx',
      name: 'POST /referrals/:id (acknowledge reply)',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id',
      page: true,
      base: async () => work(w, 'acknowledge-reply', [], {}),
    },
    {
      file: '_app.referrals.$id.access.tsx',
      name: 'GET /referrals/:id/access',
      method: 'GET',
      role: 'staff',
      path: '/referrals/:id/access',
      page: true,
      base: async () => ({
        ...query([['cursor', '5']]),
        fields: [
          [':id', R],
          ['cursor', '5'],
        ],
      }),
    },
    {
      file: '_app.referrals.$id.summaries.ts',
      name: 'POST /referrals/:id/summaries (save)',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id/summaries',
      base: async () =>
        form(
          [
            [':id', R],
            ['intent', 'save'],
            ['model', 'fuzz-model'],
            ['promptVersion', PROMPT_VERSION],
            ['summary', 'S'],
            ['triage', 'T'],
            ['missing', 'M'],
          ],
          { intent: spec('enum'), model: spec('text'), promptVersion: spec('enum'), summary: spec('text'), triage: spec('text'), missing: spec('text') },
        ),
    },
    {
      file: '_app.referrals.$id.summaries.ts',
      name: 'POST /referrals/:id/summaries (decide)',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id/summaries',
      base: async () =>
        form(
          [
            [':id', R],
            ['intent', 'decide'],
            ['entryId', w.summaryEntryId],
            ['decision', 'accepted'],
          ],
          { intent: spec('enum'), entryId: spec('uuid'), decision: spec('enum') },
        ),
    },
    {
      file: '_app.referrals.$id.tsx',
      name: 'GET /referrals/:id',
      method: 'GET',
      role: 'staff',
      path: '/referrals/:id',
      page: true,
      base: async () => ({
        ...query([]),
        fields: [
          [':id', R],
          ['tab', 'history'],
        ],
      }),
    },
    {
      file: '_app.referrals.$id.tsx',
      name: 'POST /referrals/:id (status)',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id',
      page: true,
      base: () => statusBase(w),
    },
    {
      file: '_app.referrals.$id.tsx',
      name: 'POST /referrals/:id (assign)',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id',
      page: true,
      base: async () =>
        work(
          w,
          'assign',
          [
            ['assignee', w.staffId],
            ['version', await version()],
          ],
          { assignee: spec('uuid', false), version: spec('int') },
        ),
    },
    {
      file: '_app.referrals.$id.tsx',
      name: 'POST /referrals/:id (note)',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id',
      page: true,
      base: async () => work(w, 'note', [['body', 'Fuzz note']], { body: spec('text') }),
    },
    {
      file: '_app.referrals.$id.tsx',
      name: 'POST /referrals/:id (message)',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id',
      page: true,
      base: async () => work(w, 'message', [['body', 'Fuzz question']], { body: spec('text') }),
    },
    {
      file: '_app.referrals.$id.tsx',
      name: 'POST /referrals/:id (reply)',
      method: 'POST',
      role: 'referrer',
      path: '/referrals/:id',
      page: true,
      base: async () => work(w, 'reply', [['body', 'Fuzz reply']], { body: spec('text') }),
    },
    {
      file: '_app.referrals.$id_.print.tsx',
      name: 'GET /referrals/:id/print',
      method: 'GET',
      role: 'staff',
      path: '/referrals/:id/print',
      page: true,
      base: async () => ({
        ...query([]),
        fields: [
          [':id', R],
          ['copy', '1'],
        ],
      }),
    },
    {
      file: '_app.referrals.$id_.forward.tsx',
      name: 'GET /referrals/:id/forward',
      method: 'GET',
      role: 'staff',
      path: '/referrals/:id/forward',
      page: true,
      base: async () => query([[':id', R]]),
    },
    {
      file: '_app.referrals.$id_.forward.tsx',
      name: 'POST /referrals/:id/forward',
      method: 'POST',
      role: 'staff',
      path: '/referrals/:id/forward',
      page: true,
      // A referral of its own each time (a forward closes the one the other entries work on), with
      // no PHI to seal again, to Lakeview, which accepts forwards for this.
      base: async () => {
        await w.db.execute(sql`update clinics set settings = settings || '{"acceptsForwards": true}'::jsonb where id = ${w.lakeviewId}`)
        const fresh = await one<{ id: string; version: number }>(
          w.db,
          sql`insert into referrals (clinic_id, reference_number, form_version, submitted_by, form_data)
            select ${w.northsideId}, 'FZF-' || substr(md5(random()::text), 1, 8), max(version), ${w.staffId}, '{"urgency": "routine"}'::jsonb
            from intake_forms where clinic_id = ${w.northsideId} returning id, version`,
        )
        return form(
          [
            [':id', fresh.id],
            ['toClinic', w.lakeviewId],
            ['reason', 'Fuzz forward'],
            ['version', String(fresh.version)],
          ],
          { toClinic: spec('uuid'), reason: spec('text'), version: spec('int') },
        )
      },
    },
    {
      file: '_app.admin.clinic.tsx',
      name: 'POST /admin/clinic (forwarded referrals)',
      method: 'POST',
      role: 'admin',
      path: '/admin/clinic',
      page: true,
      base: async () =>
        form(
          [
            ['intent', 'forwards'],
            ['acceptsForwards', 'on'],
          ],
          { intent: spec('enum'), acceptsForwards: spec('enum', false) },
        ),
    },
    {
      file: '_app.admin.documents.tsx',
      name: 'POST /admin/documents',
      method: 'POST',
      role: 'admin',
      path: '/admin/documents',
      page: true,
      base: async () =>
        form(
          [
            ['fileMb', '10'],
            ['referralMb', '50'],
          ],
          { fileMb: spec('int'), referralMb: spec('int') },
        ),
    },
    {
      file: '_app.admin.clinic.tsx',
      name: 'POST /admin/clinic (time zone)',
      method: 'POST',
      role: 'admin',
      path: '/admin/clinic',
      page: true,
      // The default zone: whatever the fuzzer does, a valid case leaves the clinic where it was.
      base: async () =>
        form(
          [
            ['intent', 'time-zone'],
            ['timeZone', 'America/Toronto'],
          ],
          { intent: spec('enum'), timeZone: spec('enum') },
        ),
    },
    {
      file: '_app.admin.clinic.tsx',
      name: 'POST /admin/clinic (PHI retention)',
      method: 'POST',
      role: 'admin',
      path: '/admin/clinic',
      page: true,
      // Empty, the default: kept. A period the fuzzer finds valid only sets the setting; nothing is purged by the app.
      base: async () =>
        form(
          [
            ['intent', 'retention'],
            ['retentionDays', ''],
          ],
          { intent: spec('enum'), retentionDays: spec('int', false) },
        ),
    },
    {
      file: '_app.admin.clinic.tsx',
      name: 'POST /admin/clinic (turnaround targets)',
      method: 'POST',
      role: 'admin',
      path: '/admin/clinic',
      page: true,
      // The defaults: whatever the fuzzer does, a valid case leaves the targets as they were.
      base: async () =>
        form(
          [
            ['intent', 'turnaround-targets'],
            ['triage_emergent', '24'],
            ['triage_urgent', '72'],
            ['triage_routine', '336'],
            ['booking_emergent', '3'],
            ['booking_urgent', '14'],
            ['booking_routine', '90'],
          ],
          {
            intent: spec('enum'),
            triage_emergent: spec('int'),
            triage_urgent: spec('int'),
            triage_routine: spec('int'),
            booking_emergent: spec('int'),
            booking_urgent: spec('int'),
            booking_routine: spec('int'),
          },
        ),
    },
    {
      file: '_app.referrals.$id_.documents.tsx',
      name: 'GET /referrals/:id/documents',
      method: 'GET',
      role: 'staff',
      path: '/referrals/:id/documents',
      page: true,
      base: async () => query([[':id', R]]),
    },
    {
      file: '_app.referrals.$id_.documents_.$documentId.tsx',
      name: 'GET /referrals/:id/documents/:documentId',
      method: 'GET',
      role: 'staff',
      path: '/referrals/:id/documents/:documentId',
      page: true,
      base: async () =>
        query([
          [':id', R],
          [':documentId', w.documentId],
        ]),
    },
    {
      file: '_app.referrals.$id_.documents_.$documentId.content.ts',
      name: 'GET /referrals/:id/documents/:documentId/content',
      method: 'GET',
      role: 'staff',
      path: '/referrals/:id/documents/:documentId/content',
      download: true,
      base: async () =>
        query([
          [':id', R],
          [':documentId', w.documentId],
          ['download', '1'],
        ]),
    },
    {
      file: '_app.referrals.new_.upload.ts',
      name: 'POST /referrals/new/upload',
      method: 'POST',
      role: 'referrer',
      path: '/referrals/new/upload',
      base: async () => {
        const { version: v, fields, specs } = await referralFields(w)
        return form([['idempotencyKey', '7f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b'], ['formVersion', String(v)], ...fields], {
          idempotencyKey: spec('free'),
          formVersion: spec('int'),
          ...specs,
        })
      },
    },
    {
      file: '_app.referrals.new.tsx',
      name: 'GET /referrals/new',
      method: 'GET',
      role: 'referrer',
      path: '/referrals/new',
      page: true,
      // `draft` and `template` take ids (of the referrer's own drafts and templates): the page as first opened has neither.
      base: async () => query([]),
    },
    {
      file: '_app.referrals.new.tsx',
      name: 'POST /referrals/new',
      method: 'POST',
      role: 'referrer',
      path: '/referrals/new',
      page: true,
      base: async () => {
        const { version: v, fields, specs } = await referralFields(w)
        // Multipart, as the page sends it since it takes attachments.
        const base = form([['idempotencyKey', '6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b'], ['formVersion', String(v)], ...fields], {
          idempotencyKey: spec('free'),
          formVersion: spec('int'),
          ...specs,
        })
        return { ...base, multipart: true }
      },
    },
    {
      file: '_app.referrals.inbound.tsx',
      name: 'GET /referrals/inbound',
      method: 'GET',
      role: 'staff',
      path: '/referrals/inbound',
      page: true,
      base: async () => query([['entered', 'NOR-7K3M9PX']]),
    },
    {
      file: '_app.referrals.inbound.tsx',
      name: 'POST /referrals/inbound',
      method: 'POST',
      role: 'staff',
      path: '/referrals/inbound',
      page: true,
      base: async () => inboundBase(w),
    },
    {
      file: '_app.referrals.inbound_.upload.ts',
      name: 'POST /referrals/inbound/upload',
      method: 'POST',
      role: 'staff',
      path: '/referrals/inbound/upload',
      base: async () => inboundBase(w),
    },
    {
      file: '_app.settings.ai.tsx',
      name: 'GET /settings/ai',
      method: 'GET',
      role: 'staff',
      path: '/settings/ai',
      page: true,
      base: async () => query([['scope', 'me']]),
    },
    {
      file: '_app.settings.ai.tsx',
      name: 'POST /settings/ai (mine)',
      method: 'POST',
      role: 'staff',
      path: '/settings/ai',
      page: true,
      base: async () =>
        form(
          [
            ['scope', 'me'],
            ['endpoint', 'http://localhost:1234/v1'],
          ],
          { scope: spec('free', false), endpoint: spec('text', false) },
        ),
    },
    {
      file: '_app.settings.ai.tsx',
      name: 'POST /settings/ai (clinic)',
      method: 'POST',
      role: 'admin',
      path: '/settings/ai',
      page: true,
      base: async () =>
        form(
          [
            ['scope', 'clinic'],
            ['endpoint', 'http://localhost:1234/v1'],
          ],
          { scope: spec('free', false), endpoint: spec('text', false) },
        ),
    },
    {
      file: 'admin.audit.export.ts',
      name: 'GET /admin/audit/export',
      method: 'GET',
      role: 'admin',
      path: '/admin/audit/export',
      download: true,
      base: async () =>
        query([
          ['format', 'csv'],
          ['from', today()],
          ['to', today()],
        ]),
    },
    {
      file: '_app.turnaround.tsx',
      name: 'GET /turnaround',
      method: 'GET',
      role: 'staff',
      path: '/turnaround',
      page: true,
      base: async () => ({ ...query([['weeks', '12']]), specs: { weeks: spec('enum') } }),
    },
    {
      file: 'turnaround[.]csv.ts',
      name: 'GET /turnaround.csv',
      method: 'GET',
      role: 'staff',
      path: '/turnaround.csv',
      download: true,
      base: async () => ({ ...query([['weeks', '4']]), specs: { weeks: spec('enum') } }),
    },
    {
      file: 'api.v1.audit-logs.ts',
      name: 'GET /api/v1/audit-logs',
      method: 'GET',
      role: 'admin',
      path: '/api/v1/audit-logs',
      api: true,
      base: async () =>
        query([
          ['from', '2026-01-01'],
          ['to', today()],
          ['actor', w.staffId],
          ['action', 'referral.read'],
          ['outcome', 'success'],
          ['referral', R],
          ['cursor', '100'],
        ]),
    },
    {
      file: 'api.v1.intake-form.ts',
      name: 'GET /api/v1/intake-form',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/intake-form',
      api: true,
      base: async () => query([['version', '1']]),
    },
    {
      file: 'api.v1.me.ts',
      name: 'GET /api/v1/me',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/me',
      api: true,
      base: async () => query([['fields', 'email']]),
    },
    {
      file: 'api.v1.openapi[.]json.ts',
      name: 'GET /api/v1/openapi.json',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/openapi.json',
      api: true,
      base: async () => query([['v', '3']]),
    },
    {
      file: 'api.v1.referrals._index.ts',
      name: 'GET /api/v1/referrals',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/referrals',
      api: true,
      base: async () =>
        query([
          ['status', 'all'],
          ['priority', 'urgent'],
          ['assignee', 'me'],
          ['referrer', w.staffId],
          ['from', '2026-01-01'],
          ['to', today()],
          ['sort', 'age'],
          ['ref', 'NOR'],
          ['cursor', ''],
        ]),
    },
    {
      file: 'api.v1.referrals._index.ts',
      name: 'POST /api/v1/referrals',
      method: 'POST',
      role: 'referrer',
      path: '/api/v1/referrals',
      api: true,
      headers: () => ({ 'Idempotency-Key': '0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e' }),
      base: async () => {
        const { version: v, fields, specs } = await referralFields(w)
        const data = fields.map(([k, value]): [string, unknown] => [
          `data.${k}`,
          value === 'on' ? true : specs[k]!.kind === 'free' && /^\d+$/.test(value) ? Number(value) : value,
        ])
        return {
          type: 'json',
          fields: [['formVersion', v], ...data],
          specs: { formVersion: spec('int'), ...Object.fromEntries(Object.entries(specs).map(([k, s]) => [`data.${k}`, s])) },
        }
      },
    },
    {
      file: 'api.v1.referrals.$id._index.ts',
      name: 'GET /api/v1/referrals/:id',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/referrals/:id',
      api: true,
      base: async () => ({
        ...query([]),
        fields: [
          [':id', R],
          ['expand', 'events'],
        ],
      }),
    },
    {
      file: 'api.v1.referrals.$id._index.ts',
      name: 'PATCH /api/v1/referrals/:id (status)',
      method: 'PATCH',
      role: 'staff',
      path: '/api/v1/referrals/:id',
      api: true,
      base: async () => {
        const { status, version: v } = await referralState(w, w.apiReferralId)
        // Back and forth between in review and info requested: moves that need no reason or date.
        const to = NEXT_STATUSES[status].find((s) => s === 'in_review' || s === 'info_requested') ?? 'in_review'
        return {
          type: 'json',
          fields: [
            [':id', w.apiReferralId],
            ['version', v],
            ['status', to],
          ],
          specs: { version: spec('int'), status: spec('enum') },
        }
      },
    },
    {
      file: 'api.v1.referrals.$id._index.ts',
      name: 'PATCH /api/v1/referrals/:id (assign)',
      method: 'PATCH',
      role: 'staff',
      path: '/api/v1/referrals/:id',
      api: true,
      base: async () => ({
        type: 'json',
        fields: [
          [':id', R],
          ['version', (await referralState(w)).version],
          ['assignedTo', w.staffId],
        ],
        specs: { version: spec('int'), assignedTo: spec('uuid', false) },
      }),
    },
    {
      file: 'api.v1.referrals.$id.events.ts',
      name: 'GET /api/v1/referrals/:id/events',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/referrals/:id/events',
      api: true,
      base: async () => ({
        ...query([]),
        fields: [
          [':id', R],
          ['since', '0'],
        ],
      }),
    },
    {
      file: 'api.v1.referrals.$id.events.ts',
      name: 'POST /api/v1/referrals/:id/events',
      method: 'POST',
      role: 'staff',
      path: '/api/v1/referrals/:id/events',
      api: true,
      base: async () => ({
        type: 'json',
        fields: [
          [':id', R],
          ['type', 'note'],
          ['body', 'Fuzz API note'],
        ],
        specs: { type: spec('enum'), body: spec('text') },
      }),
    },
    {
      file: 'api.v1.referrals.$id.documents.ts',
      name: 'GET /api/v1/referrals/:id/documents',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/referrals/:id/documents',
      api: true,
      base: async () => query([[':id', R]]),
    },
    {
      file: 'api.v1.referrals.$id.documents.$documentId.ts',
      name: 'GET /api/v1/referrals/:id/documents/:documentId',
      method: 'GET',
      role: 'staff',
      path: '/api/v1/referrals/:id/documents/:documentId',
      api: true,
      download: true,
      base: async () =>
        query([
          [':id', R],
          [':documentId', w.documentId],
        ]),
    },
    {
      file: 'auth.callback.tsx',
      name: 'GET /auth/callback',
      method: 'GET',
      role: 'anonymous',
      path: '/auth/callback',
      base: async () =>
        query([
          ['code', 'fuzz-code'],
          ['state', 'fuzz-state'],
          ['error', ''],
        ]),
    },
    {
      file: 'auth.microsoft.tsx',
      name: 'POST /auth/microsoft',
      method: 'POST',
      role: 'anonymous',
      path: '/auth/microsoft',
      base: async () => form([['redirectTo', '/queue']], { redirectTo: spec('free', false) }),
    },
    { file: 'healthz.ts', name: 'GET /healthz', method: 'GET', role: 'anonymous', path: '/healthz', base: async () => query([['deep', '1']]) },
    {
      file: 'login.tsx',
      name: 'GET /login (signed in)',
      method: 'GET',
      role: 'staff',
      path: '/login',
      page: true,
      base: async () =>
        query([
          ['redirectTo', '/queue'],
          ['reason', 'expired'],
        ]),
    },
    {
      file: 'logout.tsx',
      name: 'POST /logout',
      method: 'POST',
      role: 'staff',
      account: 'staff@riverbend.test',
      path: '/logout',
      base: async () => form([['from', 'menu']], {}),
    },
    {
      file: '_app.settings.notifications.tsx',
      name: 'GET /settings/notifications',
      method: 'GET',
      role: 'staff',
      path: '/settings/notifications',
      page: true,
      base: async () => query([['saved', '1']]),
    },
    {
      file: '_app.settings.notifications.tsx',
      name: 'POST /settings/notifications',
      method: 'POST',
      role: 'referrer',
      path: '/settings/notifications',
      page: true,
      base: async () =>
        form(
          [
            ['declined', 'on'],
            ['accepted', 'on'],
          ],
          { declined: spec('free', false), accepted: spec('free', false) },
        ),
    },
    {
      file: '_app.admin.email.tsx',
      name: 'GET /admin/email',
      method: 'GET',
      role: 'admin',
      path: '/admin/email',
      page: true,
      base: async () => query([]),
    },
    {
      file: '_app.admin.integrations.tsx',
      name: 'POST /admin/integrations (create)',
      method: 'POST',
      role: 'admin',
      path: '/admin/integrations',
      page: true,
      // A loopback address is refused in production and taken locally: either way no 500.
      base: async () =>
        form(
          [
            ['intent', 'create'],
            ['url', 'https://hooks.example.com/intake'],
            ['created', 'on'],
          ],
          { intent: spec('free', false), url: spec('free', false), created: spec('free', false) },
        ),
    },
    {
      file: '_app.admin.integrations.tsx',
      name: 'POST /admin/integrations (register-ehr)',
      method: 'POST',
      role: 'admin',
      path: '/admin/integrations',
      page: true,
      // The same app id every time: registered once, then refused as taken (409), never a 500.
      base: async () =>
        form(
          [
            ['intent', 'register-ehr'],
            ['name', 'Fuzz EHR'],
            ['clientId', 'fuzz-ehr'],
            ['tenantId', '9b1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d'],
            ['read', 'on'],
          ],
          { intent: spec('enum'), name: spec('text'), clientId: spec('text'), tenantId: spec('text'), read: spec('free', false) },
        ),
    },
    {
      file: '_app.admin.integrations.tsx',
      name: 'POST /admin/integrations (revoke-ehr)',
      method: 'POST',
      role: 'admin',
      path: '/admin/integrations',
      page: true,
      // A Lakeview integration of its own, active, for each base: the page's revoke takes it.
      base: async () => {
        const made = await one<{ id: string }>(
          w.db,
          sql`insert into ehr_integrations (clinic_id, name, idp_tenant_id, client_id, roles)
            values (${w.lakeviewId}, 'Fuzz EHR', '9b1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d', ${`fuzz-${crypto.randomUUID()}`}, array['Referral.Read']) returning id`,
        )
        return form(
          [
            ['intent', 'revoke-ehr'],
            ['integrationId', made.id],
          ],
          { intent: spec('enum'), integrationId: spec('uuid') },
        )
      },
    },
    {
      file: '_app.admin.integrations_.$endpointId.tsx',
      name: 'GET /admin/integrations/:endpointId',
      method: 'GET',
      role: 'admin',
      path: '/admin/integrations/:endpointId',
      page: true,
      base: async () => {
        const { endpointId } = await fuzzEndpoint(w)
        return { ...query([]), fields: [[':endpointId', endpointId]] }
      },
    },
    {
      file: '_app.admin.integrations_.$endpointId.tsx',
      name: 'POST /admin/integrations/:endpointId (redeliver)',
      method: 'POST',
      role: 'admin',
      path: '/admin/integrations/:endpointId',
      page: true,
      base: async () => {
        const { endpointId, deliveryId } = await fuzzEndpoint(w)
        return form(
          [
            [':endpointId', endpointId],
            ['intent', 'redeliver'],
            ['deliveryId', deliveryId],
          ],
          { intent: spec('enum'), deliveryId: spec('uuid') },
        )
      },
    },
    // FHIR R4 (docs/decisions/046-fhir-r4-read-and-search.md): bearer tokens as the API, every refusal an OperationOutcome.
    {
      file: 'fhir.R4.metadata.ts',
      name: 'GET /fhir/R4/metadata',
      method: 'GET',
      role: 'staff',
      path: '/fhir/R4/metadata',
      api: true,
      fhir: true,
      base: async () => ({ ...query([['_format', 'json']]), specs: { _format: spec('enum') } }),
    },
    ...(['ServiceRequest', 'Patient', 'QuestionnaireResponse', 'Task'] as const).map((kind): Endpoint & { file: string } => ({
      file: `fhir.R4.${kind}.$id.ts`,
      name: `GET /fhir/R4/${kind}/:id`,
      method: 'GET',
      role: 'staff',
      path: `/fhir/R4/${kind}/:id`,
      api: true,
      fhir: true,
      base: async () => ({
        ...query([['_format', 'json']]),
        fields: [
          [':id', R],
          ['_format', 'json'],
        ],
        specs: { _format: spec('enum') },
      }),
    })),
    {
      file: 'fhir.R4.Questionnaire.$id.ts',
      name: 'GET /fhir/R4/Questionnaire/:id',
      method: 'GET',
      role: 'referrer',
      path: '/fhir/R4/Questionnaire/:id',
      api: true,
      fhir: true,
      base: async () => ({
        ...query([]),
        fields: [
          [':id', 'intake-1'],
          ['_format', 'json'],
        ],
        specs: { _format: spec('enum') },
      }),
    },
    {
      file: 'fhir.R4.ServiceRequest._index.ts',
      name: 'GET /fhir/R4/ServiceRequest',
      method: 'GET',
      role: 'staff',
      path: '/fhir/R4/ServiceRequest',
      api: true,
      fhir: true,
      base: async () => ({
        ...query([
          ['status', 'active,revoked'],
          ['priority', 'routine,urgent,stat'],
          ['authored', 'ge2026-01-01'],
          ['_lastUpdated', 'lt2099-01-01T00:00:00Z'],
          ['_count', '5'],
        ]),
        specs: { status: spec('enum', false), priority: spec('enum', false), _count: spec('int', false) },
      }),
    },
    {
      file: 'fhir.R4.ServiceRequest.[_search].ts',
      name: 'POST /fhir/R4/ServiceRequest/_search',
      method: 'POST',
      role: 'staff',
      path: '/fhir/R4/ServiceRequest/_search',
      api: true,
      fhir: true,
      base: async () =>
        form(
          [
            ['patient.identifier', '0000-000-000-XX'],
            ['status', 'active'],
            ['_count', '10'],
          ],
          { 'patient.identifier': spec('text', false), status: spec('enum', false), _count: spec('int', false) },
        ),
    },
    {
      file: 'fhir.R4.Task._index.ts',
      name: 'GET /fhir/R4/Task',
      method: 'GET',
      role: 'staff',
      path: '/fhir/R4/Task',
      api: true,
      fhir: true,
      base: async () => ({
        ...query([
          ['focus', `ServiceRequest/${R}`],
          ['status', 'requested,received,accepted,in-progress,on-hold'],
          ['business-status', '2.0,3.0,5.1.1'],
          ['_count', '5'],
        ]),
        specs: { focus: spec('free', false), status: spec('enum', false), _count: spec('int', false) },
      }),
    },
    // The other reads (docs/decisions/057-fhir-r4-the-other-reads.md).
    ...(['Practitioner', 'PractitionerRole', 'Organization'] as const).map((kind): Endpoint & { file: string } => ({
      file: `fhir.R4.${kind}.$id.ts`,
      name: `GET /fhir/R4/${kind}/:id`,
      method: 'GET',
      role: 'staff',
      path: `/fhir/R4/${kind}/:id`,
      api: true,
      fhir: true,
      base: async () => ({
        ...query([]),
        fields: [
          [':id', R],
          ['_format', 'json'],
        ],
        specs: { _format: spec('enum') },
      }),
    })),
    ...(['DocumentReference', 'Binary'] as const).map((kind): Endpoint & { file: string } => ({
      file: `fhir.R4.${kind}.$id.ts`,
      name: `GET /fhir/R4/${kind}/:id`,
      method: 'GET',
      role: 'staff',
      path: `/fhir/R4/${kind}/:id`,
      api: true,
      fhir: true,
      download: kind === 'Binary',
      base: async () => query([[':id', w.documentId]]),
    })),
    {
      file: 'fhir.R4.DocumentReference._index.ts',
      name: 'GET /fhir/R4/DocumentReference',
      method: 'GET',
      role: 'staff',
      path: '/fhir/R4/DocumentReference',
      api: true,
      fhir: true,
      base: async () => ({ ...query([['related', `ServiceRequest/${R}`]]), specs: { related: spec('free') } }),
    },
    {
      file: 'fhir.R4.AuditEvent._index.ts',
      name: 'GET /fhir/R4/AuditEvent',
      method: 'GET',
      role: 'admin',
      path: '/fhir/R4/AuditEvent',
      api: true,
      fhir: true,
      base: async () => ({
        ...query([
          ['subtype', 'referral.read,document.read'],
          ['outcome', '0,4'],
          ['date', 'ge2026-01-01'],
          ['_count', '5'],
        ]),
        specs: { subtype: spec('enum', false), outcome: spec('enum', false), date: spec('free', false), _count: spec('int', false) },
      }),
    },
    {
      file: 'fhir.R4.AuditEvent.$id.ts',
      name: 'GET /fhir/R4/AuditEvent/:id',
      method: 'GET',
      role: 'admin',
      path: '/fhir/R4/AuditEvent/:id',
      api: true,
      fhir: true,
      base: async () => {
        const row = await one<{ id: string }>(w.db, sql`select max(id)::text as id from audit_logs where clinic_id = ${w.lakeviewId}`)
        return query([[':id', row.id]])
      },
    },
    {
      // A transaction Bundle (docs/decisions/056-fhir-writes.md): the same one each time, so the base is the first referral again (200).
      file: 'fhir.R4._index.ts',
      name: 'POST /fhir/R4 (transaction)',
      method: 'POST',
      role: 'referrer',
      path: '/fhir/R4',
      api: true,
      fhir: true,
      base: async () => {
        const row = await one<{ version: number; definition: IntakeFormDefinition }>(
          w.db,
          sql`select version, definition from intake_forms where clinic_id = ${w.northsideId} order by version desc limit 1`,
        )
        const { fields } = await referralFields(w)
        const types = new Map(row.definition.sections.flatMap((s) => s.fields).map((f) => [f.key, f.type as string]))
        const answer = (key: string, value: string) =>
          types.get(key) === 'checkbox'
            ? { valueBoolean: true }
            : types.get(key) === 'number'
              ? { valueDecimal: Number(value) }
              : types.get(key) === 'date'
                ? { valueDate: value }
                : { valueString: value }
        const bundle = transactionBundle({
          identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:5f0e3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b' },
          questionnaireResponse: {
            questionnaire: `${APP_URL}/clinics/${w.northsideId}/intake-form|${row.version}`,
            item: fields.map(([key, value]) => ({ linkId: key, answer: [answer(key, value)] })),
          },
        })
        return {
          type: 'json',
          fields: Object.entries(bundle),
          specs: { resourceType: spec('enum'), type: spec('enum') },
        }
      },
    },
    {
      file: 'fhir.R4.Communication._index.ts',
      name: 'GET /fhir/R4/Communication',
      method: 'GET',
      role: 'staff',
      path: '/fhir/R4/Communication',
      api: true,
      fhir: true,
      base: async () => ({ ...query([['based-on', `ServiceRequest/${R}`]]), specs: { 'based-on': spec('free') } }),
    },
    {
      file: 'fhir.R4.Communication._index.ts',
      name: 'POST /fhir/R4/Communication (reply)',
      method: 'POST',
      role: 'referrer',
      path: '/fhir/R4/Communication',
      api: true,
      fhir: true,
      base: async () => ({
        type: 'json',
        fields: [
          ['resourceType', 'Communication'],
          ['status', 'completed'],
          ['basedOn', [{ reference: `ServiceRequest/${R}` }]],
          ['payload', [{ contentString: 'Fuzz reply' }]],
        ],
        specs: { resourceType: spec('enum'), status: spec('enum') },
      }),
    },
  ]
}

/** Route modules with nothing of their own to fuzz, and why. */
export const COVERED_BY_OTHERS: Record<string, string> = {
  '_app.tsx': 'the layout: its loader runs in every _app.* page above',
  '_app.$.tsx': 'reads nothing it is sent: every address and method answers 404 in the shell (tests/e2e/error-shell.spec.ts)',
  'fhir.R4.Communication.$id.ts':
    'one id in the path and no parameters: its bad ids, other clinics and referrers, and methods are in tests/e2e/fhir-writes.spec.ts (a fuzz base needs a message the fixtures do not make)',
  'fhir.R4.$.ts': 'reads nothing it is sent: every address and method answers the OperationOutcome 404 (tests/e2e/fhir.spec.ts)',
  'api.$.ts': 'reads nothing it is sent: every address and method answers the JSON 404 (tests/e2e/error-shell.spec.ts)',
  'live.ts':
    'a WebSocket handshake, which this HTTP fuzzer cannot complete: tests/e2e/live-queue.spec.ts sends it the signed-out, referrer, cross-site, malformed and plain requests',
}
