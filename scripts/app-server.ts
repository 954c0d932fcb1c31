/**
 * The app server of the local stack, as a process of its own (`npm start` watches it and
 * restarts it; the tests and benches stop it by its process group):
 *
 *   tsx scripts/app-server.ts --port 8787 [--host 127.0.0.1] [--persist-to DIR] [--inspector-port N]
 *                             [--bundle-dir DIR --sourcemap]
 *
 * --bundle-dir keeps the bundled Worker in DIR (otherwise a temp folder, removed at exit) and
 * --sourcemap writes its source map there: `npm run bench -- --profile` reads both.
 *
 * Bindings come as JSON in INTAKEPILOT_APP_BINDINGS (secrets stay out of the process list).
 * scripts/lib/app-server.ts says what it runs and why not `wrangler pages dev`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startAppServer } from './lib/app-server'

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'persist-to': { type: 'string', default: '.wrangler/state' },
    'inspector-port': { type: 'string' },
    'bundle-dir': { type: 'string' },
    sourcemap: { type: 'boolean', default: false },
  },
})
if (!values.port) throw new Error('--port is required')
const keptBundle = values['bundle-dir']
const outDir = keptBundle ?? mkdtempSync(join(tmpdir(), 'intakepilot-worker-'))
const bindings = JSON.parse(process.env.INTAKEPILOT_APP_BINDINGS ?? '{}') as Record<string, string>

const server = await startAppServer({
  cwd: process.cwd(),
  host: values.host!,
  port: Number(values.port),
  bindings,
  persistTo: values['persist-to']!,
  inspectorPort: values['inspector-port'] ? Number(values['inspector-port']) : undefined,
  outDir,
  sourcemap: values.sourcemap,
})
console.log(`[app] workerd ready on ${server.url.origin}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await server.dispose().catch(() => {})
  if (!keptBundle) rmSync(outDir, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
