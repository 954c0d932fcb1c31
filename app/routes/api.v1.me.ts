/** GET /api/v1/me: who the bearer token maps to, and what they may do. */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { apiRoute, ok, requireApiUser } from '~/api/handler.server'
import { permissionsOf } from '~/auth/permissions'

export const loader = apiRoute(async ({ context }: LoaderFunctionArgs) => {
  const user = requireApiUser(context)
  return ok({ ...user, permissions: permissionsOf(user) }, { requestId: context.requestId })
})
