/**
 * GET /api/v1/openapi.json: OpenAPI 3.1, generated from the zod schemas the routes validate
 * with (app/api/schemas.ts), so the document cannot drift from the code.
 */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { z } from 'zod'
import * as S from '~/api/schemas'

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' })
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: json(schema, 'input') } } })
const success = (schema: z.ZodType, status = '200') => ({
  [status]: { description: 'Success', content: { 'application/json': { schema: json(S.envelope(schema)) } } },
})
const errors = Object.fromEntries(
  ['400', '401', '403', '404', '409', '413', '415', '429', '500', '503'].map((s) => [s, { $ref: '#/components/responses/Error' }]),
)
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }
const query = (schema: z.ZodObject) => Object.keys(schema.shape).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }))

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'IntakePilot API', version: '1' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      responses: { Error: { description: 'An error', content: { 'application/json': { schema: json(S.ErrorSchema) } } } },
    },
    paths: {
      '/me': { get: { responses: { ...success(S.MeSchema), ...errors } } },
      '/intake-form': { get: { responses: { ...success(S.IntakeFormSchema), ...errors } } },
      '/referrals': {
        get: { parameters: query(S.ReferralListQuery), responses: { ...success(z.array(S.ReferralSummarySchema)), ...errors } },
        post: {
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: true, schema: { type: 'string', format: 'uuid' } }],
          requestBody: body(S.CreateReferralBody),
          responses: { ...success(z.object({ id: z.uuid(), referenceNumber: z.string() }), '201'), ...errors },
        },
      },
      '/referrals/{id}': {
        get: { parameters: [id], responses: { ...success(S.ReferralSchema), ...errors } },
        patch: {
          parameters: [id],
          requestBody: body(S.UpdateReferralBody),
          responses: { ...success(z.object({ id: z.uuid(), updated: z.boolean() })), ...errors },
        },
      },
      '/referrals/{id}/events': {
        get: { parameters: [id], responses: { ...success(z.array(S.EventSchema)), ...errors } },
        post: {
          parameters: [id],
          requestBody: body(S.CreateEventBody),
          responses: { ...success(z.object({ id: z.uuid(), type: z.string() }), '201'), ...errors },
        },
      },
      '/referrals/{id}/documents': {
        get: { parameters: [id], responses: { ...success(z.array(S.DocumentSchema)), ...errors } },
        post: {
          parameters: [id],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['documents'],
                  properties: {
                    documents: {
                      type: 'array',
                      items: { type: 'string', format: 'binary' },
                      description: 'PDF, JPEG, PNG, TIFF or plain text, recognised by their bytes; 10 MB a file, 50 MB a referral (a clinic may set less)',
                    },
                    message: { type: 'string', maxLength: 5000, description: 'A referrer attaches with a reply to the clinic: required for them' },
                  },
                },
              },
            },
          },
          responses: { ...success(z.object({ attached: z.number().int() }), '201'), ...errors },
        },
      },
      '/referrals/{id}/documents/{documentId}': {
        get: {
          parameters: [id, { name: 'documentId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            '200': {
              description: 'The file, streamed, with its recognised Content-Type',
              content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
            },
            ...errors,
          },
        },
      },
      '/audit-logs': { get: { responses: { ...success(z.array(S.AuditLogSchema)), ...errors } } },
    },
  }
}

export const loader = async (_: LoaderFunctionArgs) => Response.json(openApiDocument())
