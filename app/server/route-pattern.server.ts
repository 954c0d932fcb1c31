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

  return (pathname: string): RouteMatch => {
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

/** The page a single-fetch data request (`/queue.data`, `/_root.data`) is for. */
export const pagePathOf = (pathname: string) => (pathname === '/_root.data' ? '/' : pathname.replace(/\.data$/, ''))
