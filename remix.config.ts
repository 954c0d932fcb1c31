import type { VitePluginConfig } from '@remix-run/dev'

// The Remix configuration: future flags and route conventions, in one place.
// vite.config.ts passes it to the Remix plugin; app/routes.ts reads the conventions.
declare module '@remix-run/cloudflare' {
  interface Future {
    v3_singleFetch: true
  }
}

/** Flat file routes under app/routes; tests and server-only helpers are never routes. */
export const routeConventions = {
  rootDirectory: 'routes',
  ignoredRouteFiles: ['**/.*', '**/*.test.{ts,tsx}', '**/*.server.{ts,tsx}', '**/__*.*'],
}

export const remixConfig = {
  appDirectory: 'app',
  buildDirectory: 'build',
  serverModuleFormat: 'esm',
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_singleFetch: true,
    v3_lazyRouteDiscovery: true,
    v3_routeConfig: true,
  },
} satisfies VitePluginConfig

export default remixConfig
