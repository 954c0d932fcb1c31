/**
 * What every /fhir/R4 route module uses: the same caller as /api/v1 (the pipeline verified the
 * bearer token and refused superadmins; requireApiUser narrows it), its server description, and
 * a wrapper that makes every answer FHIR: a thrown guard's Response becomes an OperationOutcome
 * with its status, an unexpected error a 500 OperationOutcome that carries only the request id.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { requireApiUser } from '~/api/handler.server'
import { isProduction } from '~/utils/env.server'
import { logError } from '~/utils/log.server'
import { asOperationOutcome, fhirError, fhirResponse, invalidParameters } from './outcome.server'
import type { FhirServer, Resource } from './resources'
import { readProblems } from './search'

type Args = { request: Request; context: AppLoadContext; params: Record<string, string | undefined> }

export function fhirRoute<A extends Args>(fn: (args: A) => Promise<Response | Resource>) {
  return async (args: A): Promise<Response> => {
    try {
      const answer = await fn(args)
      return answer instanceof Response ? answer : fhirResponse(answer)
    } catch (thrown) {
      if (thrown instanceof Response) return asOperationOutcome(thrown, args.context.requestId)
      // The pipeline answers 503 for the database being away (failures.server.ts).
      args.context.noteFailure(thrown)
      logError(args.context.requestId, thrown, 'fhir', { verbose: !isProduction(args.context.env) })
      return fhirError(500, `Internal error (request ${args.context.requestId})`)
    }
  }
}

/** The caller, their clinic, and the server as their clinic sees it (the base of references and identifier systems). */
export function requireFhirCaller(context: AppLoadContext, request: Request) {
  const user = requireApiUser(context)
  if (!context.clinic) throw fhirError(403)
  const server: FhirServer = { origin: fhirOrigin(context, request), clinic: { id: context.clinic.id, name: context.clinic.name } }
  return { user, server }
}

/** The server's public origin: the base of every reference. */
export const fhirOrigin = (context: AppLoadContext, request: Request) => (context.env.APP_ORIGIN ?? new URL(request.url).origin).replace(/\/$/, '')

/** A read takes no search parameters: one that came is refused rather than ignored. */
export function requireReadParams(request: Request) {
  const problems = readProblems(new URL(request.url).searchParams)
  if (problems.length) throw invalidParameters(problems)
}

/** Bodies the FHIR writes take; the pipeline has already refused one over its size limit (413). */
const JSON_TYPES = /^application\/(fhir\+json|json)\s*(;|$)/i
export const JSON_PATCH = /^application\/json-patch\+json\s*(;|$)/i

/** A resource posted or put as FHIR JSON (415 for another type, 400 for what does not parse, naming nothing it sent). */
export async function readFhirBody(request: Request, types: RegExp[] = [JSON_TYPES]): Promise<unknown> {
  const type = request.headers.get('Content-Type') ?? ''
  if (!types.some((t) => t.test(type))) throw fhirError(415, 'The body must be application/fhir+json')
  try {
    return JSON.parse(await request.text()) as unknown
  } catch {
    throw fhirError(400, 'The body is not valid JSON')
  }
}

/** A resource read here but never written (only Task, Communication and the base's transaction take writes): 405 with what it takes. */
export const readOnly = () =>
  fhirError(405, 'This resource is read-only here: GET /fhir/R4/metadata lists the interactions', { headers: { Allow: 'GET, HEAD' } })
