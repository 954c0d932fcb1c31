/**
 * A Task update (PUT of the whole Task, or a JSON Patch of it) read as one of the page's status
 * moves (docs/decisions/056-fhir-writes.md). Pure: app/fhir/task-update.test.ts.
 *
 * - `status` says where the referral goes (the WORKFLOW table read backwards); the workflow
 *   itself (app/referrals/workflow.ts) is the server's to apply, as for the page.
 * - `statusReason.text` is a decline's reason (the referrer reads it), a coding of the server's
 *   reason system its category; `executionPeriod.start` an appointment's date and time.
 * - `businessStatus` follows `status`: it may be sent as read, or as the move's, nothing else.
 * - Nothing else of the Task is the client's to change: a field that differs is refused, named.
 */
import type { ReferralStatus } from '~/db/enums'
import { formatClinicTime } from '~/utils/clinic-time'
import { BSER_BUSINESS_STATUS, WORKFLOW, type TaskStatus } from './codes'
import type { Issue } from './outcome.server'
import type { Resource } from './resources'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Each Task status a client may set, as the IntakePilot status it moves the referral to. */
export const MOVE_TO: Partial<Record<TaskStatus, ReferralStatus>> = {
  received: 'in_review',
  'on-hold': 'info_requested',
  accepted: 'accepted',
  'in-progress': 'scheduled',
  completed: 'closed',
  rejected: 'declined',
  cancelled: 'cancelled',
}

/** What the client may change in a Task; the rest is the server's (or the referral's). */
const CHANGEABLE = new Set(['resourceType', 'id', 'meta', 'text', 'status', 'statusReason', 'businessStatus', 'executionPeriod', 'lastModified'])

const issue = (path: string, diagnostics: string, code = 'invalid'): Issue => ({ expression: [path], diagnostics: `${path}: ${diagnostics}`, code })

/** JSON with its keys in one order, to compare what was read with what came back. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`
  return JSON.stringify(v)
}

export type TaskMove =
  | { change: 'none' }
  | { change: 'move'; to: ReferralStatus; reason?: string; reasonCode?: string; scheduledFor?: string; scheduledTime?: string; versionId?: string }

/**
 * The move a new Task asks for, against the Task as it is now (`current`, built by the server)
 * and the referral's status (a cancelled Task is also a forwarded referral). `zone`: the clinic's.
 */
export function taskMove(current: Resource, incoming: unknown, from: ReferralStatus, reasonSystem: string, zone: string): TaskMove | { problems: Issue[] } {
  const problems: Issue[] = []
  if (!isObject(incoming) || incoming.resourceType !== 'Task') return { problems: [issue('Task', 'the body is a Task')] }
  if (incoming.id !== current.id) problems.push(issue('Task.id', "must be the id in the address (the referral's)"))
  for (const [key, value] of Object.entries(incoming)) {
    if (CHANGEABLE.has(key)) continue
    if (!(key in current)) problems.push(issue(`Task.${key}`, 'this server keeps no such element on a Task', 'not-supported'))
    else if (canonical(value) !== canonical(current[key]))
      problems.push(issue(`Task.${key}`, 'only status, statusReason and executionPeriod may change', 'not-supported'))
  }
  const status = incoming.status as TaskStatus
  const to = status === current.status ? from : MOVE_TO[status]
  if (!to)
    problems.push(
      issue('Task.status', 'not a status the clinic moves a referral to (received, on-hold, accepted, in-progress, completed, rejected)', 'not-supported'),
    )
  const versionId = isObject(incoming.meta) && typeof incoming.meta.versionId === 'string' ? incoming.meta.versionId : undefined

  if (incoming.businessStatus !== undefined && to) {
    const codings = isObject(incoming.businessStatus) && Array.isArray(incoming.businessStatus.coding) ? incoming.businessStatus.coding : []
    const code = codings.filter(isObject).find((c) => c.system === BSER_BUSINESS_STATUS)?.code
    const allowed = [WORKFLOW[from].business, WORKFLOW[to].business]
    if (!allowed.includes(code as never)) problems.push(issue('Task.businessStatus', 'follows status: send it as read, or leave it out'))
  }
  if (problems.length || !to) return { problems }
  if (to === from) return { change: 'none' }

  const move: TaskMove & { change: 'move' } = { change: 'move', to, ...(versionId ? { versionId } : {}) }
  if (to === 'declined' || to === 'cancelled') {
    const why = isObject(incoming.statusReason) ? incoming.statusReason : {}
    if (typeof why.text === 'string' && why.text.trim()) move.reason = why.text.trim()
    // The page's limit on a reason (app/referrals/work-schema.ts).
    if ((move.reason?.length ?? 0) > 2000) problems.push(issue('Task.statusReason.text', 'keep the reason under 2,000 characters', 'too-long'))
    const codings = Array.isArray(why.coding) ? why.coding.filter(isObject) : []
    const ours = codings.find((c) => c.system === reasonSystem)
    if (codings.length && !ours) problems.push(issue('Task.statusReason.coding', `the category's system is ${reasonSystem}`, 'not-supported'))
    if (ours) move.reasonCode = String(ours.code ?? '')
  }
  if (to === 'scheduled') {
    const start = isObject(incoming.executionPeriod) ? incoming.executionPeriod.start : undefined
    if (typeof start === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(start)) move.scheduledFor = start
    else if (
      typeof start === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(start) &&
      !Number.isNaN(Date.parse(start))
    ) {
      // An instant, as the clinic's wall clock reads it (the booking is written as staff would type it).
      const [day, time] = formatClinicTime(start, zone).split(' ')
      move.scheduledFor = day
      move.scheduledTime = time
    } else if (start !== undefined) problems.push(issue('Task.executionPeriod.start', 'a date (YYYY-MM-DD) or a dateTime with its zone'))
  }
  return problems.length ? { problems } : move
}

