/**
 * `npm run token -- <email>`: signs a demo account in at the running local identity provider (the
 * real authorization-code + PKCE flow, headless) and prints only its access token, for curl:
 *   curl -H "Authorization: Bearer $(npm run -s token -- staff@northside.test)" ...
 *
 * `npm run token -- --client <id> [--secret <secret>]`: an EHR system's app-only token (the
 * client-credentials grant; docs/decisions/058-ehr-integrations-app-only-tokens.md). A demo app
 * (northside-ehr, lakeview-ehr) needs no secret; its integration must be registered on the
 * clinic's integrations page (the seed registers northside-ehr with Northside).
 */
import { DEMO_ACCOUNTS, DEMO_APPS, DEMO_TENANT_ID, findDemoAccount, findDemoApp } from './lib/demo-accounts'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getAppToken, getTokensFor, IdpUnreachableError } from './lib/idp-login'

const args = process.argv.slice(2)
const port = Number(process.env.IDP_PORT ?? 55434)
const issuer = `http://127.0.0.1:${port}/${DEMO_TENANT_ID}/v2.0`

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

const USAGE =
  'Usage: npm run token -- <email>   (e.g. npm run token -- staff@northside.test)\n       npm run token -- --client <id> [--secret <secret>]   (e.g. npm run token -- --client northside-ehr)'

function option(name: string) {
  const at = args.indexOf(name)
  if (at === -1) return undefined
  const value = args[at + 1]
  if (!value || value.startsWith('-')) fail(`${name} needs a value\n${USAGE}`)
  return value
}

async function userToken(email: string) {
  if (!findDemoAccount(email)) fail(`${email} is not a demo account. Known accounts:\n${DEMO_ACCOUNTS.map((a) => `  ${a.email}`).join('\n')}`)
  return (await getTokensFor({ issuer, email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })).access_token
}

async function appToken(clientId: string) {
  const clientSecret = option('--secret') ?? findDemoApp(clientId)?.clientSecret
  if (!clientSecret) fail(`${clientId} is not a demo app: give its --secret. Demo apps:\n${DEMO_APPS.map((a) => `  ${a.clientId}`).join('\n')}`)
  return (await getAppToken({ issuer, clientId, clientSecret })).access_token
}

const clientId = option('--client')
const email = args[0]
if (!clientId && (!email || email.startsWith('-'))) fail(USAGE)

try {
  process.stdout.write(`${clientId ? await appToken(clientId) : await userToken(email!)}\n`)
} catch (error) {
  if (error instanceof IdpUnreachableError) {
    fail(`The local identity provider is not running on 127.0.0.1:${port}: start IntakePilot with \`npm start\` first`)
  }
  fail(`Could not get a token for ${clientId ?? email}: ${(error as Error).message}`)
}
