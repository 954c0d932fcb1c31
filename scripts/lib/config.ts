/** Ports and folders of the local stack; every one can be changed by environment variable. */
import { resolve } from 'node:path'

export type LocalConfig = ReturnType<typeof localConfig>

export function localConfig(env: NodeJS.ProcessEnv = process.env) {
  const appPort = Number(env.APP_PORT ?? 8788)
  const idpPort = Number(env.IDP_PORT ?? 55434)
  const pgPort = Number(env.PG_PORT ?? 55432)
  return {
    appPort,
    pgPort,
    relayPort: Number(env.RELAY_PORT ?? 55433),
    idpPort,
    /** PgBouncer, when installed (scripts/lib/pgbouncer.ts): next to the others, PostgreSQL's + 3 unless set. */
    pgbouncerPort: Number(env.PGBOUNCER_PORT ?? pgPort + 3),
    /** The local mail catcher (scripts/lib/mail-catcher.ts): its SMTP port and its page, PostgreSQL's + 5 and + 6 unless set. */
    smtpPort: Number(env.SMTP_CATCHER_PORT ?? pgPort + 5),
    mailPagePort: Number(env.MAIL_PAGE_PORT ?? pgPort + 6),
    dataDir: resolve(env.DATA_DIR ?? '.data'),
    appOrigin: `http://127.0.0.1:${appPort}`,
    /** Access-token lifetime at the local provider (tests shorten it). */
    accessTokenTtlSeconds: Number(env.IDP_ACCESS_TOKEN_TTL ?? 900),
    apiAudience: env.API_AUDIENCE ?? 'api://intakepilot',
    webClientId: 'intakepilot-web',
  }
}

/** The local provider as the app is registered with it (used by `npm start` and `npm run idp`). */
export function localIdentityProviderOptions(config: LocalConfig, secrets: { oidcClientSecret: string }) {
  return {
    port: config.idpPort,
    apiAudience: config.apiAudience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    jwksPath: `${config.dataDir}/idp-jwks.json`,
    clients: [
      {
        clientId: config.webClientId,
        clientSecret: secrets.oidcClientSecret,
        redirectUris: [`${config.appOrigin}/auth/callback`],
        postLogoutRedirectUris: [`${config.appOrigin}/login`],
      },
    ],
  }
}
