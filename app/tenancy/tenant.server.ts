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
import { sql, type Logger, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { PoolClient } from '@neondatabase/serverless'
import { drizzleOnConnection, statementLogger, type Database } from '~/db/client.server'
import { inlineParameters } from './sql-literals.server'
import { actorRoles, type ActorRole } from '~/db/enums'

export type TenantScope = {
  clinicId: string | null
  userId: string | null
  /** A person's role, or 'integration' for an EHR integration's app-only token (decision 058). */
  role: ActorRole | null
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
      // What is logged is what runs, in order: the settings, then the statements (the bench replays them).
      const logger = statementLogger(db)
      logger?.logQuery(begin, [])
      const started = beginWithFirstStatement(client, begin, logger)
      try {
        const tx = drizzleOnConnection(db, client)
        const withCommit: CommitStatement[] = []
        riders.set(tx, withCommit)
        firstMessages.set(tx, started)
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

/**
 * Runs `first` (whose first statement opens the transaction) with `alongside` sent in the same
 * message, before it: two independent reads for one round trip. `alongside`'s rows come back as
 * plain objects named by its column aliases (no Drizzle mapping). When the transaction is
 * already open, or either statement's values cannot be written out as literals, the two are
 * sent one after the other instead.
 */
export async function readAlongside<T, Row extends Record<string, unknown>>(tx: TenantTx, alongside: SQL, first: () => Promise<T>): Promise<[T, Row[]]> {
  const started = firstMessages.get(tx)
  const query = dialect.sqlToQuery(alongside)
  const rider = started?.ride(query.sql, query.params)
  const result = await first()
  const rows = rider ? await rider() : ((await tx.execute(alongside)).rows as Row[])
  return [result, rows as Row[]]
}

/**
 * A Drizzle write sent with this transaction's commit (sendWithCommit), its values written out as
 * literals; sent at once instead when they cannot be (inlineParameters) or `tx` is not a
 * db.tenant transaction. Only for a write nothing in the transaction reads back.
 */
export async function writeWithCommit(tx: TenantTx, query: { toSQL(): { sql: string; params: unknown[] } } & PromiseLike<unknown>): Promise<void> {
  const { sql: text, params } = query.toSQL()
  const writable = inlineParameters(text, params, (value) => value) !== null
  if (writable && sendWithCommit(tx, (literal) => inlineParameters(text, params, literal)!)) return
  await query
}

/** A statement written out with its values as literals (escaped by the driver), sent with the commit. */
export type CommitStatement = (literal: (value: string) => string) => string
/**
 * What rides with a transaction's first message and with its commit, by transaction. Kept in one
 * registry per isolate (Symbol.for), not per module: the Pages Function's bundle (the pipeline,
 * which opens transactions) and the Remix server build (the routes, which add riders) each carry
 * their own copy of this module, and a module-level map would not be the same map in both.
 */
type Registry = { riders: WeakMap<TenantTx, CommitStatement[]>; firstMessages: WeakMap<TenantTx, ReturnType<typeof beginWithFirstStatement>> }
const registryKey = Symbol.for('intakepilot.tenant-transactions')
const registry = ((globalThis as Record<symbol, unknown>)[registryKey] ??= { riders: new WeakMap(), firstMessages: new WeakMap() }) as Registry
const { riders, firstMessages } = registry
const dialect = new PgDialect()

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
  const role = literal(scope.role, (v) => (actorRoles as readonly string[]).includes(v), 'role')
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
function beginWithFirstStatement(client: PoolClient, begin: string, logger?: Logger) {
  const call = client.query.bind(client) as (config: unknown, values?: unknown[]) => Promise<unknown>
  const restore = () => void delete (client as Partial<Pick<PoolClient, 'query'>>).query
  const literal = (v: string) => client.escapeLiteral(v)
  let sent = false
  // Reads that go in the same message, before the first statement (readAlongside).
  const alongside: { text: string; params: unknown[]; settle: (result: unknown, error?: unknown) => void; done: Promise<unknown> }[] = []
  const first = async (config: string | QueryConfig, values?: unknown[]): Promise<unknown> => {
    restore()
    sent = true
    const query: QueryConfig = typeof config === 'string' ? { text: config } : config
    const inlined = query.name ? null : inlineParameters(query.text, values ?? query.values ?? [], literal)
    const riders = alongside.map((r) => inlineParameters(r.text, r.params, literal))
    if (inlined === null || riders.some((r) => r === null)) {
      await call(begin)
      for (const r of alongside)
        await call({ text: r.text, values: r.params }).then(
          (result) => r.settle(result),
          (error) => r.settle(null, error),
        )
      return call(config, values)
    }
    // Several statements in one simple-protocol message answer with one result each: the last is the caller's.
    let results: unknown
    try {
      results = await call({ ...query, values: undefined, text: [begin, ...riders, inlined].join(';\n') })
    } catch (error) {
      for (const r of alongside) r.settle(null, error)
      throw error
    }
    const list = Array.isArray(results) ? (results as unknown[]) : [results]
    alongside.forEach((r, i) => r.settle(list[list.length - 1 - alongside.length + i]))
    return list.at(-1)
  }
  // An own property over the prototype's method, for this transaction's first statement only.
  client.query = first as unknown as Query
  return {
    sent: () => sent,
    send: (text: string) => call(text),
    restore,
    /** Queues a read for the first statement's message; null once that has gone (send it on its own). */
    ride(text: string, params: unknown[]): (() => Promise<Record<string, unknown>[]>) | null {
      if (sent) return null
      logger?.logQuery(text, params)
      let settle!: (result: unknown, error?: unknown) => void
      const done = new Promise<unknown>(
        (resolve, reject) =>
          (settle = (result, error) => (error === undefined ? resolve(result) : reject(error instanceof Error ? error : new Error(String(error))))),
      )
      // Settled with the first statement, which may fail before anyone awaits this one.
      done.catch(() => {})
      const entry = { text, params, settle, done }
      alongside.push(entry)
      return async () => {
        // The first statement never went: this read goes on its own (and opens the transaction).
        if (!sent) {
          alongside.splice(alongside.indexOf(entry), 1)
          return rowsOf(await (client.query as unknown as (c: unknown) => Promise<unknown>)({ text, values: params }))
        }
        return rowsOf(await done)
      }
    },
  }
}

/** A result's rows as objects, whether the message's statement asked for arrays (Drizzle's selects) or not. */
function rowsOf(result: unknown): Record<string, unknown>[] {
  const { rows, fields } = result as { rows: unknown[]; fields: { name: string }[] }
  return rows.map((row) => (Array.isArray(row) ? Object.fromEntries(fields.map((f, i) => [f.name, row[i]])) : (row as Record<string, unknown>)))
}