type Op = { op: string; path: string; value?: unknown; from?: string }

function pointer(path: string): string[] | null {
  if (path === '') return []
  if (!path.startsWith('/')) return null
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/**
 * A JSON Patch (RFC 6902: add, remove, replace, test) applied to a copy of the Task as read.
 * A failed `test` is a conflict (the Task is not what the client thought): 409, said apart.
 */
export function applyJsonPatch(doc: Resource, ops: unknown): { result: unknown } | { problems: Issue[]; conflict?: true } {
  if (!Array.isArray(ops) || ops.length === 0) return { problems: [issue('Patch', 'a JSON Patch is a non-empty list of operations')] }
  const root: unknown = structuredClone(doc)
  for (const [i, raw] of ops.entries()) {
    const at = `Patch[${i}]`
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') return { problems: [issue(at, 'each operation has an op and a path')] }
    const op = raw as Op
    if (!['add', 'remove', 'replace', 'test'].includes(op.op)) return { problems: [issue(`${at}.op`, 'add, remove, replace or test', 'not-supported')] }
    const keys = pointer(op.path)
    if (!keys || keys.length === 0) return { problems: [issue(`${at}.path`, 'a JSON Pointer into the Task')] }
    if (op.op !== 'remove' && !('value' in raw)) return { problems: [issue(`${at}.value`, 'this operation needs a value')] }
    let parent: unknown = root
    for (const key of keys.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? parent[key] : undefined
      if (parent === undefined) return { problems: [issue(`${at}.path`, 'no such place in the Task')] }
    }
    const last = keys[keys.length - 1]!
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : /^\d+$/.test(last) ? Number(last) : NaN
      const bound = op.op === 'add' ? parent.length : parent.length - 1
      if (!(index >= 0 && index <= bound)) return { problems: [issue(`${at}.path`, 'no such place in the Task')] }
      if (op.op === 'test') {
        if (canonical(parent[index]) !== canonical(op.value))
          return { problems: [issue(at, 'the test failed: the Task is not as the patch expected', 'conflict')], conflict: true }
      } else if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value))
      else if (op.op === 'remove') parent.splice(index, 1)
      else parent[index] = structuredClone(op.value)
    } else if (isObject(parent)) {
      if ((op.op === 'remove' || op.op === 'replace' || op.op === 'test') && !(last in parent)) {
        return { problems: [issue(`${at}.path`, 'no such place in the Task')] }
      }
      if (op.op === 'test') {
        if (canonical(parent[last]) !== canonical(op.value))
          return { problems: [issue(at, 'the test failed: the Task is not as the patch expected', 'conflict')], conflict: true }
      } else if (op.op === 'remove') delete parent[last]
      else parent[last] = structuredClone(op.value)
    } else {
      return { problems: [issue(`${at}.path`, 'no such place in the Task')] }
    }
  }
  return { result: root }
}
