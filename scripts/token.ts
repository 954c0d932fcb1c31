/**
 * `npm run token -- <email>`: signs a demo account in at the running local identity provider (the
 * real authorization-code + PKCE flow, headless) and prints only its access token, for curl:
 *   curl -H "Authorization: Bearer $(npm run -s token -- staff@northside.test)" ...
 */
import { DEMO_ACCOUNTS, DEMO_TENANT_ID, findDemoAccount } from './lib/demo-accounts'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getTokensFor, IdpUnreachableError } from './lib/idp-login'

const email = process.argv[2]
const port = Number(process.env.IDP_PORT ?? 55434)

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

if (!email || email.startsWith('-')) fail('Usage: npm run token -- <email>   (e.g. npm run token -- staff@northside.test)')
if (!findDemoAccount(email)) {
  fail(`${email} is not a demo account. Known accounts:\n${DEMO_ACCOUNTS.map((a) => `  ${a.email}`).join('\n')}`)
}

try {
  const tokens = await getTokensFor({
    issuer: `http://127.0.0.1:${port}/${DEMO_TENANT_ID}/v2.0`,
    email,
    clientId: CLI_CLIENT_ID,
    redirectUri: CLI_REDIRECT_URI,
  })
  process.stdout.write(`${tokens.access_token}\n`)
} catch (error) {
  if (error instanceof IdpUnreachableError) {
    fail(`The local identity provider is not running on 127.0.0.1:${port}: start IntakePilot with \`npm start\` first`)
  }
  fail(`Could not get a token for ${email}: ${(error as Error).message}`)
}
