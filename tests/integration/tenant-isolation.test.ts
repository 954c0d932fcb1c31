/**
 * The isolation matrix (decision 005). For every clinic-owned table: what the runtime role can see
 * and change from each tenant context, through db.tenant (RLS in force), checked against what
 * the owner (who bypasses RLS) says is really there. A new table is one line in TABLES; the
 * first test fails until it is added.
 */
import { randomUUID } from 'node:crypto'
import { and, eq, getTableName, sql, type SQL } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import { beforeAll, describe, expect, test } from 'vitest'
import * as s from '../../app/db/schema'
import type { TenantScope, TenantTx } from '../../app/tenancy/tenant.server'
import { rolledBack, sqlState, useTestDatabase } from '../support/db'
import { DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'

const db = useTestDatabase()

type Slug = 'northside' | 'lakeview'
type Member = 'staff' | 'admin' | 'referrer' | 'referrer2'
/** Ids of one clinic's rows; referral is one of referrer@'s, freeReferral has no processing result. */
type Clinic = Record<
  | Member
  | 'clinicId'
  | 'referral'
  | 'freeReferral'
  | 'form'
  | 'event'
  | 'result'
  | 'document'
  | 'view'
  | 'adminView'
  | 'profile'
  | 'draft'
  | 'template'
  | 'emailPreference'
  | 'endpoint'
  | 'delivery'
  | 'integration',
  string
> & {
  audit: number
}
const f = {} as Record<Slug, Clinic>
let superadminId = ''

type Case = {
  table: PgTable
  /** The column that says whose row it is (for clinics, the id itself). */
  owner: PgColumn
  /** The role allowed to insert/update in its own clinic: the positive control. */
  writer: 'staff' | 'admin' | 'superadmin' | 'referrer'
  /** Who inserts in the positive control, when not the writer (one row per user: the writer has theirs). */
  insertAs?: Member
  /** A row of one user's own (the column naming them): only they see it, not colleagues, not staff. */
  mine?: PgColumn
  /** The runtime role may DELETE its own rows (and no one else's). */
  deletable?: boolean
  row: (c: Clinic) => Record<string, unknown>
  target: (c: Clinic) => string | number
  /** What an UPDATE sets; a function of the acting clinic where it must name its own people. */
  update: Record<string, unknown> | ((actor: Clinic) => Record<string, unknown>)
  /** false: the runtime role has no UPDATE grant, so any UPDATE is refused outright. */
  updatable: boolean
  /** A user's own rows (saved queue views): a member sees only theirs, and may delete them. */
  perUser?: { user: PgColumn }
  /** The clinic's admins see its rows, its staff none (webhooks, drizzle/0027). */
  adminOnly?: boolean
}
const rnd = () => randomUUID()
const TABLES: Case[] = [
  // clinics has no clinic_id: its "cross-clinic insert" is creating a clinic, which only a superadmin may.
  {
    table: s.clinics,
    owner: s.clinics.id,
    writer: 'superadmin',
    target: (c) => c.clinicId,
    update: { name: 'Renamed' },
    updatable: true,
    row: () => ({ slug: `probe-${rnd()}`, name: 'Probe' }),
  },
  {
    table: s.users,
    owner: s.users.clinicId,
    writer: 'admin',
    target: (c) => c.staff,
    update: { displayName: 'Renamed' },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, email: `${rnd()}@probe.test`, displayName: 'Probe', role: 'staff' }),
  },
  {
    table: s.intakeForms,
    owner: s.intakeForms.clinicId,
    writer: 'admin',
    target: (c) => c.form,
    update: { publishedAt: null },
    updatable: false,
    row: (c) => ({ clinicId: c.clinicId, version: 900_000 + Math.floor(Math.random() * 99_999), definition: { sections: [] } }),
  },
  {
    table: s.referrals,
    owner: s.referrals.clinicId,
    writer: 'staff',
    target: (c) => c.referral,
    update: { status: 'declined' },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, referenceNumber: `PROBE-${rnd()}`, formVersion: 1, submittedBy: c.referrer, formData: {} }),
  },
  {
    table: s.referralEvents,
    owner: s.referralEvents.clinicId,
    writer: 'staff',
    target: (c) => c.event,
    update: { visibleToReferrer: false },
    updatable: false,
    row: (c) => ({ clinicId: c.clinicId, referralId: c.referral, type: 'note', actorId: c.staff }),
  },
  {
    table: s.processingResults,
    owner: s.processingResults.clinicId,
    writer: 'staff',
    target: (c) => c.result,
    update: { summaries: { x: 1 } },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, referralId: c.freeReferral }),
  },
  {
    table: s.referralDocuments,
    owner: s.referralDocuments.clinicId,
    writer: 'staff',
    target: (c) => c.document,
    // Removal is the only change (a column grant): as the acting staff member, with a reason.
    update: (actor) => ({ removedAt: new Date(), removedBy: actor.staff, removalReason: SEALED }),
    updatable: true,
    row: (c) => documentRow(c.clinicId, c.referral, c.staff),
  },
  // A referrer's own things (drizzle/0022): the writer is the referrer whose row it is.
  {
    table: s.referrerProfiles,
    owner: s.referrerProfiles.clinicId,
    mine: s.referrerProfiles.userId,
    writer: 'referrer',
    insertAs: 'referrer2',
    target: (c) => c.profile,
    update: { practice: 'Renamed practice' },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, userId: c.referrer2, clinicianName: 'Probe' }),
  },
  {
    table: s.emailPreferences,
    owner: s.emailPreferences.clinicId,
    mine: s.emailPreferences.userId,
    writer: 'referrer',
    insertAs: 'referrer2',
    target: (c) => c.emailPreference,
    update: { off: ['declined'] },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, userId: c.referrer2, off: ['accepted'] }),
  },
  {
    table: s.referralDrafts,
    owner: s.referralDrafts.clinicId,
    mine: s.referralDrafts.userId,
    writer: 'referrer',
    deletable: true,
    target: (c) => c.draft,
    update: () => ({ content: SEALED }),
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, userId: c.referrer, formVersion: 1, content: SEALED }),
  },
  {
    table: s.referralTemplates,
    owner: s.referralTemplates.clinicId,
    mine: s.referralTemplates.userId,
    writer: 'referrer',
    deletable: true,
    target: (c) => c.template,
    update: { values: { urgency: 'urgent' } },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, userId: c.referrer, name: `Probe ${rnd()}`, formVersion: 1, values: {} }),
  },
  {
    table: s.savedQueueViews,
    owner: s.savedQueueViews.clinicId,
    writer: 'staff',
    target: (c) => c.view,
    update: { name: 'Renamed' },
    updatable: false,
    perUser: { user: s.savedQueueViews.userId },
    row: (c) => ({ clinicId: c.clinicId, userId: c.staff, name: `Probe ${rnd()}`, query: 'status=received' }),
  },
  // Webhooks (drizzle/0027): the clinic's admins only.
  {
    table: s.webhookEndpoints,
    owner: s.webhookEndpoints.clinicId,
    writer: 'admin',
    adminOnly: true,
    target: (c) => c.endpoint,
    update: { url: 'https://renamed.example.com/hook' },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, url: 'https://probe.example.com/hook', topics: ['referral.created'], secret: SEALED }),
  },
  {
    table: s.webhookDeliveries,
    owner: s.webhookDeliveries.clinicId,
    writer: 'admin',
    adminOnly: true,
    target: (c) => c.delivery,
    update: { status: 'failed' },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, endpointId: c.endpoint, topic: 'webhook.test', payload: {}, status: 'delivered' }),
  },
  // EHR integrations (drizzle/0034): the clinic's admins only.
  {
    table: s.ehrIntegrations,
    owner: s.ehrIntegrations.clinicId,
    writer: 'admin',
    adminOnly: true,
    target: (c) => c.integration,
    update: { name: 'Renamed EHR' },
    updatable: true,
    row: (c) => ({ clinicId: c.clinicId, name: 'Probe EHR', idpTenantId: DEMO_TENANT_ID, clientId: `probe-${rnd()}`, roles: ['Referral.Read'] }),
  },
  {
    table: s.auditLogs,
    owner: s.auditLogs.clinicId,
    writer: 'staff',
    target: (c) => c.audit,
    update: { action: 'tampered' },
    updatable: false,
    row: (c) => ({ clinicId: c.clinicId, action: 'test.probe', actorId: c.staff }),
  },
]
/** Shaped like a sealed value; the matrix never decrypts. */
const SEALED = { v: 1 as const, kid: 'k1', iv: 'AAAAAAAAAAAAAAAA', ct: 'AAAA' }
const documentRow = (clinicId: string, referralId: string, uploadedBy: string) => ({
  clinicId,
  referralId,
  uploadedBy,
  attachedWith: 'staff' as 'staff' | 'reply',
  contentType: 'application/pdf',
  sizeBytes: 1,
  sha256: 'a'.repeat(64),
  chunkBytes: 262144,
  chunkCount: 1,
  name: SEALED,
})
const caseOf = (table: PgTable) => TABLES.find((c) => c.table === table)!

