/**
 * The bench's data set, bulk-loaded into its own throwaway database (never .data):
 *   20 clinics x 10,000 referrals + 1 clinic x 100,000 referrals + 2,000,000 audit rows (x scale).
 *
 * Bulk load is setup, not the code under test, so it runs as the superuser over a direct
 * connection: multi-row INSERT ... SELECT FROM json_populate_recordset (one JSON parameter per
 * batch of thousands of rows, two connections in flight while Node prepares the next batch), with
 * `session_replication_role = replica`, which switches off the user triggers (the audit chain
 * trigger, the PHI-write audit triggers and the foreign-key triggers) for these sessions only.
 * The data are built to satisfy every constraint anyway. The indexes that back no constraint are
 * dropped for the load and created again afterwards from their own definitions
 * (pg_get_indexdef): building an index once is far cheaper than updating a dozen of them per
 * row; the primary keys and unique constraints stay on throughout.
 *
 * - PHI is encrypted field by field with the app's scheme, one encryption per value (the AAD
 *   binds each to its referral): see seed-cipher.ts for why node:crypto and how it is checked.
 * - The audit chain (seq, prev_hash, hash) is computed in Node with the same canonical form as
 *   audit_hash() (audit-chain.ts), the heads are set, and audit_verify() checks a loaded chain.
 */
import { defaultIntakeForm, REQUESTED_SERVICES } from '../../app/intake/default-form'
import { parseKeyRing } from '../../app/crypto/phi.server'
import type { ReferralPriority, ReferralStatus } from '../../app/db/schema'
import { patientIndexes, sealFormData } from '../../app/referrals/form-data.server'
import { DEMO_ACCOUNTS, DEMO_TENANT_ID, type DemoAccount } from '../lib/demo-accounts'
import type { LocalSecrets } from '../lib/secrets'
import { fakePatient, fakeReferralValues, type FakePatient } from '../../tests/factories/patients'
import { createRandom, type Random } from '../../tests/factories/random'
import { declineReason, STATUS_MIX } from '../../tests/factories/seed'
import { auditHash, auditVerify, isoMicros, type AuditSeedRow } from './audit-chain'
import { connectPg, type PgClient } from './pg'
import { assertCompatible, createSeedCipher } from './seed-cipher'

export const DEFAULTS = { smallClinics: 20, referralsPerSmallClinic: 10_000, bigClinicReferrals: 100_000, auditRows: 2_000_000 }

const OPEN: ReadonlySet<ReferralStatus> = new Set(['received', 'in_review', 'info_requested', 'accepted', 'scheduled'])
const DAY_MS = 86_400_000
const TEMPLATES = ['northside', 'lakeview', 'riverbend'] as const
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) IntakePilot-bench/1.0'

export type BenchUser = { id: string; email: string; role: 'staff' | 'referrer'; displayName: string }
export type SeededClinic = { id: string; slug: string; referrals: number; auditRows: number }
export type SeedResult = {
  bigClinic: SeededClinic & { template: string; services: string[] }
  clinics: SeededClinic[]
  /** Big-clinic accounts the local identity provider can sign in (staff first: staff@northside.test). */
  staff: BenchUser[]
  referrers: BenchUser[]
  counts: { clinics: number; referrals: number; events: number; auditRows: number; encryptedValues: number }
  timings: Record<string, number>
  verify: { clinic: string; rows: number; ok: boolean; reason: string | null; ms: number }
}

type Log = (line: string) => void

