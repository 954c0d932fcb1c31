import {
  vitePlugin as remix,
  cloudflareDevProxyVitePlugin as remixCloudflareDevProxy,
} from '@remix-run/dev'
import tailwindcss from '@tailwindcss/vite'
import { defineConfig } from 'vite'
import tsconfigPaths from 'vite-tsconfig-paths'
import { remixConfig } from './remix.config'

export default defineConfig({
  plugins: [remixCloudflareDevProxy(), remix(remixConfig), tailwindcss(), tsconfigPaths()],
  server: { host: '127.0.0.1' },
  ssr: { resolve: { conditions: ['workerd', 'worker', 'browser'] } },
})