const idOf = (table: PgTable) => (table as unknown as { id: PgColumn }).id
const scope = (slug: Slug, who: Member | 'superadmin'): TenantScope => ({
  clinicId: f[slug].clinicId,
  userId: who === 'superadmin' ? superadminId : f[slug][who],
  role: who === 'referrer2' ? 'referrer' : who,
})
const idsQuery = (table: PgTable, where?: SQL) => sql`select ${idOf(table)}::text as id from ${table} ${where ? sql`where ${where}` : sql``} order by 1`
const idsOf = (result: { rows: unknown[] }) => (result.rows as { id: string }[]).map((r) => r.id)
const ownerIds = async (table: PgTable, where?: SQL) => idsOf(await db.owner.execute(idsQuery(table, where)))
const tenantIds = async (who: Partial<TenantScope>, table: PgTable, where?: SQL) => idsOf(await db.as(who).tenant((tx) => tx.execute(idsQuery(table, where))))
const ownerRow = async (table: PgTable, id: string | number) =>
  (await db.owner.execute(sql`select to_jsonb(t) as row from ${table} t where t.id = ${id}`)).rows[0]

// Drizzle's builders are typed per table; the matrix drives them generically.
const insert = (tx: TenantTx, c: Case, row: Record<string, unknown>) =>
  tx
    .insert(c.table)
    .values(row as never)
    .returning({ one: sql`1` })