export async function seedBenchDatabase(options: {
  superuserUrl: string
  secrets: Pick<LocalSecrets, 'phiKeyRing' | 'phiBlindIndexKey'>
  scale: number
  log: Log
}): Promise<SeedResult> {
  const { scale, log } = options
  const timings: Record<string, number> = {}
  const timed = async <T>(name: string, fn: () => Promise<T>) => {
    const t = performance.now()
    const result = await fn()
    timings[name] = Math.round(performance.now() - t)
    return result
  }
  const keyRing = parseKeyRing(options.secrets.phiKeyRing)
  const cipher = createSeedCipher({ keyRing, blindIndexKey: options.secrets.phiBlindIndexKey })
  await assertCompatible(cipher, { keyRing, blindIndexKey: options.secrets.phiBlindIndexKey })
  const phi = cipher.asPhiCipher()

  const perSmall = Math.max(1, Math.round(DEFAULTS.referralsPerSmallClinic * scale))
  const big = Math.max(1, Math.round(DEFAULTS.bigClinicReferrals * scale))
  const auditTotal = Math.max(1, Math.round(DEFAULTS.auditRows * scale))
  const random = createRandom(20261126)
  const now = Date.now()

  const admin = await connectPg(options.superuserUrl)
  // Checkpoints during the load only cost time; the setting is reset before anything is measured.
  await admin.query(`alter system set max_wal_size = '16GB'`)
  await admin.query('select pg_reload_conf()')
  const loader = await createLoader(options.superuserUrl, 2)

  try {
    // ---- clinics, users, forms -------------------------------------------------------------
    type ClinicPlan = SeededClinic & {
      template: (typeof TEMPLATES)[number]
      staff: string[]
      referrers: { id: string; name: string; org: string }[]
      adminId: string
      services: string[]
    }
    const plans: ClinicPlan[] = []
    const userRows: Record<string, unknown>[] = []
    const bigStaff: BenchUser[] = []
    const bigReferrers: BenchUser[] = []
    const shareOf = (n: number) => n / (DEFAULTS.smallClinics * perSmall + big)

    await timed('clinics_users_forms', async () => {
      for (let c = 0; c <= DEFAULTS.smallClinics; c++) {
        const isBig = c === DEFAULTS.smallClinics
        const slug = isBig ? 'bigclinic' : `bench-${String(c + 1).padStart(2, '0')}`
        const template = TEMPLATES[c % TEMPLATES.length]!
        const plan: ClinicPlan = {
          id: crypto.randomUUID(),
          slug,
          template,
          referrals: isBig ? big : perSmall,
          auditRows: 0,
          staff: [],
          referrers: [],
          adminId: '',
          services: REQUESTED_SERVICES[template]!,
        }
        plan.auditRows = Math.round(auditTotal * shareOf(plan.referrals))
        const user = (u: { email: string; name: string; role: string; oid?: string; org?: string }) => {
          const id = crypto.randomUUID()
          userRows.push({
            id,
            clinic_id: plan.id,
            idp_tenant_id: DEMO_TENANT_ID,
            idp_object_id: u.oid ?? crypto.randomUUID(),
            email: u.email,
            display_name: u.name,
            role: u.role,
            status: 'active',
            organization: u.org ?? null,
          })
          return id
        }
        plan.adminId = user({ email: `admin@${slug}.test`, name: `${slug} Admin`, role: 'admin' })
        if (isBig) {
          // Every account the local provider knows in the allowed tenant, so that the load can be
          // spread over many real sign-ins (the rate limit counts per user).
          for (const account of bigClinicAccounts()) {
            const referrer = account.email.startsWith('referrer')
            const id = user({
              email: account.email,
              name: account.name,
              role: referrer ? 'referrer' : 'staff',
              oid: account.oid,
              org: account.organization ?? (referrer ? 'Family practice' : undefined),
            })
            const benchUser: BenchUser = { id, email: account.email, role: referrer ? 'referrer' : 'staff', displayName: account.name }
            if (referrer) {
              plan.referrers.push({ id, name: account.name, org: account.organization ?? 'Family practice' })
              bigReferrers.push(benchUser)
            } else {
              plan.staff.push(id)
              bigStaff.push(benchUser)
            }
          }
        } else {
          for (let i = 1; i <= 3; i++) plan.staff.push(user({ email: `staff${i}@${slug}.test`, name: `Staff ${i} ${slug}`, role: 'staff' }))
          for (let i = 1; i <= 6; i++) {
            const name = `Dr. Referrer ${i}`
            const org = `Practice ${i}`
            plan.referrers.push({ id: user({ email: `referrer${i}@${slug}.test`, name, role: 'referrer', org }), name, org })
          }
        }
        plans.push(plan)
      }
      await admin.query('begin')
      await admin.query(`set local session_replication_role = replica`)
      await insertJson(
        admin,
        'clinics',
        plans.map((p) => ({
          id: p.id,
          slug: p.slug,
          name: p.slug === 'bigclinic' ? 'Big Clinic (100k referrals)' : `Bench Clinic ${p.slug.slice(6)}`,
          settings: { turnaroundHours: { emergent: 24, urgent: 72, routine: 336 } },
          created_at: new Date(now - 400 * DAY_MS).toISOString(),
        })),
      )
      await insertJson(admin, 'users', userRows)
      await insertJson(
        admin,
        'intake_forms',
        plans.map((p) => ({
          id: crypto.randomUUID(),
          clinic_id: p.id,
          version: 1,
          definition: defaultIntakeForm(p.services),
          published_at: new Date(now - 200 * DAY_MS).toISOString(),
          created_by: p.adminId,
          created_at: new Date(now - 200 * DAY_MS).toISOString(),
        })),
      )
      await admin.query('commit')
    })

    const dropped = await timed('drop_indexes', () => dropPlainIndexes(admin, ['referrals', 'referral_events', 'audit_logs']))

    // ---- referrals and their events ---------------------------------------------------------
    const referralIds = new Map<string, string[]>()
    let events = 0
    let encrypted = 0
    await timed('referrals', async () => {
      const BATCH = 2000
      for (const plan of plans) {
        const definition = defaultIntakeForm(plan.services)
        const ids: string[] = []
        const references = new Set<string>()
        const patients: FakePatient[] = []
        const openByCard = new Map<string, string>()
        let rows: Record<string, unknown>[] = []
        let eventRows: Record<string, unknown>[] = []
        const flush = async () => {
          if (rows.length) await loader.submit('referrals', rows)
          if (eventRows.length) await loader.submit('referral_events', eventRows)
          rows = []
          eventRows = []
        }
        for (let i = 0; i < plan.referrals; i++) {
          const id = crypto.randomUUID()
          ids.push(id)
          const referrer = random.pick(plan.referrers)
          // About one patient in thirty is referred again: the duplicate check has work to do.
          const patient = patients.length > 10 && random.chance(1 / 30) ? random.pick(patients) : fakePatient(random)
          if (patients.length < 5000) patients.push(patient)
          const values = fakeReferralValues(random, {
            clinicSlug: plan.template,
            services: plan.services,
            clinician: { name: referrer.name, practice: referrer.org },
            patient,
          })
          const status = random.pick(STATUS_MIX)
          const received = now - random.int(0, 120 * DAY_MS)
          const at = (days: number) => new Date(Math.min(now, received + days * DAY_MS)).toISOString()
          const triaged = status !== 'received'
          const indexes = await patientIndexes(phi, plan.id, values)
          const card = indexes.healthCardIndex ?? ''
          const duplicateOf = OPEN.has(status) ? openByCard.get(card) : undefined
          if (OPEN.has(status) && card) openByCard.set(card, id)
          const formData = await sealFormData(phi, definition, { clinicId: plan.id, referralId: id }, values)
          encrypted += Object.values(formData).filter((v) => typeof v === 'object').length
          let reference: string
          do reference = referenceNumber(random, plan.slug)
          while (references.has(reference))
          references.add(reference)
          const receivedIso = new Date(received).toISOString()
          rows.push({
            id,
            clinic_id: plan.id,
            reference_number: reference,
            form_version: 1,
            submitted_by: referrer.id,
            status,
            priority: values.urgency as ReferralPriority,
            assigned_to: triaged && random.chance(0.75) ? random.pick(plan.staff) : null,
            form_data: formData,
            health_card_index: indexes.healthCardIndex,
            name_dob_index: indexes.nameDobIndex,
            possible_duplicate_of: duplicateOf ?? null,
            idempotency_key: null,
            received_at: receivedIso,
            first_opened_at: triaged ? at(0.2) : null,
            triaged_at: triaged ? at(1) : null,
            scheduled_at: status === 'scheduled' || status === 'closed' ? at(random.int(3, 20)) : null,
            closed_at: status === 'closed' || status === 'declined' ? at(random.int(5, 40)) : null,
            version: 1,
            created_at: receivedIso,
            updated_at: receivedIso,
          })
          const event = (e: { type: string; actor: string; data?: object; body?: object | null; visible: boolean; at: string; id?: string }) =>
            eventRows.push({
              id: e.id ?? crypto.randomUUID(),
              clinic_id: plan.id,
              referral_id: id,
              actor_id: e.actor,
              type: e.type,
              data: e.data ?? {},
              body: e.body ?? null,
              visible_to_referrer: e.visible,
              created_at: e.at,
            })
          const worker = plan.staff[0]!
          event({ type: 'created', actor: referrer.id, visible: true, at: receivedIso })
          if (triaged) event({ type: 'status', actor: worker, data: { from: 'received', to: status, ...declineReason(status, id) }, visible: true, at: at(1) })
          if (status === 'info_requested') {
            const eventId = crypto.randomUUID()
            event({
              id: eventId,
              type: 'message',
              actor: worker,
              visible: true,
              at: at(1.1),
              body: cipher.encryptSync('Could you send the most recent imaging report and the current medication list?', {
                clinicId: plan.id,
                recordId: eventId,
                field: 'body',
              }),
            })
            encrypted++
          }
          if (triaged && random.chance(0.4)) {
            const eventId = crypto.randomUUID()
            event({
              id: eventId,
              type: 'note',
              actor: worker,
              visible: false,
              at: at(1.05),
              body: cipher.encryptSync(
                random.pick([
                  'Reviewed history; appropriate for our service.',
                  'Called the patient to confirm contact details.',
                  'Needs imaging before the first visit.',
                ]),
                { clinicId: plan.id, recordId: eventId, field: 'body' },
              ),
            })
            encrypted++
          }
          if (rows.length >= BATCH) {
            events += eventRows.length
            await flush()
          }
        }
        events += eventRows.length
        await flush()
        referralIds.set(plan.id, ids)
      }
      await loader.drain()
    })
    log(
      `referrals loaded: ${plans.reduce((n, p) => n + p.referrals, 0).toLocaleString('en')} referrals, ${events.toLocaleString('en')} events, ${encrypted.toLocaleString('en')} encrypted values (${(timings.referrals! / 1000).toFixed(1)} s)`,
    )

    // ---- audit trail with its hash chain ------------------------------------------------------
    let nextId = 1
    const heads: { chain: string; seq: number; hash: string }[] = []
    await timed('audit', async () => {
      const BATCH = 5000
      for (const plan of plans) {
        const ids = referralIds.get(plan.id)!
        const actors = [...plan.staff, plan.adminId]
        const start = (now - 120 * DAY_MS) * 1000
        const step = Math.max(1, Math.floor(((120 * DAY_MS - 60_000) * 1000) / Math.max(1, plan.auditRows)))
        let prev: string | null = null
        let rows: AuditSeedRow[] = []
        for (let seq = 1; seq <= plan.auditRows; seq++) {
          const row = auditRow(random, {
            id: nextId++,
            clinicId: plan.id,
            seq,
            prevHash: prev,
            occurredMicros: start + (seq - 1) * step + random.int(0, Math.max(0, step - 1)),
            referralIds: ids,
            staff: actors,
            referrers: plan.referrers.map((r) => r.id),
          })
          prev = row.hash
          rows.push(row)
          if (rows.length >= BATCH) {
            await loader.submit('audit_logs', rows)
            rows = []
          }
        }
        if (rows.length) await loader.submit('audit_logs', rows)
        if (prev) heads.push({ chain: plan.id, seq: plan.auditRows, hash: prev })
      }
      await loader.drain()
      await admin.query(
        `insert into audit_chain_heads (chain, seq, hash) select chain, seq, hash from json_populate_recordset(null::audit_chain_heads, $1::json)`,
        [JSON.stringify(heads)],
      )
      await admin.query(`select setval('audit_logs_id_seq', $1)`, [nextId - 1])
    })
    log(`audit trail loaded: ${(nextId - 1).toLocaleString('en')} rows in ${heads.length} chains (${(timings.audit! / 1000).toFixed(1)} s)`)

    await timed('create_indexes', () => recreateIndexes(loader.clients, dropped))
    log(
      `${dropped.length} indexes built again (${(timings.create_indexes! / 1000).toFixed(1)} s); node waited ${(loader.waitMs / 1000).toFixed(1)} s for PostgreSQL during the load`,
    )
    timings.node_waiting_for_postgres = Math.round(loader.waitMs)

    // ---- as a database that has been running: statistics, visibility map, a checkpoint -----------
    await timed('vacuum_analyze', async () => {
      await Promise.all([
        loader.clients[0]!.query('vacuum (analyze) referrals'),
        loader.clients[1]!.query('vacuum (analyze) referral_events').then(() =>
          loader.clients[1]!.query('vacuum (analyze) users, clinics, intake_forms, audit_chain_heads'),
        ),
      ])
      await admin.query('vacuum (analyze) audit_logs')
      await admin.query('alter system reset max_wal_size')
      await admin.query('select pg_reload_conf()')
      await admin.query('checkpoint')
    })

    // ---- the loaded chain must verify ----------------------------------------------------------
    const bigPlan = plans.at(-1)!
    const verifyPlan = plans[0]!
    const verify = await timed('audit_verify', async () => {
      const v = await auditVerify(admin, verifyPlan.id)
      return { clinic: verifyPlan.slug, rows: v.rows, ok: v.ok, reason: v.reason, ms: v.ms }
    })
    if (!verify.ok || verify.rows !== verifyPlan.auditRows) {
      throw new Error(`audit_verify(${verifyPlan.slug}) failed: ${verify.reason ?? `${verify.rows} rows checked, ${verifyPlan.auditRows} loaded`}`)
    }
    log(`audit_verify(${verify.clinic}): ok, ${verify.rows.toLocaleString('en')} rows in ${verify.ms} ms`)

    const strip = (p: ClinicPlan): SeededClinic => ({ id: p.id, slug: p.slug, referrals: p.referrals, auditRows: p.auditRows })
    return {
      bigClinic: { ...strip(bigPlan), template: bigPlan.template, services: bigPlan.services },
      clinics: plans.map(strip),
      staff: bigStaff,
      referrers: bigReferrers,
      counts: { clinics: plans.length, referrals: plans.reduce((n, p) => n + p.referrals, 0), events, auditRows: nextId - 1, encryptedValues: encrypted },
      timings,
      verify,
    }
  } finally {
    await loader.end()
    await admin.end()
  }
}

