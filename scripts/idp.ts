/**
 * `npm run idp`: the local identity provider on its own (IDP_PORT, default 55434), registered with
 * the same web client as `npm start`, until Ctrl-C. For working on sign-in without the whole stack.
 */
import { localConfig, localIdentityProviderOptions } from './lib/config'
import { DEMO_PASSWORD } from './lib/demo-accounts'
import { startIdentityProvider } from './lib/idp'
import { loadOrCreateSecrets } from './lib/secrets'

const config = localConfig(process.env)
const secrets = loadOrCreateSecrets(config.dataDir)

const idp = await startIdentityProvider(localIdentityProviderOptions(config, secrets))
console.log(`[idp] OpenID provider (stands in for Entra ID) at ${idp.issuer}`)
console.log(`[idp] discovery: ${idp.issuer}/.well-known/openid-configuration`)
console.log(`[idp] every demo account's password is "${DEMO_PASSWORD}"; \`npm run token -- <email>\` prints an access token`)
console.log('[idp] Ctrl-C stops it.')

const stop = () => void idp.close().finally(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
