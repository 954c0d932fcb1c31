import { defineConfig } from '@playwright/test'

/**
 * End-to-end tests in Debian's Chromium against the BUILT app in real workerd
 * (scripts/app-server.ts), with a throwaway embedded PostgreSQL, the Neon relay and the
 * local OpenID provider: `npm run test:e2e` builds first, then this starts the stack.
 */
// E2E_PORT_OFFSET lets two runs share a machine (each gets its own stack).
const offset = Number(process.env.E2E_PORT_OFFSET ?? 0)
export const E2E = {
  appPort: 8799 + offset,
  pgPort: 55442 + offset * 10,
  relayPort: 55443 + offset * 10,
  idpPort: 55444 + offset * 10,
  /** Short access tokens, so the refresh path runs in the tests (and is tested on purpose). */
  accessTokenTtlSeconds: 20,
  /** A live socket's age before its renewal through the app (tests/e2e/live-queue.spec.ts). */
  liveSocketMaxAgeSeconds: 45,
  /** The one browser origin the API allows in the tests (tests/e2e/api.spec.ts). */
  corsOrigin: 'https://ehr.example.test',
}
export const APP_URL = `http://127.0.0.1:${E2E.appPort}`
export const IDP_URL = `http://127.0.0.1:${E2E.idpPort}`

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: true,
  workers: 2,
  // One retry in CI only (docs/decisions/055-one-retry-in-ci.md): a test that passes on it is
  // reported as flaky, and a real failure fails twice.
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  timeout: 60_000,
  // The fuzz suite runs alone after the others: it checks that refused requests write nothing
  // by comparing whole tables, and it resets rate limits (tests/e2e/fuzz.spec.ts).
  // Run it by itself with `npx playwright test --project=fuzz --no-deps`.
  // The documents tests count and search the R2 blobs on disk and find their referral as a shared
  // referrer's newest: they run after the others, one at a time, so nobody else's upload or
  // referral lands in between. The clinic settings tests change Northside's time zone for a moment, and
  // every other test that reads a Northside time expects Toronto's: they run there too.
  projects: [
    { name: 'e2e', testIgnore: [/fuzz\.spec\.ts$/, /documents\.spec\.ts$/, /clinic-settings\.spec\.ts$/] },
    { name: 'storage', testMatch: [/documents\.spec\.ts$/, /clinic-settings\.spec\.ts$/], dependencies: ['e2e'], fullyParallel: false, workers: 1 },
    { name: 'fuzz', testMatch: /fuzz\.spec\.ts$/, dependencies: ['storage'], fullyParallel: false },
  ],
  use: {
    baseURL: APP_URL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: 'npx tsx scripts/start.ts --ephemeral --no-build',
    url: `${APP_URL}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env: {
      APP_PORT: String(E2E.appPort),
      PG_PORT: String(E2E.pgPort),
      RELAY_PORT: String(E2E.relayPort),
      IDP_PORT: String(E2E.idpPort),
      IDP_ACCESS_TOKEN_TTL: String(E2E.accessTokenTtlSeconds),
      CORS_ORIGINS: E2E.corsOrigin,
      // Live sockets are renewed after this long instead of 10 minutes: live-queue.spec.ts sees one.
      LIVE_SOCKET_MAX_AGE_SECONDS: String(E2E.liveSocketMaxAgeSeconds),
    },
  },
})