// Every UPDATE the matrix tries is made from lakeview (into northside's rows, or its own).
const update = (tx: TenantTx, c: Case, id: string | number, set = typeof c.update === 'function' ? c.update(f.lakeview) : c.update) =>
  tx
    .update(c.table)
    .set(set as never)
    .where(eq(idOf(c.table), id))
    .returning({ one: sql`1` })

/** Other test files write to the same database concurrently: visible must sit between two owner reads. */
async function expectExactly(visible: () => Promise<string[]>, truth: () => Promise<string[]>) {
  const before = await truth()
  const seen = await visible()
  const after = await truth()
  expect(before.length).toBeGreaterThan(0)
  expect(seen).toEqual(expect.arrayContaining(before))
  expect(after).toEqual(expect.arrayContaining(seen))
}

async function loadClinic(slug: Slug): Promise<Clinic> {
  const o = db.owner
  const [clinic] = await o.select().from(s.clinics).where(eq(s.clinics.slug, slug))
  const clinicId = clinic!.id
  const members = await o.select().from(s.users).where(eq(s.users.clinicId, clinicId))
  const user = (p: string) => members.find((m) => m.email === `${p}@${slug}.test`)!.id
  const [form] = await o.select().from(s.intakeForms).where(eq(s.intakeForms.clinicId, clinicId))
  const own = and(eq(s.referrals.clinicId, clinicId), eq(s.referrals.submittedBy, user('referrer')))
  const [referral] = await o.select().from(s.referrals).where(own).orderBy(s.referrals.id).limit(1)
  const [event] = await o.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, referral!.id)).limit(1)
  // The seed has no AI results and no audit trail: add one of each, committed, as the owner.
  const result = { clinicId, referralId: referral!.id, summaries: { note: 'isolation matrix fixture' } }
  await o.insert(s.processingResults).values(result).onConflictDoNothing()
  const [stored] = await o.select().from(s.processingResults).where(eq(s.processingResults.referralId, referral!.id))
  const audit = { clinicId, actorId: user('staff'), actorRole: 'staff', action: 'test.isolation-fixture' }
  const [logged] = await o.insert(s.auditLogs).values(audit).returning()
  const noResult = sql`not exists (select 1 from processing_results p where p.referral_id = ${s.referrals.id})`
  const [free] = await o.select().from(s.referrals).where(and(own, noResult)).limit(1)
  // Documents: one on the referrer's referral, one on their colleague's (the referrer test hides it).
  const [document] = await o
    .insert(s.referralDocuments)
    .values(documentRow(clinicId, referral!.id, user('staff')))
    .returning()
  const theirs = and(eq(s.referrals.clinicId, clinicId), eq(s.referrals.submittedBy, user('referrer2')))
  const [colleagues] = await o.select().from(s.referrals).where(theirs).limit(1)
  await o.insert(s.referralDocuments).values(documentRow(clinicId, colleagues!.id, user('staff')))
  // Saved queue views: the staff member's and the admin's, each their own.
  const [view, adminView] = await o
    .insert(s.savedQueueViews)
    .values([
      { clinicId, userId: user('staff'), name: `Matrix ${rnd()}`, query: 'priority=urgent' },
      { clinicId, userId: user('admin'), name: `Matrix ${rnd()}`, query: 'assignee=me' },
    ])
    .returning()
  // The referrer's own things: a profile (one per user, kept between runs), a draft and a template.
  await o
    .insert(s.referrerProfiles)
    .values({ clinicId, userId: user('referrer'), clinicianName: 'Dr. Fixture' })
    .onConflictDoNothing()
  const [profile] = await o
    .select()
    .from(s.referrerProfiles)
    .where(eq(s.referrerProfiles.userId, user('referrer')))
  await o
    .insert(s.emailPreferences)
    .values({ clinicId, userId: user('referrer'), off: [] })
    .onConflictDoNothing()
  const [emailPreference] = await o
    .select()
    .from(s.emailPreferences)
    .where(eq(s.emailPreferences.userId, user('referrer')))
  const [draft] = await o
    .insert(s.referralDrafts)
    .values({ clinicId, userId: user('referrer'), formVersion: 1, content: SEALED })
    .returning()
  const [template] = await o
    .insert(s.referralTemplates)
    .values({ clinicId, userId: user('referrer'), name: `Fixture ${rnd()}`, formVersion: 1, values: { urgency: 'routine' } })
    .returning()
  // A webhook endpoint (disabled: nothing is sent to it) and one delivered delivery.
  const [endpoint] = await o
    .insert(s.webhookEndpoints)
    .values({ clinicId, url: 'https://matrix.example.com/hook', topics: ['referral.created'], secret: SEALED, status: 'disabled' })
    .returning()
  const [delivery] = await o
    .insert(s.webhookDeliveries)
    .values({ clinicId, endpointId: endpoint!.id, topic: 'webhook.test', payload: {}, status: 'delivered' })
    .returning()
  // An EHR integration (revoked: no token of it is ever accepted), with an app id of its own.
  const [integration] = await o
    .insert(s.ehrIntegrations)
    .values({
      clinicId,
      name: 'Matrix EHR',
      idpTenantId: DEMO_TENANT_ID,
      clientId: `matrix-${rnd()}`,
      roles: ['Referral.Read'],
      status: 'revoked',
      revokedAt: new Date(),
    })
    .returning()
  return {
    integration: integration!.id,
    endpoint: endpoint!.id,
    delivery: delivery!.id,
    clinicId,
    staff: user('staff'),
    admin: user('admin'),
    referrer: user('referrer'),
    referrer2: user('referrer2'),
    referral: referral!.id,
    freeReferral: free!.id,
    form: form!.id,
    event: event!.id,
    result: stored!.id,
    audit: logged!.id,
    document: document!.id,
    view: view!.id,
    adminView: adminView!.id,
    profile: profile!.id,
    draft: draft!.id,
    template: template!.id,
    emailPreference: emailPreference!.id,
  }
}

