/** Ports and folders of the local stack; every one can be changed by environment variable. */
import { resolve } from 'node:path'

export type LocalConfig = ReturnType<typeof localConfig>

export function localConfig(env: NodeJS.ProcessEnv = process.env) {
  const appPort = Number(env.APP_PORT ?? 8788)
  const idpPort = Number(env.IDP_PORT ?? 55434)
  return {
    appPort,
    pgPort: Number(env.PG_PORT ?? 55432),
    relayPort: Number(env.RELAY_PORT ?? 55433),
    idpPort,
    dataDir: resolve(env.DATA_DIR ?? '.data'),
    appOrigin: `http://127.0.0.1:${appPort}`,
    /** Access-token lifetime at the local provider (tests shorten it). */
    accessTokenTtlSeconds: Number(env.IDP_ACCESS_TOKEN_TTL ?? 900),
    apiAudience: env.API_AUDIENCE ?? 'api://intakepilot',
    webClientId: 'intakepilot-web',
  }
}
