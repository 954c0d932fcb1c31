import { vitePlugin as remix } from '@remix-run/dev'
import { fromNodeRequest, toNodeRequest } from '@remix-run/dev/dist/vite/node-adapter.js'
import type { ServerBuild } from '@remix-run/cloudflare'
import tailwindcss from '@tailwindcss/vite'
import { defineConfig, type Plugin } from 'vite'
import tsconfigPaths from 'vite-tsconfig-paths'
import { remixConfig } from './remix.config'
import type { Env } from './app/utils/env.server'
import type * as PipelineModule from './app/server/pipeline.server'

/**
 * `npm run dev`: loaders run in Node (only `npm start` proves workerd), but every request
 * goes through the same pipeline as the Pages Function (functions/[[path]].ts): identity,
 * rate limit, the API's JSON errors and CORS, security headers, the request log. The bindings
 * are wrangler.toml's vars overlaid with the environment that scripts/start.ts --dev sets
 * (the same values it passes to wrangler in `npm start`).
 */
const BINDINGS = [
  'APP_ENV',
  'APP_ORIGIN',
  'DATABASE_URL',
  'DATABASE_WS_PROXY',
  'SESSION_SECRETS',
  'PHI_KEYRING',
  'PHI_BLIND_INDEX_KEY',
  'OIDC_AUTHORITY',
  'OIDC_CLIENT_ID',
  'OIDC_CLIENT_SECRET',
  'OIDC_ALLOWED_TENANTS',
  'API_AUDIENCE',
  'CORS_ORIGINS',
  'REQUEST_DEADLINE_MS',
  'REQUEST_BODY_TIMEOUT_MS',
] as const

/** In place of Remix's Cloudflare dev proxy, which calls Remix directly and so skips the pipeline. */
const devPipeline: Plugin = {
  name: 'intakepilot:dev-pipeline',
  config: () => ({ ssr: { resolve: { externalConditions: ['workerd', 'worker'] } } }),
  async configureServer(server) {
    const { getPlatformProxy } = await import('wrangler')
    const { env: vars, ctx } = await getPlatformProxy<Record<string, unknown>>()
    const env = { ...vars } as unknown as Env
    for (const key of BINDINGS) if (process.env[key]) (env as unknown as Record<string, string>)[key] = process.env[key]!
    // Returned: runs after Vite's own middleware, so modules and assets are still Vite's.
    return () => {
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the handler catches everything and hands it to next()
      server.middlewares.use(async (nodeRequest, nodeResponse, next) => {
        try {
          // Loaded through Vite per request (the ~/ paths, the same module graph, hot updates).
          const build = (await server.ssrLoadModule('virtual:remix/server-build')) as ServerBuild
          const { createRequestPipeline } = (await server.ssrLoadModule('/app/server/pipeline.server.ts')) as typeof PipelineModule
          const request = fromNodeRequest(nodeRequest, nodeResponse) as PipelineModule.PipelineContext['request']
          const response = await createRequestPipeline(build, 'development')({ request, env, waitUntil: (p) => ctx.waitUntil(p) })
          await toNodeRequest(response, nodeResponse)
        } catch (error) {
          next(error)
        }
      })
    }
  },
}

export default defineConfig({
  plugins: [devPipeline, remix(remixConfig), tailwindcss(), tsconfigPaths()],
  // No Vite CORS: it would answer /api preflights itself; the pipeline's allow-list decides (as in workerd).
  server: { host: '127.0.0.1', cors: false },
  ssr: { resolve: { conditions: ['workerd', 'worker', 'browser'] } },
})