beforeAll(async () => {
  f.northside = await loadClinic('northside')
  f.lakeview = await loadClinic('lakeview')
  const [superadmin] = await db.owner.select().from(s.users).where(eq(s.users.role, 'superadmin'))
  superadminId = superadmin!.id
})

test('the matrix covers every table in schema public', async () => {
  const { rows } = await db.owner.execute(sql`select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`)
  // Besides the clinic-owned tables: the audit chain's bookkeeping, keyed by clinic id as text
  // (catalog.test.ts checks the runtime role cannot touch the heads; checkpoints are read-only),
  // the sessions, which the runtime role reaches only through functions (drizzle/0015), the
  // outbox, which only triggers and the courier's functions touch (drizzle/0024), and email
  // deliveries, written only by the courier's scope (a clinic, no user): their isolation is
  // tested in email-deliveries.test.ts.
  const bookkeeping = ['audit_chain_heads', 'audit_checkpoints', 'email_deliveries', 'outbox_events', 'rate_limits', 'session_refreshes', 'sessions']
  expect(rows.map((r) => r.relname)).toEqual([...TABLES.map((c) => getTableName(c.table)), ...bookkeeping].sort())
})

describe.each(TABLES.map((c) => ({ ...c, name: getTableName(c.table) })))('$name', (c) => {
  const northside = () => sql`${c.owner} = ${f.northside.clinicId}`

  test('has rows in at least two clinics (so every check below has something to find)', async () => {
    const { rows } = await db.owner.execute(sql`select count(distinct ${c.owner})::int as n from ${c.table}`)
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2)
  })

  test('no context (no clinic, user or role) sees nothing', async () => {
    expect(await ownerIds(c.table)).not.toHaveLength(0)
    expect(await tenantIds({}, c.table)).toEqual([])
  })

  if (c.mine)
    test('its user sees exactly their own rows; a colleague, staff and an admin of the clinic none of them', async () => {
      const theirs = () => sql`${northside()} and ${c.mine} = ${f.northside.referrer}`
      await expectExactly(
        () => tenantIds(scope('northside', 'referrer'), c.table),
        () => ownerIds(c.table, theirs()),
      )
      for (const who of ['referrer2', 'staff', 'admin'] as const) expect(await tenantIds(scope('northside', who), c.table, theirs()), who).toEqual([])
    })
  else if (c.adminOnly)
    test("own clinic admins see exactly their clinic's rows; its staff and referrers none", async () => {
      await expectExactly(
        () => tenantIds(scope('northside', 'admin'), c.table),
        () => ownerIds(c.table, northside()),
      )
      for (const who of ['staff', 'referrer'] as const) expect(await tenantIds(scope('northside', who), c.table), who).toEqual([])
    })
  else
    test(c.perUser ? "own clinic staff see exactly their own rows, not a colleague's" : "own clinic staff see exactly their clinic's rows", async () => {
      const theirs = c.perUser ? sql`${northside()} and ${c.perUser.user} = ${f.northside.staff}` : northside()
      await expectExactly(
        () => tenantIds(scope('northside', 'staff'), c.table),
        () => ownerIds(c.table, theirs),
      )
      // A colleague's (the admin's) rows are there, and not among them.
      if (c.perUser) {
        const colleagues = sql`${northside()} and ${c.perUser.user} = ${f.northside.admin}`
        expect(await ownerIds(c.table, colleagues)).not.toHaveLength(0)
        expect(await tenantIds(scope('northside', 'staff'), c.table, colleagues)).toEqual([])
        expect(await tenantIds(scope('northside', 'referrer'), c.table)).toEqual([])
      }
    })

  test.each(['staff', 'admin'] as const)("a stranger clinic's %s sees none of northside's rows", async (who) => {
    expect(await ownerIds(c.table, northside())).not.toHaveLength(0)
    expect(await tenantIds(scope('lakeview', who), c.table, northside())).toEqual([])
  })

  test('a cross-clinic INSERT raises; the same row in the own clinic is accepted', async () => {
    for (const who of ['staff', 'admin'] as const) {
      expect(await sqlState(db.as(scope('lakeview', who)).tenant((tx) => insert(tx, c, c.row(f.northside))))).toBe('42501')
    }
    const inserted = await rolledBack(db.as(scope('lakeview', c.insertAs ?? c.writer)), (tx) => insert(tx, c, c.row(f.lakeview)))
    expect(inserted).toHaveLength(1)
  })

  test('a cross-clinic UPDATE touches nothing, and the owner sees the row unchanged', async () => {
    const id = c.target(f.northside)
    const before = await ownerRow(c.table, id)
    expect(before).toBeDefined()
    for (const who of ['staff', 'admin'] as const) {
      const attempt = db.as(scope('lakeview', who)).tenant((tx) => update(tx, c, id))
      if (c.updatable) expect(await attempt).toHaveLength(0)
      else expect(await sqlState(attempt)).toBe('42501')
    }
    expect(await ownerRow(c.table, id)).toEqual(before)
    // Control: the same UPDATE in the own clinic does reach its row (or is refused by the grant).
    const own = rolledBack(db.as(scope('lakeview', c.writer)), (tx) => update(tx, c, c.target(f.lakeview)))
    if (c.updatable) expect(await own).toHaveLength(1)
    else expect(await sqlState(own)).toBe('42501')
  })

  // Only for tables with an UPDATE grant and a clinic_id column (clinics has neither to move).
  if (c.updatable && c.owner !== idOf(c.table))
    test('an own row cannot be moved into another clinic', async () => {
      const move = { clinicId: f.northside.clinicId }
      const attempt = rolledBack(db.as(scope('lakeview', c.writer)), (tx) => update(tx, c, c.target(f.lakeview), move))
      expect(await sqlState(attempt)).toBe('42501')
    })

  if (c.deletable)
    test("a DELETE of another clinic's or a colleague's row touches nothing; the owner deletes their own", async () => {
      const remove = (who: Member, id: string | number) =>
        db.as(scope('lakeview', who)).tenant((tx) =>
          tx
            .delete(c.table)
            .where(eq(idOf(c.table), id))
            .returning({ one: sql`1` }),
        )
      for (const who of ['referrer', 'staff', 'admin'] as const) expect(await remove(who, c.target(f.northside)), who).toHaveLength(0)
      for (const who of ['referrer2', 'staff', 'admin'] as const) expect(await remove(who, c.target(f.lakeview)), who).toHaveLength(0)
      expect(await ownerRow(c.table, c.target(f.northside))).toBeDefined()
      expect(await ownerRow(c.table, c.target(f.lakeview))).toBeDefined()
      const own = await rolledBack(db.as(scope('lakeview', 'referrer')), (tx) =>
        tx
          .delete(c.table)
          .where(eq(idOf(c.table), c.target(f.lakeview)))
          .returning({ one: sql`1` }),
      )
      expect(own).toHaveLength(1)
    })
  else if (c.perUser)
    test("DELETE reaches only the member's own rows: never another clinic's or a colleague's", async () => {
      for (const [slug, target] of [
        ['northside', f.northside.view],
        ['lakeview', f.lakeview.adminView],
      ] as const) {
        const deleted = await rolledBack(db.as(scope('lakeview', 'staff')), (tx) =>
          tx
            .delete(c.table)
            .where(eq(idOf(c.table), target))
            .returning({ one: sql`1` }),
        )
        expect(deleted, slug).toHaveLength(0)
        expect(await ownerRow(c.table, target)).toBeDefined()
      }
      // Control: the staff member's own row is deleted (and rolled back).
      const own = await rolledBack(db.as(scope('lakeview', 'staff')), (tx) =>
        tx
          .delete(c.table)
          .where(eq(idOf(c.table), f.lakeview.view))
          .returning({ one: sql`1` }),
      )
      expect(own).toHaveLength(1)
    })
  else
    test('DELETE is refused outright (no grant), in any clinic, and the owner still sees the rows', async () => {
      for (const [slug, who] of [
        ['lakeview', 'admin'],
        ['northside', 'admin'],
      ] as const) {
        const attempt = db.as(scope('lakeview', who)).tenant((tx) => tx.delete(c.table).where(eq(idOf(c.table), c.target(f[slug]))))
        expect(await sqlState(attempt)).toBe('42501')
        expect(await ownerRow(c.table, c.target(f[slug]))).toBeDefined()
      }
    })
})

