/**
 * db.tenant(fn): the ONLY way request code reaches the database (decision 005), apart from the
 * request's first statement (request_start, app/tenancy/request-start.server.ts).
 *
 * One transaction on the request's one connection: first the tenant context, transaction-local
 * (is_local = true) so that it cannot leak to the next user of a pooled connection; then
 * fn(tx); then commit. Row-level security policies read these settings.
 *
 * `begin` and the settings go to the server as one simple-protocol message, one round trip
 * instead of two (decision 014). The simple protocol takes no bound parameters, so the three values
 * are checked against their only possible shapes (a UUID, a role name, or nothing) before they
 * are written into the statement; anything else is refused before it reaches the server.
 */
import { sql } from 'drizzle-orm'
import { drizzleOnConnection, type Database } from '~/db/client.server'
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
      try {
        const tx = drizzleOnConnection(db, client)
        // No parameters: node-postgres sends it as one simple-protocol message (both statements).
        await tx.execute(sql.raw(begin))
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
          await client.query('rollback')
          settled = true
          throw error
        }
        settled = true
        return result
      } finally {
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
