/**
 * What the catalog says about tenancy (decision 005), read from pg_catalog as the superuser so that
 * nothing is hidden from the query. The isolation matrix proves behaviour for the tables we know
 * of; these checks catch the table, grant or role attribute nobody wrote a test for.
 */
import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, test } from 'vitest'
import { inject } from 'vitest'
import { connectDatabase } from '../../app/db/client.server'

const config = inject('database')
const superuser = connectDatabase({ url: config.superuserUrl, wsProxy: config.wsProxy })
afterAll(() => superuser.end())

const APP = 'intakepilot_app'
const rows = async <T>(query: ReturnType<typeof sql>) => (await superuser.db.execute(query)).rows as T[]

/** Ordinary and partitioned tables in schema public (drizzle's bookkeeping lives in schema "drizzle"). */
const PUBLIC_TABLES = sql`select c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p')`

describe('row-level security on every table', () => {
  test('the catalog sees the tables (so an empty list cannot pass the checks below)', async () => {
    const tables = await rows<{ relname: string }>(PUBLIC_TABLES)
    expect(tables.map((t) => t.relname)).toEqual(expect.arrayContaining(['clinics', 'users', 'referrals', 'audit_logs']))
  })

  test('every public table has RLS enabled AND forced', async () => {
    const weak = await rows<{ relname: string }>(sql`select relname from (${PUBLIC_TABLES}) t
      where not (relrowsecurity and relforcerowsecurity) order by 1`)
    expect(weak).toEqual([])
  })

  test('every table with a clinic_id column has RLS forced and an index that leads with clinic_id', async () => {
    const tenantTables = await rows<{ relname: string; forced: boolean; leading_index: string | null }>(sql`
      select t.relname, t.relrowsecurity and t.relforcerowsecurity as forced,
        (select min(ic.relname) from pg_index i join pg_class ic on ic.oid = i.indexrelid
          where i.indrelid = t.oid and i.indisvalid and i.indkey[0] = a.attnum) as leading_index
      from (${PUBLIC_TABLES}) t
      join pg_attribute a on a.attrelid = t.oid and a.attname = 'clinic_id' and not a.attisdropped
      order by 1`)
    // The tables we know of must be found; a new one joins this list by itself.
    expect(tenantTables.map((t) => t.relname)).toEqual(
      expect.arrayContaining([
        'audit_logs',
        'ehr_integrations',
        'intake_forms',
        'processing_results',
        'referral_documents',
        'referral_events',
        'referrals',
        'saved_queue_views',
        'users',
        'webhook_deliveries',
        'webhook_endpoints',
      ]),
    )
    for (const table of tenantTables) {
      expect(table, table.relname).toMatchObject({ forced: true, leading_index: expect.any(String) })
    }
  })

  test('every reference to an EHR integration includes clinic_id, so no row names another clinic’s (drizzle/0035, 0038)', async () => {
    const references = await rows<{ conname: string; with_clinic: boolean }>(sql`
      select c.conname, (select a.attnum from pg_attribute a where a.attrelid = c.conrelid and a.attname = 'clinic_id') = any (c.conkey) as with_clinic
      from pg_constraint c where c.contype = 'f' and c.confrelid = 'public.ehr_integrations'::regclass order by 1`)
    // The references we know of must be found; a new one joins this list by itself.
    expect(references.map((r) => r.conname)).toEqual(
      expect.arrayContaining(['referral_documents_uploaded_by_integration_fk', 'referrals_submitted_by_integration_fk']),
    )
    for (const reference of references) expect(reference, reference.conname).toMatchObject({ with_clinic: true })
  })

  test('every RLS table has at least one policy for the runtime role (else the check above is vacuous)', async () => {
    const bare = await rows<{ relname: string }>(sql`select relname from (${PUBLIC_TABLES}) t
      where not exists (select 1 from pg_policy p where p.polrelid = t.oid
        and (p.polroles = '{0}' or (select oid from pg_roles where rolname = ${APP}) = any (p.polroles))) order by 1`)
    expect(bare).toEqual(OWNER_ONLY_TABLES.map((relname) => ({ relname })))
  })

  test('every policy reads the tenant settings through a sub-select: once per statement, not once per row (drizzle/0020)', async () => {
    const policies = await rows<{ policy: string; expr: string }>(sql`select c.relname || '.' || p.polname as policy,
        coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as expr
      from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`)
    // Control: the policies do read the settings (else the check below is vacuous).
    expect(policies.filter((p) => p.expr.includes('current_setting(')).length).toBeGreaterThan(10)
    const bare = policies.filter((p) => (p.expr.match(/current_setting\(/g) ?? []).length !== (p.expr.match(/\(\s*SELECT current_setting\(/g) ?? []).length)
    expect(bare.map((p) => `${p.policy}: ${p.expr}`)).toEqual([])
  })

  test('owner-only tables (the audit chain heads) grant the runtime role nothing at all', async () => {
    for (const table of OWNER_ONLY_TABLES) {
      const [grants] = await rows(sql`select has_table_privilege(${APP}, ${table}, 'select, insert, update, delete, truncate') as any`)
      expect(grants).toEqual({ any: false })
    }
  })
})

/** A user's own work, which they discard: saved queue views (drizzle/0021), drafts and templates (drizzle/0022). */
const DELETABLE = ['referral_drafts', 'referral_templates', 'saved_queue_views']

/** Bookkeeping only the owner touches (through triggers and reviewed functions: the audit chain, the outbox). */
const OWNER_ONLY_TABLES = ['audit_chain_heads', 'outbox_events', 'rate_limits', 'session_refreshes', 'sessions']

describe('the runtime role', () => {
  test('is not a superuser, cannot bypass RLS, create roles or databases', async () => {
    const [role] = await rows(sql`select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin
      from pg_roles where rolname = ${APP}`)
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true })
  })

  test('is a member of no role (it could SET ROLE to the owner, or inherit BYPASSRLS)', async () => {
    const memberships = await rows(sql`select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid
      where m.member = (select oid from pg_roles where rolname = ${APP})`)
    expect(memberships).toEqual([])
    const [owner] = await rows<{ member: boolean }>(sql`select pg_has_role(${APP}, 'intakepilot_owner', 'MEMBER') as member`)
    expect(owner!.member).toBe(false)
  })

  test('owns nothing in public: no table, sequence, view or function, nor the schema', async () => {
    // Control: the owner role does own the tables, so the query looks in the right place.
    const ownedBy = (role: string) =>
      rows(sql`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relowner = (select oid from pg_roles where rolname = ${role})
      union all
      select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proowner = (select oid from pg_roles where rolname = ${role})
      union all
      select nspname from pg_namespace where nspname = 'public' and nspowner = (select oid from pg_roles where rolname = ${role})`)
    expect(await ownedBy(APP)).toEqual([])
    expect((await ownedBy('intakepilot_owner')).length).toBeGreaterThan(0)
  })

  test('cannot create in schema public, create schemas, or reach drizzle bookkeeping', async () => {
    const [can] = await rows(sql`select
      has_schema_privilege(${APP}, 'public', 'CREATE') as create_in_public,
      has_schema_privilege(${APP}, 'public', 'USAGE') as use_public,
      has_database_privilege(${APP}, current_database(), 'CREATE') as create_schema,
      has_schema_privilege(${APP}, 'drizzle', 'USAGE') as use_drizzle`)
    expect(can).toEqual({ create_in_public: false, use_public: true, create_schema: false, use_drizzle: false })
  })

  test('has no DELETE or TRUNCATE on any table but the reviewed ones, and no UPDATE on audit_logs', async () => {
    const grants = await rows<{ relname: string; privilege: string }>(sql`
      select t.relname, p.privilege from (${PUBLIC_TABLES}) t
        cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(privilege)
        where has_table_privilege(${APP}, t.oid, p.privilege) order by 1, 2`)
    const has = (table: string, privilege: string) => grants.some((g) => g.relname === table && g.privilege === privilege)
    // Control: the probe does see the grants the app needs.
    expect(has('referrals', 'SELECT') && has('referrals', 'UPDATE') && has('audit_logs', 'INSERT')).toBe(true)
    const dangerous = grants.filter((g) => ['DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'].includes(g.privilege))
    expect(dangerous.filter((g) => !(g.privilege === 'DELETE' && DELETABLE.includes(g.relname)))).toEqual([])
    // Those rows are their user's alone (RLS on user_id: tenant-isolation.test.ts); the deletes are there.
    expect(dangerous.map((g) => g.relname).sort()).toEqual([...DELETABLE].sort())
    expect(has('audit_logs', 'UPDATE')).toBe(false)
  })

  test('has no column-level UPDATE on audit_logs either (has_table_privilege does not see those)', async () => {
    const [any] = await rows<{ update: boolean }>(sql`select has_any_column_privilege(${APP}, 'public.audit_logs', 'UPDATE') as update`)
    expect(any!.update).toBe(false)
  })
})

describe('nothing in public runs with the owner rights unreviewed', () => {
  // A SECURITY DEFINER function or a view without security_invoker executes as its owner, who
  // bypasses RLS. Each one is reviewed and listed here; a new one fails until it is.
  const REVIEWED_DEFINERS = [
    'sign_in_user', // drizzle/0002_sign_in.sql: maps a verified identity to a provisioned user
    'find_open_duplicate', // drizzle/0003_duplicate_check.sql: an open referral's id by blind index, own clinic only
    'audit_logs_chain', // drizzle/0005_audit_chain_triggers.sql: numbers and hashes each audit row; owner-only chain heads
    'rate_limit_hit', // drizzle/0007_rate_limits.sql: counts one hit for a key in the owner-only rate_limits table
    'session_refresh_claim', // drizzle/0009_session_refreshes.sql: lock + sealed result of one refresh-token use
    'session_refresh_store', // drizzle/0009_session_refreshes.sql: keeps that sealed result two minutes
    'request_start', // drizzle/0012_request_start.sql, drizzle/0015: the caller's own user row (by user + live session id, or verified token; binds nothing), their clinic's name/slug/settings, and one rate_limit_hit
    'session_start', // drizzle/0015_server_sessions.sql: a session row for an active user, at most 12 hours
    'session_end', // drizzle/0015_server_sessions.sql: ends the caller's own session (app.user_id) only
    'users_end_sessions', // drizzle/0015_server_sessions.sql: trigger; a role or status change ends that user's sessions
    'user_ai_endpoint_set', // drizzle/0015_server_sessions.sql: the caller's own ai_endpoint column, nothing else
    'referral_reply_received', // drizzle/0021_queue_replies_and_saved_views.sql: trigger; marks the reply's own referral, that column only
    'audit_list_views', // drizzle/0013_audit_list_views.sql: ids of the caller's own clinic's list views that showed a referral (staff/admin only)
    'forward_targets', // drizzle/0023_forwarding.sql: name and id of the other clinics that accept forwards (active staff/admin of a clinic only)
    'forward_target_form', // drizzle/0023_forwarding.sql: an accepting clinic's current published form definition (no patient data), same callers
    'forward_referral', // drizzle/0023_forwarding.sql, drizzle/0025: the hand-off; every argument checked, both sides written from the rows (documents too), no dynamic SQL
    'outbox_from_referral_event', // drizzle/0024_outbox.sql: trigger; an event's ids and states (known keys only) into the owner-only outbox
    'outbox_from_referral_document', // drizzle/0024_outbox.sql: trigger; a document's ids into the outbox, never its name
    'claim_outbox_events', // drizzle/0024_outbox.sql: the courier leases pending events (outbox columns only: no PHI), limits checked
    'settle_outbox_event', // drizzle/0024_outbox.sql: the courier marks one event done, or backs it off and gives up after 24 hours
    'claim_email_deliveries', // drizzle/0026_email_notifications.sql: the courier leases due email deliveries (ids and clinics only), limits checked
    'claim_webhook_deliveries', // drizzle/0027_webhooks.sql: the courier leases due deliveries of active endpoints (ids and clinic only), limits checked
    'cancel_own_referral', // drizzle/0033_sender_cancels.sql: the sender's cancel of their own referral (active referrer, own clinic, version, workflow's statuses, sealed reason), that status event only
    'outbox_from_endpoint_disabled', // drizzle/0032_endpoint_disabled_email.sql: trigger; an endpoint the courier disabled, its id only, into the outbox
    'integration_start', // drizzle/0034_ehr_integrations.sql: the ACTIVE integration of a verified app token's (tid, client id), its clinic's name/slug/settings, and one rate_limit_hit
    'integration_may', // drizzle/0034_ehr_integrations.sql: true only when the transaction's actor is an active integration of its clinic holding the app role
    'referrals_integration_sender', // drizzle/0035_integration_referrals.sql: trigger; a referral's sending integration's name from its own clinic's registration, and neither ever changes
  ]

  test('SECURITY DEFINER functions: only the reviewed ones, each with a pinned search_path and no PUBLIC execute', async () => {
    const definers = await rows<{ proname: string; config: string[] | null; public_exec: boolean }>(sql`
      select p.proname, p.proconfig as config,
        exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
          where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public_exec
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.prosecdef order by 1`)
    expect(definers.map((d) => d.proname)).toEqual([...REVIEWED_DEFINERS].sort())
    for (const d of definers) {
      // Without a fixed search_path the caller could shadow users/referrals with its own objects.
      expect(d.config ?? [], d.proname).toEqual(expect.arrayContaining([expect.stringMatching(/^search_path=/)]))
      expect(d.public_exec, d.proname).toBe(false)
    }
  })

  test('no view without security_invoker', async () => {
    const views = await rows(sql`select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('v', 'm')
        and not coalesce('security_invoker=true' = any (c.reloptions), false)`)
    expect(views).toEqual([])
  })
})
