/**
 * The JavaScript a page makes the browser load, gzipped, from the build's manifest.
 *
 * Vite's .vite/manifest.json is deleted by the Remix plugin after the build unless the Vite config
 * asks to keep it (it does not), so this reads Remix's own manifest
 * (build/client/assets/manifest-<hash>.js, `window.__remixManifest = {...}`), which lists for the
 * entry and for every route its module and the chunks it imports. A page loads the entry and
 * every route on its match path (root -> routes/_app -> the page); the manifest file itself only
 * when the page references it (with v3_lazyRouteDiscovery the server inlines the part it needs).
 * `fromHtml` cross-checks with the <script>/<link rel="modulepreload"> tags the server rendered.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { resetRateLimits } from './measure'
import type { PgClient } from './pg'
import { getPage } from './requests'

type ManifestEntry = { module: string; imports?: string[]; css?: string[]; parentId?: string }
type RemixManifest = { entry: ManifestEntry; routes: Record<string, ManifestEntry & { id: string }> }

export type PageJs = { route: string; files: { file: string; bytes: number; gzip: number }[]; bytes: number; gzip: number }

export function readRemixManifest(clientDir: string): { manifest: RemixManifest; file: string } {
  const assets = join(clientDir, 'assets')
  const file = readdirSync(assets).find((f) => /^manifest-[\w-]+\.js$/.test(f))
  if (!file) throw new Error('no Remix manifest (build/client/assets/manifest-*.js) in the build')
  const text = readFileSync(join(assets, file), 'utf8')
  const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)
  return { manifest: JSON.parse(json) as RemixManifest, file: `/assets/${file}` }
}

export function pageJavaScript(clientDir: string, routeId: string, options: { includeManifest: boolean }): PageJs {
  const { manifest, file: manifestFile } = readRemixManifest(clientDir)
  const chain: string[] = []
  for (let id: string | undefined = routeId; id; id = manifest.routes[id]?.parentId) {
    if (!manifest.routes[id]) throw new Error(`route ${id} is not in the manifest`)
    chain.unshift(id)
  }
  const files = new Set<string>([...(options.includeManifest ? [manifestFile] : []), manifest.entry.module, ...(manifest.entry.imports ?? [])])
  for (const id of chain) {
    const route = manifest.routes[id]!
    files.add(route.module)
    for (const f of route.imports ?? []) files.add(f)
  }
  return measure(clientDir, routeId, [...files])
}

/** The same measure over what a rendered page actually references. */
export function fromHtml(clientDir: string, label: string, html: string): PageJs {
  const files = new Set<string>()
  for (const m of html.matchAll(/<(?:script|link)[^>]+(?:src|href)="(\/assets\/[^"]+\.js)"/g)) files.add(m[1]!)
  for (const m of html.matchAll(/import\s*(?:[\w{}*\s,]+from\s*)?["'](\/assets\/[^"']+\.js)["']/g)) files.add(m[1]!)
  return measure(clientDir, label, [...files])
}

function measure(clientDir: string, route: string, files: string[]): PageJs {
  const measured = files.sort().map((file) => {
    const content = readFileSync(join(clientDir, file))
    return { file, bytes: content.byteLength, gzip: gzipSync(content, { level: 9 }).byteLength }
  })
  return {
    route,
    files: measured,
    bytes: measured.reduce((n, f) => n + f.bytes, 0),
    gzip: measured.reduce((n, f) => n + f.gzip, 0),
  }
}

/** The JavaScript of the referral form, the queue and a referral, as the app serves them now. */
export async function clientJavaScript(o: {
  appDir: string
  appOrigin: string
  admin: PgClient
  queuePage: string
  referrerCookie: string
  staffCookie: string
  referralId: string
}) {
  const clientDir = join(o.appDir, 'build', 'client')
  await resetRateLimits(o.admin) // the baselines counted against the same users
  const newForm = await getPage(o.appOrigin, '/referrals/new', o.referrerCookie)
  const referralPage = await getPage(o.appOrigin, `/referrals/${o.referralId}`, o.staffCookie)
  const { file: manifestFile } = readRemixManifest(clientDir)
  const clientJs: Record<string, PageJs & { fromHtml?: PageJs }> = {}
  for (const [route, label, html] of [
    ['routes/_app.referrals.new', 'GET /referrals/new', newForm],
    ['routes/_app.queue', 'GET /queue', o.queuePage],
    ['routes/_app.referrals.$id', 'GET /referrals/:id', referralPage],
  ] as const) {
    const rendered = fromHtml(clientDir, label, html)
    // With lazy route discovery the page inlines the part of the manifest it needs (and names
    // the file's url in it without loading it): count the file only if the page loads it.
    clientJs[route] = { ...pageJavaScript(clientDir, route, { includeManifest: rendered.files.some((f) => f.file === manifestFile) }), fromHtml: rendered }
  }
  return clientJs
}
