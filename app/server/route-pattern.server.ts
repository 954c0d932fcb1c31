/**
 * Which routes a URL matches: their pattern ("/referrals/:id") for logs, since the pattern,
 * unlike the path, carries no ids and no query string; and what the matched route modules
 * declare (an action, a body limit), for the pipeline's method and body checks.
 */
import { matchRoutes, type AgnosticRouteObject } from '@remix-run/router'
import type { ServerBuild } from '@remix-run/cloudflare'
import type { RequestBodyPolicy } from './request-body.server'

type Tree = AgnosticRouteObject & { id: string; path?: string; children?: Tree[] }

export type RouteMatch = {
  /** "/referrals/:id", or "unmatched". */
  pattern: string
  /** Some matched route can take a POST (has an action). */
  hasAction: boolean
  /** The deepest matched route's declared body limit, if any (`handle.requestBody`). */
  bodyPolicy: RequestBodyPolicy | undefined
}

export function createRouteMatcher(build: ServerBuild) {
  const byParent = new Map<string | undefined, Tree[]>()
  for (const route of Object.values(build.routes)) {
    if (!route) continue
    const node = { id: route.id, path: route.path, index: route.index, caseSensitive: route.caseSensitive } as Tree
    const siblings = byParent.get(route.parentId) ?? []
    siblings.push(node)
    byParent.set(route.parentId, siblings)
  }
  const attach = (nodes: Tree[]): Tree[] => nodes.map((node) => (node.index ? node : { ...node, children: attach(byParent.get(node.id) ?? []) }))
  const tree = attach(byParent.get(undefined) ?? [])

  // matchRoutes flattens, ranks and compiles every route's pattern on each call (~0.5 ms of CPU):
  // the answer for a path is kept instead. Ids are the only part of the app's paths that vary
  // from one request to the next, and no static segment is a UUID, so the key is the path with
  // its UUIDs stood in for; the cache is bounded, so unknown paths cannot grow it.
  const known = new Map<string, RouteMatch>()
  return (pathname: string): RouteMatch => {
    const key = pathname.replace(UUID_SEGMENT, '/:uuid')
    let found = known.get(key)
    if (!found) {
      found = matchPath(pathname)
      if (known.size >= MAX_KNOWN_PATHS) known.delete(known.keys().next().value!)
      known.set(key, found)
    }
    return found
  }

  function matchPath(pathname: string): RouteMatch {
    const matches = matchRoutes(tree, pathname)
    if (!matches) return { pattern: 'unmatched', hasAction: false, bodyPolicy: undefined }
    const pattern = matches
      .map((m) => m.route.path)
      .filter(Boolean)
      .join('/')
      .replace(/\/+/g, '/')
    const modules = matches.map((m) => build.routes[m.route.id]?.module)
    const declared = modules.map((module) => (module?.handle as { requestBody?: RequestBodyPolicy } | undefined)?.requestBody).filter(Boolean)
    return {
      pattern: `/${pattern}`.replace(/\/+/g, '/'),
      hasAction: modules.some((module) => typeof module?.action === 'function'),
      bodyPolicy: declared.at(-1),
    }
  }
}

const UUID_SEGMENT = /\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi
const MAX_KNOWN_PATHS = 512

/** The page a single-fetch data request (`/queue.data`, `/_root.data`) is for. */
export const pagePathOf = (pathname: string) => (pathname === '/_root.data' ? '/' : pathname.replace(/\.data$/, ''))