/** The accounts of the local provider in the allowed tenant; staff@northside.test first. */
export function bigClinicAccounts(): DemoAccount[] {
  const usable = DEMO_ACCOUNTS.filter((a) => a.tid === DEMO_TENANT_ID)
  return [...usable.filter((a) => a.email === 'staff@northside.test'), ...usable.filter((a) => a.email !== 'staff@northside.test')]
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
function referenceNumber(random: Random, slug: string) {
  let code = ''
  for (let i = 0; i < 7; i++) code += ALPHABET[random.int(0, 31)]
  return `${slug.slice(0, 3).toUpperCase()}-${code}`
}

export function auditRow(
  random: Random,
  o: {
    id: number
    clinicId: string
    seq: number
    prevHash: string | null
    occurredMicros: number
    referralIds: string[]
    staff: string[]
    referrers: string[]
  },
): AuditSeedRow {
  const r = random.next()
  const staff = random.pick(o.staff)
  let row: Pick<AuditSeedRow, 'actor_id' | 'actor_role' | 'action' | 'entity_type' | 'entity_id' | 'details'>
  if (r < 0.55)
    row = { actor_id: staff, actor_role: 'staff', action: 'referral.read', entity_type: 'referral', entity_id: random.pick(o.referralIds), details: null }
  else if (r < 0.65) {
    const ids = Array.from({ length: 25 }, () => random.pick(o.referralIds))
    row = { actor_id: staff, actor_role: 'staff', action: 'referral.list', entity_type: 'referral', entity_id: null, details: { ids, search: false } }
  } else if (r < 0.8)
    row = {
      actor_id: random.pick(o.referrers),
      actor_role: 'referrer',
      action: 'referral.create',
      entity_type: 'referral',
      entity_id: random.pick(o.referralIds),
      details: null,
    }
  else if (r < 0.9)
    row = {
      actor_id: staff,
      actor_role: 'staff',
      action: 'referral.status',
      entity_type: 'referral',
      entity_id: random.pick(o.referralIds),
      details: { from: 'received', to: 'in_review' },
    }
  else if (r < 0.97) row = { actor_id: staff, actor_role: 'staff', action: 'login', entity_type: 'user', entity_id: staff, details: null }
  else
    row = {
      actor_id: staff,
      actor_role: 'staff',
      action: 'referral.note',
      entity_type: 'referral',
      entity_id: random.pick(o.referralIds),
      details: { event: 'note' },
    }
  const base = {
    id: o.id,
    clinic_id: o.clinicId,
    seq: o.seq,
    ...row,
    request_id: crypto.randomUUID(),
    ip: `10.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`,
    user_agent: USER_AGENT,
    outcome: random.chance(0.01) ? 'denied' : 'success',
    occurred_at: isoMicros(o.occurredMicros),
    prev_hash: o.prevHash,
  }
  return { ...base, hash: auditHash(base) }
}

export async function insertJson(client: PgClient, table: string, rows: Record<string, unknown>[]) {
  if (!rows.length) return
  const columns = Object.keys(rows[0]!).join(', ')
  await client.query(`insert into ${table} (${columns}) select ${columns} from json_populate_recordset(null::${table}, $1::json)`, [JSON.stringify(rows)])
}

export type IndexDef = { name: string; def: string }

/** Drops the indexes of these tables that back no constraint; returns their definitions. */
export async function dropPlainIndexes(client: PgClient, tables: string[]): Promise<IndexDef[]> {
  const result = await client.query<IndexDef>(
    `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
       from pg_index i join pg_class t on t.oid = i.indrelid
      where t.relnamespace = 'public'::regnamespace and t.relname = any($1)
        and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
      order by t.relname, 1`,
    [tables],
  )
  for (const index of result.rows) await client.query(`drop index ${index.name}`)
  return result.rows
}

/** Builds the indexes again, shared out over the connections (biggest tables first). */
export async function recreateIndexes(clients: PgClient[], indexes: IndexDef[], maintenanceWorkMem = '256MB') {
  const queue = [...indexes].sort((a, b) => Number(b.def.includes(' audit_logs ')) - Number(a.def.includes(' audit_logs ')))
  await Promise.all(
    clients.map(async (client) => {
      await client.query(`set maintenance_work_mem = '${maintenanceWorkMem}'`)
      await client.query('set max_parallel_maintenance_workers = 0')
      for (let next = queue.shift(); next; next = queue.shift()) await client.query(next.def)
    }),
  )
}

/** N superuser connections with triggers off; `submit` waits only while all N are busy. */
export async function createLoader(url: string, n: number) {
  const clients = await Promise.all(Array.from({ length: n }, () => connectPg(url)))
  for (const client of clients) {
    await client.query('set session_replication_role = replica')
    await client.query('set synchronous_commit = off')
  }
  const busy = new Map<PgClient, Promise<void>>()
  let failure: unknown = null
  let waitMs = 0
  const free = async (): Promise<PgClient> => {
    const t = performance.now()
    try {
      for (;;) {
        if (failure) throw failure
        const idle = clients.find((c) => !busy.has(c))
        if (idle) return idle
        await Promise.race(busy.values())
      }
    } finally {
      waitMs += performance.now() - t
    }
  }
  return {
    clients,
    /** Time the caller spent waiting for a free connection (PostgreSQL was the bottleneck). */
    get waitMs() {
      return waitMs
    },
    async submit(table: string, rows: object[]) {
      const client = await free()
      const work = insertJson(client, table, rows as Record<string, unknown>[])
        .catch((error) => {
          failure ??= new Error(`bulk insert into ${table} failed: ${error instanceof Error ? error.message : error}`)
        })
        .finally(() => busy.delete(client))
      busy.set(client, work)
    },
    async drain() {
      const t = performance.now()
      await Promise.all(busy.values())
      waitMs += performance.now() - t
      if (failure) throw failure
    },
    async end() {
      await Promise.allSettled(busy.values())
      for (const client of clients) {
        await client.query('set session_replication_role = origin').catch(() => {})
        await client.end().catch(() => {})
      }
    },
  }
}
