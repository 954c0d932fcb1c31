/**
 * The API's request and response schemas (zod). Routes validate with them and the OpenAPI
 * document (api.v1.openapi[.]json.ts) is generated from them, so the two cannot drift.
 */
import { z } from 'zod'
import { auditOutcomes, referralPriorities, referralStatuses, userRoles } from '~/db/schema'
import { QueueViewSchema } from '~/referrals/queue'
import { ALL_REASON_CODES, type ReasonCode } from '~/referrals/reason-codes'
import { calendarDay, clockTime, hasNul, INT32_MAX, NEAR_DAY, NUL_MESSAGE } from '~/utils/form-values'

/** Versions are PostgreSQL `integer`s: a larger one is a bad request, not a database error. */
const Version = z.number().int().min(1).max(INT32_MAX)

export const ErrorSchema = z.object({
  error: z.string(),
  details: z.unknown(),
  code: z.enum([
    'VALIDATION_ERROR',
    'UNAUTHENTICATED',
    'FORBIDDEN',
    'NOT_FOUND',
    'METHOD_NOT_ALLOWED',
    'CONFLICT',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'RATE_LIMITED',
    'INTERNAL',
    'UNAVAILABLE',
  ]),
})

export const envelope = <T extends z.ZodType>(data: T) =>
  z.object({
    data,
    pagination: z.object({ next: z.string().nullable(), limit: z.number().int() }).nullable(),
    metadata: z.object({ requestId: z.string() }),
  })

export const MeSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(userRoles),
  clinicId: z.uuid(),
  permissions: z.array(z.string()),
})

export const IntakeFormSchema = z.object({
  version: z.number().int(),
  publishedAt: z.string().nullable(),
  fields: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      section: z.string(),
      type: z.enum(['text', 'textarea', 'date', 'select', 'checkbox', 'phone', 'email', 'number']),
      required: z.boolean(),
      phi: z.boolean(),
      options: z.array(z.string()).optional(),
    }),
  ),
})

/** The queue's own filters (app/referrals/queue.ts), minus the PHI search (pages post it). */
export const ReferralListQuery = QueueViewSchema

export const ReferralSummarySchema = z.object({
  id: z.uuid(),
  referenceNumber: z.string(),
  status: z.enum(referralStatuses),
  priority: z.enum(referralPriorities),
  formVersion: z.number().int(),
  receivedAt: z.string(),
  assignedTo: z.uuid().nullable(),
  /** Null for a referral forwarded from another clinic (its referrer has no account here), or sent by an EHR system. */
  submittedBy: z.uuid().nullable(),
  /** The EHR system that sent it over FHIR, by its registration's id and name (docs/decisions/061-referrals-from-ehr-integrations.md). */
  submittedByIntegration: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  possibleDuplicate: z.boolean(),
  patient: z.object({ firstName: z.string().nullable(), lastName: z.string().nullable(), dob: z.string().nullable() }),
})

export const ReferralSchema = ReferralSummarySchema.omit({ patient: true }).extend({
  version: z.number().int(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
})

export const CreateReferralBody = z.object({
  formVersion: Version,
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
})

export const UpdateReferralBody = z
  .object({
    version: Version,
    status: z.enum(referralStatuses).optional(),
    /** Required when declining or cancelling: the referrer sees it. */
    reason: z
      .string()
      .trim()
      .max(2000)
      .refine((v) => !hasNul(v), NUL_MESSAGE)
      .optional(),
    /**
     * With a decline or a cancel: the kind of reason, one of that move's codes
     * (app/referrals/reason-codes.ts). Optional; without it the dashboard counts "Not given".
     */
    reasonCode: z.enum(Object.keys(ALL_REASON_CODES) as [ReasonCode, ...ReasonCode[]]).optional(),
    /** Required when scheduling: the appointment day, YYYY-MM-DD. */
    scheduledFor: calendarDay('Appointment date', NEAR_DAY).optional(),
    /** With scheduledFor: the appointment's time on the clinic's clock, HH:MM (24-hour). */
    scheduledTime: clockTime('Appointment time').optional(),
    assignedTo: z.uuid().nullable().optional(),
  })
  .refine((b) => (b.status === undefined) !== (b.assignedTo === undefined), {
    message: 'Send exactly one of status or assignedTo',
    path: ['status'],
  })

export const EventSchema = z.object({
  id: z.uuid(),
  type: z.enum(['status', 'note', 'assignment', 'message', 'reply', 'created']),
  createdAt: z.string(),
  actorId: z.uuid().nullable(),
  visibleToReferrer: z.boolean(),
  data: z.record(z.string(), z.unknown()).nullable(),
  body: z.string().nullable(),
})

export const CreateEventBody = z.object({
  type: z.enum(['note', 'message', 'reply']),
  body: z
    .string()
    .trim()
    .min(1, 'Write something first')
    .max(4000, 'Keep it under 4,000 characters')
    .refine((body) => !hasNul(body), `The text ${NUL_MESSAGE}`),
})

export const AuditLogSchema = z.object({
  id: z.string(),
  seq: z.number().nullable(),
  occurredAt: z.string(),
  actorId: z.uuid().nullable(),
  actorRole: z.string().nullable(),
  action: z.string(),
  entityType: z.string().nullable(),
  entityId: z.string().nullable(),
  outcome: z.enum(auditOutcomes),
  requestId: z.string().nullable(),
})

/** A referral's document, as GET /referrals/{id}/documents lists it (the file itself is GET .../{documentId}). */
export const DocumentSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  contentType: z.enum(['application/pdf', 'image/jpeg', 'image/png', 'image/tiff', 'text/plain']),
  sizeBytes: z.number().int(),
  createdAt: z.string(),
  attachedWith: z
    .enum(['referral', 'reply', 'staff', 'forward'])
    .describe('With the referral, a reply, by staff, or forwarded from another clinic with the referral'),
  uploadedBy: z
    .uuid()
    .nullable()
    .describe(
      "Who attached it: a user's id, or the EHR integration's for a file an EHR system sent with its referral; null for a file forwarded from another clinic",
    ),
})