test('audit_logs is append-only even for the owner (triggers)', async () => {
  const id = f.northside.audit
  expect(await sqlState(db.owner.update(s.auditLogs).set({ action: 'tampered' }).where(eq(s.auditLogs.id, id)))).toBe('42501')
  expect(await sqlState(db.owner.delete(s.auditLogs).where(eq(s.auditLogs.id, id)))).toBe('42501')
  expect(await ownerRow(s.auditLogs, id)).toMatchObject({ row: { action: 'test.isolation-fixture' } })
})

describe('a referrer sees only what they submitted', () => {
  const referrer = () => scope('northside', 'referrer')
  const submittedBy = (who: Member) => sql`${s.referrals.submittedBy} = ${f.northside[who]}`

  test('referrals: exactly their own, none of another referrer at the same clinic', async () => {
    await expectExactly(
      () => tenantIds(referrer(), s.referrals),
      () => ownerIds(s.referrals, submittedBy('referrer')),
    )
    const others = await ownerIds(s.referrals, submittedBy('referrer2'))
    expect(others).not.toHaveLength(0)
    expect(await tenantIds(referrer(), s.referrals, submittedBy('referrer2'))).toEqual([])
  })

  test('referral events: only those marked visible_to_referrer, on their own referrals', async () => {
    const mine = sql`referral_id in (select id from referrals where submitted_by = ${f.northside.referrer})`
    const hidden = await ownerIds(s.referralEvents, sql`${mine} and not visible_to_referrer`)
    expect(hidden).not.toHaveLength(0) // there are staff notes on their referrals to hide
    await expectExactly(
      () => tenantIds(referrer(), s.referralEvents),
      () => ownerIds(s.referralEvents, sql`${mine} and visible_to_referrer`),
    )
  })

  test('documents: only those on their own referrals', async () => {
    const mine = sql`referral_id in (select id from referrals where submitted_by = ${f.northside.referrer})`
    expect(await ownerIds(s.referralDocuments, sql`not ${mine} and clinic_id = ${f.northside.clinicId}`)).not.toHaveLength(0)
    await expectExactly(
      () => tenantIds(referrer(), s.referralDocuments),
      () => ownerIds(s.referralDocuments, mine),
    )
  })

  test('documents: a referrer attaches to their own referral only, as themselves, and never removes one', async () => {
    const own = { ...documentRow(f.northside.clinicId, f.northside.referral, f.northside.referrer), attachedWith: 'reply' }
    const asReferrer = db.as(referrer())
    expect(await rolledBack(asReferrer, (tx) => insert(tx, caseOf(s.referralDocuments), own))).toHaveLength(1)
    const [theirs] = await ownerIds(s.referrals, submittedBy('referrer2'))
    expect(await sqlState(asReferrer.tenant((tx) => insert(tx, caseOf(s.referralDocuments), { ...own, referralId: theirs })))).toBe('42501')
    expect(await sqlState(asReferrer.tenant((tx) => insert(tx, caseOf(s.referralDocuments), { ...own, uploadedBy: f.northside.staff })))).toBe('42501')
    expect(await sqlState(asReferrer.tenant((tx) => insert(tx, caseOf(s.referralDocuments), { ...own, attachedWith: 'staff' })))).toBe('42501')
    const removal = { removedAt: new Date(), removedBy: f.northside.referrer, removalReason: SEALED }
    expect(await asReferrer.tenant((tx) => update(tx, caseOf(s.referralDocuments), f.northside.document, removal))).toHaveLength(0)
  })

  test('processing results and the audit trail: nothing at all', async () => {
    expect(await ownerIds(s.processingResults, sql`referral_id = ${f.northside.referral}`)).toHaveLength(1)
    expect(await tenantIds(referrer(), s.processingResults)).toEqual([])
    expect(await ownerIds(s.auditLogs, sql`clinic_id = ${f.northside.clinicId}`)).not.toHaveLength(0)
    expect(await tenantIds(referrer(), s.auditLogs)).toEqual([])
  })

  test("cannot submit a referral in someone else's name", async () => {
    const row = (who: Member) => ({ ...caseOf(s.referrals).row(f.northside), submittedBy: f.northside[who] })
    const asReferrer = db.as(referrer())
    expect(await sqlState(asReferrer.tenant((tx) => tx.insert(s.referrals).values(row('referrer2') as never)))).toBe('42501')
    expect(
      await rolledBack(asReferrer, (tx) =>
        tx
          .insert(s.referrals)
          .values(row('referrer') as never)
          .returning(),
      ),
    ).toHaveLength(1)
  })

  test('cannot change a referral another referrer submitted', async () => {
    const [theirs] = await ownerIds(s.referrals, submittedBy('referrer2'))
    const before = await ownerRow(s.referrals, theirs!)
    const touched = await db.as(referrer()).tenant((tx) => update(tx, caseOf(s.referrals), theirs!, { priority: 'emergent' }))
    expect(touched).toHaveLength(0)
    expect(await ownerRow(s.referrals, theirs!)).toEqual(before)
  })
})

