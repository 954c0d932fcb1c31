/**
 * The route pattern a URL matched ("/referrals/:id"), for logs: the pattern, unlike the
 * path, carries no ids and no query string.
 */
import { matchRoutes, type AgnosticRouteObject } from '@remix-run/router'
import type { ServerBuild } from '@remix-run/cloudflare'

type Tree = AgnosticRouteObject & { id: string; path?: string; children?: Tree[] }

export function createRoutePatternMatcher(build: ServerBuild) {
  const byParent = new Map<string | undefined, Tree[]>()
  for (const route of Object.values(build.routes)) {
    if (!route) continue
    const node = { id: route.id, path: route.path, index: route.index, caseSensitive: route.caseSensitive } as Tree
    const siblings = byParent.get(route.parentId) ?? []
    siblings.push(node)
    byParent.set(route.parentId, siblings)
  }
  const attach = (nodes: Tree[]): Tree[] =>
    nodes.map((node) => (node.index ? node : { ...node, children: attach(byParent.get(node.id) ?? []) }))
  const tree = attach(byParent.get(undefined) ?? [])

  return (pathname: string) => {
    const matches = matchRoutes(tree, pathname)
    if (!matches) return 'unmatched'
    const pattern = matches
      .map((m) => m.route.path)
      .filter(Boolean)
      .join('/')
      .replace(/\/+/g, '/')
    return `/${pattern}`.replace(/\/+/g, '/')
  }
}
