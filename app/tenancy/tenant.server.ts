/**
 * db.tenant(fn): the ONLY way request code reaches the database (decision 005), apart from the
 * request's first statement (request_start, app/tenancy/request-start.server.ts).
 *
 * One transaction on the request's one connection: first the tenant context, transaction-local
 * (is_local = true) so that it cannot leak to the next user of a pooled connection; then
 * fn(tx); then commit. Row-level security policies read these settings.
 *
 * `begin` and the settings go to the server as one simple-protocol message (decision 014), and
 * that message also carries the transaction's first statement, with its values written out as
 * literals (sql-literals.server.ts): the transaction's first read costs no round trip of its own
 * for `begin` (decision 029). The simple protocol takes no bound parameters, so the three settings
 * are checked against their only possible shapes (a UUID, a role name, or nothing) before they
 * are written into the statement; anything else is refused before it reaches the server.
 */
import { sql } from 'drizzle-orm'
import type { PoolClient } from '@neondatabase/serverless'
import { drizzleOnConnection, statementLogger, type Database } from '~/db/client.server'
import { inlineParameters } from './sql-literals.server'
import { userRoles, type UserRole } from '~/db/enums'

export type TenantScope = {
  clinicId: string | null
  userId: string | null
  role: UserRole | null
}

export const NO_SCOPE: TenantScope = { clinicId: null, userId: null, role: null }

/** What fn works with: Drizzle on the transaction's connection (no nested transactions). */
export type TenantTx = Omit<Database, 'transaction' | 'batch' | '$client'>

export type TenantDatabase = {
  readonly scope: TenantScope
  tenant<T>(fn: (tx: TenantTx) => Promise<T>): Promise<T>
  /** The same connection, another scope: sign-in (before a user is known) and clinic switch. */
  withScope(scope: TenantScope): TenantDatabase
}

/**
 * @param deadline the request's: once it has aborted, no transaction starts and none commits
 *   (the pipeline has answered 503; docs/decisions/019-body-limits-and-deadlines.md).
 */
export function createTenantDatabase(db: Database, scope: TenantScope, deadline?: AbortSignal): TenantDatabase {
  let begin: string | undefined
  return {
    scope,
    tenant: async (fn) => {
      begin ??= beginStatement(scope)
      deadline?.throwIfAborted()
      const client = await db.$client.connect()
      // A connection whose transaction state is unknown is thrown away, never reused.
      let settled = false
      const started = beginWithFirstStatement(client, begin)
      // What is logged is what runs, in order: the settings, then the statements (the bench replays them).
      statementLogger(db)?.logQuery(begin, [])
      try {
        const tx = drizzleOnConnection(db, client)
        const withCommit: CommitStatement[] = []
        riders.set(tx, withCommit)
        let result: Awaited<ReturnType<typeof fn>>
        try {
          result = await fn(tx)
          riders.delete(tx)
          deadline?.throwIfAborted()
          // What rode along goes with the commit: one message, one round trip.
          const literal = (value: string) => client.escapeLiteral(value)
          await tx.execute(sql.raw([...withCommit.map((statement) => statement(literal)), 'commit'].join(';\n')))
        } catch (error) {
          riders.delete(tx)
          // Nothing reached the server: there is no transaction to roll back.
          if (started.sent()) await started.send('rollback')
          settled = true
          throw error
        }
        settled = true
        return result
      } finally {
        started.restore()
        client.release(settled ? undefined : true)
      }
    },
    withScope: (next) => createTenantDatabase(db, next, deadline),
  }
}

/** A statement written out with its values as literals (escaped by the driver), sent with the commit. */
export type CommitStatement = (literal: (value: string) => string) => string
const riders = new WeakMap<TenantTx, CommitStatement[]>()

/**
 * Sends `statement` with this transaction's commit instead of on its own: a write nothing in the
 * transaction reads back (the audit row of a read) costs no round trip of its own. If the
 * transaction fails, it is not written, as if it had been sent at once. Returns false when `tx`
 * is not a db.tenant transaction (the caller then sends it itself).
 */
export function sendWithCommit(tx: TenantTx, statement: CommitStatement): boolean {
  const list = riders.get(tx)
  if (!list) return false
  list.push(statement)
  return true
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** `begin` plus the three settings, as one statement text; refuses any value of another shape. */
export function beginStatement(scope: TenantScope): string {
  const literal = (value: string | null, valid: (v: string) => boolean, name: string) => {
    if (value === null) return "''"
    if (!valid(value)) throw new Error(`tenant scope: ${name} is malformed`)
    return `'${value}'`
  }
  const clinic = literal(scope.clinicId, (v) => UUID.test(v), 'clinicId')
  const user = literal(scope.userId, (v) => UUID.test(v), 'userId')
  const role = literal(scope.role, (v) => (userRoles as readonly string[]).includes(v), 'role')
  return `begin; select set_config('app.clinic_id', ${clinic}, true), set_config('app.user_id', ${user}, true), set_config('app.role', ${role}, true)`
}

type Query = PoolClient['query']
type QueryConfig = { text: string; values?: unknown[]; name?: string; rowMode?: string; types?: unknown }

/**
 * Until the transaction's first statement, `begin` waits: the first query on the connection is
 * sent as `begin; set_config…; <the statement with its values as literals>`, one message, and
 * answers with that statement's result. A statement whose values cannot be written out as literals
 * (sql-literals.server.ts says which) sends `begin` on its own first, as before.
 */
function beginWithFirstStatement(client: PoolClient, begin: string) {
  const call = client.query.bind(client) as (config: unknown, values?: unknown[]) => Promise<unknown>
  const restore = () => void delete (client as Partial<Pick<PoolClient, 'query'>>).query
  let sent = false
  const first = async (config: string | QueryConfig, values?: unknown[]): Promise<unknown> => {
    restore()
    sent = true
    const query: QueryConfig = typeof config === 'string' ? { text: config } : config
    const inlined = query.name ? null : inlineParameters(query.text, values ?? query.values ?? [], (v) => client.escapeLiteral(v))
    if (inlined === null) {
      await call(begin)
      return call(config, values)
    }
    // Several statements in one simple-protocol message answer with one result each: the last is the caller's.
    const results = await call({ ...query, values: undefined, text: `${begin};\n${inlined}` })
    return Array.isArray(results) ? (results.at(-1) as unknown) : results
  }
  // An own property over the prototype's method, for this transaction's first statement only.
  client.query = first as unknown as Query
  return { sent: () => sent, send: (text: string) => call(text), restore }
}