/**
 * Escalations an attacker would try next. Each probe runs rolled back; each must be refused
 * (an error) or touch nothing.
 */
describe('no escalation through the users table or foreign keys', () => {
  const selfUpdate = (set: Record<string, unknown>) => rolledBack(db.as(scope('lakeview', 'staff')), (tx) => update(tx, caseOf(s.users), f.lakeview.staff, set))

  // Only admins update users; a staff member's update of their own row touches nothing.
  test('a user cannot move themselves into another clinic', async () => {
    const outcome = await selfUpdate({ clinicId: f.northside.clinicId }).then(
      (rows) => rows,
      (error) => error,
    )
    expect(outcome instanceof Error || (Array.isArray(outcome) && outcome.length === 0)).toBe(true)
  })

  test('a user cannot make themselves superadmin', async () => {
    const outcome = await selfUpdate({ clinicId: null, role: 'superadmin' }).then(
      (rows) => rows,
      (error) => error,
    )
    expect(outcome instanceof Error || (Array.isArray(outcome) && outcome.length === 0)).toBe(true)
  })

  test('an admin cannot make a user superadmin', async () => {
    const promote = rolledBack(db.as(scope('lakeview', 'admin')), (tx) => update(tx, caseOf(s.users), f.lakeview.staff, { role: 'superadmin' }))
    expect(await sqlState(promote)).not.toBe('no error')
  })

  // users_invite checks the clinic but not the role being granted.
  test('a clinic admin cannot invite a superadmin', async () => {
    const row = { ...caseOf(s.users).row(f.lakeview), role: 'superadmin' }
    const invite = rolledBack(db.as(scope('lakeview', 'admin')), (tx) => insert(tx, caseOf(s.users), row))
    expect(await sqlState(invite)).not.toBe('no error')
  })

  // Foreign keys are single-column and are checked without RLS, so a row may point across clinics.
  test("a row cannot point at another clinic's referral", async () => {
    const row = { clinicId: f.lakeview.clinicId, referralId: f.northside.referral, type: 'note' }
    const attach = rolledBack(db.as(scope('lakeview', 'staff')), (tx) => insert(tx, caseOf(s.referralEvents), row))
    expect(await sqlState(attach)).not.toBe('no error')
  })
})
