import {
  vitePlugin as remix,
  cloudflareDevProxyVitePlugin as remixCloudflareDevProxy,
} from '@remix-run/dev'
import tailwindcss from '@tailwindcss/vite'
import { defineConfig, type Plugin, type ViteDevServer } from 'vite'
import tsconfigPaths from 'vite-tsconfig-paths'
import { remixConfig } from './remix.config'
import type { Env } from './app/server/env.server'
import type * as LoadContextModule from './app/server/load-context.server'

/**
 * `npm run dev`: loaders run in Node (only `npm start` proves workerd). The load context is
 * built as the Pages pipeline builds it; the bindings come from the environment that
 * scripts/start.ts --dev sets (the same values it passes to wrangler in `npm start`).
 */
const BINDINGS = [
  'APP_ENV', 'APP_ORIGIN', 'DATABASE_URL', 'DATABASE_WS_PROXY', 'SESSION_SECRETS', 'PHI_KEYRING', 'PHI_BLIND_INDEX_KEY',
  'OIDC_AUTHORITY', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ALLOWED_TENANTS', 'API_AUDIENCE',
] as const

// The load context module is loaded through Vite (for the ~/ paths and the same module graph).
let devServer: ViteDevServer | undefined
const captureDevServer: Plugin = { name: 'intakepilot:dev-server', configureServer: (server) => void (devServer = server) }

export default defineConfig({
  plugins: [
    captureDevServer,
    remixCloudflareDevProxy({
      async getLoadContext({ request, context }) {
        const { createLoadContext } = (await devServer!.ssrLoadModule('/app/server/load-context.server.ts')) as typeof LoadContextModule
        const env = { ...(context.cloudflare.env as object) } as Env
        for (const key of BINDINGS) if (process.env[key]) (env as unknown as Record<string, string>)[key] = process.env[key]!
        const { context: loadContext } = await createLoadContext({ request, env, waitUntil: (p) => context.cloudflare.ctx.waitUntil(p) })
        return loadContext
      },
    }),
    remix(remixConfig),
    tailwindcss(),
    tsconfigPaths(),
  ],
  server: { host: '127.0.0.1' },
  ssr: { resolve: { conditions: ['workerd', 'worker', 'browser'] } },
})
