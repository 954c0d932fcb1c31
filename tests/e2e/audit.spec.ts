/**
 * The audit trail for people: the viewer with its filters and
 * paging, the chain check, the streamed exports, refusals, and a referral's access history.
 * Tampering itself is proven in tests/integration/audit-chain.test.ts.
 * Lakeview's admin does the work here (Riverbend's admin has their session revoked elsewhere).
 */
import { randomUUID } from 'node:crypto'
import type { Page } from '@playwright/test'
import { and, asc, count, desc, eq, ne, notInArray, or, sql } from 'drizzle-orm'
import { auditLogs, clinics, referrals, users } from '../../app/db/schema'
import AxeBuilder from '@axe-core/playwright'
import { clinicDay, formatClinicTime } from '../../app/utils/clinic-time'
import { expect, hydrated, SAME_ORIGIN, test, today, type Owner } from './fixtures'

const ADMIN = 'admin@lakeview.test'
/** Lakeview's today: its days are Toronto's (it has not chosen another zone), not UTC's. */
const clinicToday = () => clinicDay(Date.now(), 'America/Toronto')
const STAFF = 'staff@lakeview.test'

async function lakeview(owner: Owner) {
  const [clinic] = await owner.select().from(clinics).where(eq(clinics.slug, 'lakeview'))
  const members = await owner.select().from(users).where(eq(users.clinicId, clinic!.id))
  return { clinicId: clinic!.id, userId: (email: string) => members.find((m) => m.email === email)!.id }
}

/**
 * Entries as the app writes them, in bulk (paging and batching need many), through the real
 * chain trigger. Each test uses its own made-up referral id, so its rows are its own.
 */
async function recordReads(owner: Owner, n: number, entityId: string, extra: Partial<typeof auditLogs.$inferInsert> = {}) {
  const { clinicId, userId } = await lakeview(owner)
  const row = {
    clinicId,
    actorId: userId(STAFF),
    actorRole: 'staff',
    action: 'referral.read',
    entityType: 'referral',
    entityId,
    requestId: `e2e-${randomUUID()}`,
    ip: '203.0.113.7',
    userAgent: 'e2e',
    ...extra,
  }
  for (let i = 0; i < n; i += 500) await owner.insert(auditLogs).values(Array.from({ length: Math.min(500, n - i) }, () => row))
}

async function expectNoSeriousAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.length}`)).toEqual([])
}

/** Remix has taken over the page: a click on a link is now a client navigation, not a new document. */

const rowsOfRequest = (owner: Owner, requestId: string | undefined) =>
  owner
    .select()
    .from(auditLogs)
    .where(eq(auditLogs.requestId, requestId ?? 'none'))

test('the viewer filters by day, user, action and referral, and pages in chain order; viewing is not recorded', async ({ signedInAs, owner }) => {
  const referralId = randomUUID()
  await recordReads(owner, 60, referralId)
  const page = await signedInAs(ADMIN, '/admin/audit')
  await expect(page).toHaveURL('/admin/audit')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click()

  // A referral's own entries (the link from an entry, by id: this made-up one has no reference number); the other filters keep it.
  await page.goto(`/admin/audit?referral=${referralId}`)
  await expect(page.getByTestId('referral-filter')).toContainText(referralId)
  const filters = page.getByRole('form', { name: 'Filters' })
  await filters.getByLabel('From', { exact: true }).fill(clinicToday())
  await filters.getByLabel('To', { exact: true }).fill(clinicToday())
  await filters.getByLabel('User', { exact: true }).selectOption({ label: 'Lakeview Intake Coordinator (staff)' })
  await filters.getByLabel('Action', { exact: true }).selectOption('referral.read')
  await filters.getByRole('button', { name: 'Apply' }).click()
  await expect(page).toHaveURL(new RegExp(`referral=${referralId}`))
  const rows = page.getByTestId('audit-row')
  await expect(rows).toHaveCount(50)
  await expect(rows.first()).toContainText('Lakeview Intake Coordinator')
  await expect(rows.first()).toContainText('203.0.113.7')
  // The clinic's time, its zone named (Lakeview has not chosen one: Toronto).
  const [newest] = await owner.select().from(auditLogs).where(eq(auditLogs.entityId, referralId)).orderBy(desc(auditLogs.seq)).limit(1)
  await expect(rows.first()).toContainText(formatClinicTime(newest!.occurredAt, 'America/Toronto', { seconds: true }))
  await expect(rows.first().locator('time')).toHaveText(/ E[SD]T$/)
  const first = (await page.getByTestId('audit-seq').allTextContents()).map(Number)

  await page.getByRole('link', { name: 'Older entries' }).click()
  await expect(rows).toHaveCount(10)
  const second = (await page.getByTestId('audit-seq').allTextContents()).map(Number)
  const expected = await owner.select({ seq: auditLogs.seq }).from(auditLogs).where(eq(auditLogs.entityId, referralId)).orderBy(desc(auditLogs.seq))
  expect([...first, ...second]).toEqual(expected.map((r) => r.seq))
  await expect(page.getByRole('link', { name: 'Older entries' })).toHaveCount(0)
  await page.getByRole('link', { name: 'Newest' }).click()
  await expect(rows).toHaveCount(50)

  await filters.getByLabel('Action', { exact: true }).selectOption('referral.list')
  await filters.getByRole('button', { name: 'Apply' }).click()
  await expect(page.getByText('No audit entries match these filters.')).toBeVisible()

  // The viewer shows ids, not PHI: looking is not itself an entry.
  const response = await page.goto(`/admin/audit?referral=${referralId}`)
  expect(await rowsOfRequest(owner, response?.headers()['x-request-id'])).toEqual([])
  // A hand-edited address keeps what it can and says what it ignored.
  await page.goto(`/admin/audit?referral=${referralId}&from=yesterday`)
  await expect(page.getByRole('alert')).toContainText('were ignored: from')
  await expect(rows).toHaveCount(50)
})

test('an admin verifies the chain: intact, and the check is recorded', async ({ signedInAs, owner }) => {
  const page = await signedInAs(ADMIN, '/admin/audit')
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/admin/audit'))
  await page.getByRole('button', { name: 'Verify the audit trail' }).click()
  const status = page.getByRole('status')
  await expect(status).toHaveText(/^Verified: \d+ entr(y|ies), chain intact\.$/)
  const checked = Number(/(\d+)/.exec((await status.textContent())!)![1])
  expect(checked).toBeGreaterThan(0)
  const [row] = await rowsOfRequest(owner, (await posted).headers()['x-request-id'])
  const { clinicId, userId } = await lakeview(owner)
  expect(row).toMatchObject({ clinicId, actorId: userId(ADMIN), action: 'audit.verify', outcome: 'success', details: { checked, brokenSeq: null } })
})

test('exports stream CSV and FHIR AuditEvent NDJSON in chain order, are recorded first, and refuse bad requests', async ({ signedInAs, owner }) => {
  const referralId = randomUUID()
  await recordReads(owner, 1100, referralId) // three batches of 500
  const formula = '=HYPERLINK("http://evil.test","open")'
  const awkward = 'two\r\nlines, "quoted"'
  await recordReads(owner, 1, referralId, { userAgent: formula })
  await recordReads(owner, 1, referralId, { userAgent: awkward })
  const { userId } = await lakeview(owner)
  const page = await signedInAs(ADMIN, '/admin/audit')
  const day = clinicToday()

  // Headers a client may invent: neither is taken for the audit row's IP off Cloudflare.
  const csv = await page.request.get(`/admin/audit/export?format=csv&from=${day}&to=${day}`, {
    headers: { 'X-Forwarded-For': '198.51.100.66', 'CF-Connecting-IP': '198.51.100.67' },
  })
  expect(csv.status()).toBe(200)
  expect(csv.headers()['content-type']).toBe('text/csv; charset=utf-8')
  expect(csv.headers()['content-disposition']).toBe(`attachment; filename="intakepilot-audit-${day}-to-${day}.csv"`)
  const csvText = await csv.text()
  // A complete file ends with its trailer, which states the row count.
  const trailer = /\r\n# intakepilot-audit-export: (\d+) rows; complete\r\n$/.exec(csvText)
  expect(trailer).not.toBeNull()
  const [header, ...lines] = parseCsv(csvText.slice(0, trailer!.index + 2))
  expect(lines).toHaveLength(Number(trailer![1]))
  expect(header).toEqual([
    'id',
    'seq',
    'occurred_at',
    'clinic_id',
    'actor_id',
    'actor_name',
    'actor_role',
    'action',
    'entity_type',
    'entity_id',
    'outcome',
    'request_id',
    'ip',
    'user_agent',
    'details',
    'prev_hash',
    'hash',
    'entity_name',
    'clinic_time',
    'time_zone',
  ])
  expect(csv.headers()['x-time-zone']).toBe('America/Toronto')
  const ours = lines.filter((l) => l[9] === referralId)
  // Each row: its UTC instant, the same instant in the clinic's zone, and the zone's name.
  for (const l of ours.slice(0, 5)) expect([l[18], l[19]]).toEqual([formatClinicTime(l[2]!, 'America/Toronto', { seconds: true }), 'America/Toronto'])
  expect(ours).toHaveLength(1102)
  const seqs = ours.map((l) => Number(l[1]))
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
  expect(ours[0]).toEqual(expect.arrayContaining([userId(STAFF), 'Lakeview Intake Coordinator', 'staff', 'referral.read', 'success', '203.0.113.7']))
  // A formula is neutralised; quotes, commas and line breaks survive the round trip.
  expect(ours.map((l) => l[13])).toContain(`'${formula}`)
  expect(ours.map((l) => l[13])).toContain(awkward)
  // Recorded before streaming began (the export is in its own file), and again when it was complete.
  const [csvRow, csvEnd] = await rowsOfRequest(owner, csv.headers()['x-request-id']).orderBy(auditLogs.seq)
  expect(csvRow).toMatchObject({
    action: 'audit.export',
    actorId: userId(ADMIN),
    outcome: 'success',
    ip: null,
    details: { format: 'csv', from: day, to: day, timeZone: 'America/Toronto', stage: 'started' },
  })
  expect(lines.some((l) => l[0] === String(csvRow!.id) && l[7] === 'audit.export')).toBe(true)
  expect(csvEnd).toMatchObject({
    action: 'audit.export',
    outcome: 'success',
    details: { format: 'csv', from: day, to: day, stage: 'complete', rows: lines.length },
  })

  const ndjson = await page.request.get(`/admin/audit/export?format=fhir&from=${day}&to=${day}`)
  expect(ndjson.status()).toBe(200)
  expect(ndjson.headers()['content-type']).toBe('application/fhir+ndjson')
  expect(ndjson.headers()['content-disposition']).toBe(`attachment; filename="intakepilot-audit-${day}-to-${day}.ndjson"`)
  const all = (await ndjson.text())
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line))
  const events = all.slice(0, -1)
  for (const event of events) {
    expect(event.resourceType).toBe('AuditEvent')
    expect(event.extension).toEqual([{ url: 'urn:intakepilot:clinic-time-zone', valueString: 'America/Toronto' }])
  }
  expect(all.at(-1)).toEqual({
    resourceType: 'Parameters',
    id: 'intakepilot-export-trailer',
    parameter: [
      { name: 'rows', valueInteger: events.length },
      { name: 'complete', valueBoolean: true },
    ],
  })
  const read = events.filter((e) => e.entity?.[0]?.what?.identifier?.value === referralId)
  expect(read).toHaveLength(1102)
  expect(read[0]).toMatchObject({
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
    subtype: [{ code: 'referral.read' }],
    action: 'R',
    outcome: '0',
    agent: [{ who: { identifier: { value: userId(STAFF) } }, requestor: true, role: [{ text: 'staff' }], network: { address: '203.0.113.7', type: '2' } }],
    source: { observer: { display: 'IntakePilot' } },
    entity: [{ type: { code: 'referral' } }],
  })
  expect(Date.parse(read[0].recorded)).not.toBeNaN()
  expect(await rowsOfRequest(owner, ndjson.headers()['x-request-id']).orderBy(auditLogs.seq)).toMatchObject([
    { action: 'audit.export', details: { format: 'fhir', from: day, to: day, stage: 'started' } },
    { action: 'audit.export', outcome: 'success', details: { format: 'fhir', stage: 'complete', rows: events.length } },
  ])

  for (const [query, message] of [
    [`format=xml&from=${day}&to=${day}`, 'Choose CSV or FHIR AuditEvent (NDJSON)'],
    [`format=csv&from=2026-02-30&to=${day}`, 'Enter the first day as YYYY-MM-DD'],
    [`format=csv&from=${day}&to=2000-01-01`, 'The last day must be on or after the first day'],
    // Year 0 is an ISO date that PostgreSQL has no year for: refused before anything starts.
    [`format=csv&from=0000-01-01&to=${day}`, 'The first day must be between 1970-01-01 and 2999-12-31'],
    [`format=fhir&from=${day}&to=9999-12-31`, 'The last day must be between 1970-01-01 and 2999-12-31'],
    ['', 'Choose CSV or FHIR'],
  ]) {
    const refused = await page.request.get(`/admin/audit/export?${query}`)
    expect(refused.status(), query).toBe(400)
    expect(await refused.text(), query).toContain(message)
    expect(await rowsOfRequest(owner, refused.headers()['x-request-id'])).toEqual([])
  }

  // From the page: the browser downloads the file and stays; a backwards range is caught first.
  const panel = page.getByRole('region', { name: 'Export' })
  await panel.getByLabel('First day').fill(day)
  await panel.getByLabel('Last day').fill('2000-01-01')
  await panel.getByRole('button', { name: 'Download' }).click()
  await expect(panel.getByText('The last day must be on or after the first day')).toBeVisible()
  await panel.getByLabel('Last day').fill(day)
  await panel.getByLabel('Format').selectOption('fhir')
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Download' }).click()])
  expect(download.suggestedFilename()).toBe(`intakepilot-audit-${day}-to-${day}.ndjson`)
  await expect(page).toHaveURL('/admin/audit')
})

test('staff cannot see, verify or export the audit trail', async ({ signedInAs, owner }) => {
  const page = await signedInAs(STAFF, '/admin/audit')
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible()
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' })).toHaveCount(0)
  expect((await page.request.get('/admin/audit', { maxRedirects: 0 })).status()).toBe(403)
  expect((await page.request.post('/admin/audit', { form: { intent: 'verify' }, headers: SAME_ORIGIN, maxRedirects: 0 })).status()).toBe(403)
  const refused = await page.request.get(`/admin/audit/export?format=csv&from=${today()}&to=${today()}`, { maxRedirects: 0 })
  expect(refused.status()).toBe(403)
  expect(await rowsOfRequest(owner, refused.headers()['x-request-id'])).toEqual([])
})

test("who accessed this: the referral's reads, newest first, for staff only and only in their clinic", async ({ signedInAs, owner }) => {
  const { clinicId } = await lakeview(owner)
  const [referral] = await owner
    .select({ id: referrals.id, submittedBy: referrals.submittedBy })
    .from(referrals)
    .where(eq(referrals.clinicId, clinicId))
    .orderBy(asc(referrals.id))
    .offset(Math.floor(Math.random() * 150))
    .limit(1)
  const page = await signedInAs(STAFF, `/referrals/${referral!.id}`)
  await expect(page).toHaveURL(`/referrals/${referral!.id}`)
  // Switching tabs in the page does not open the referral again (a new document would).
  await hydrated(page)
  // Other tests list Lakeview's queue meanwhile, and a list that shows this referral is in its
  // history: the tab shows what was there when it was read, between these two counts.
  const before = await accessCount(owner, referral!.id)
  await page.getByRole('navigation', { name: 'Referral views' }).getByRole('link', { name: 'Who accessed this' }).click()
  await expect(page).toHaveURL(`/referrals/${referral!.id}/access`)
  await expect(page.getByRole('heading', { name: 'Who accessed this referral' })).toBeVisible()
  await expect(page.getByRole('region', { name: 'Work this referral' })).toBeHidden()
  const rows = page.getByTestId('access-row')
  // The newest is the open that just happened, at the clinic's time.
  await expect(rows.first()).toContainText('Lakeview Intake Coordinator')
  await expect(rows.first()).toContainText('staff')
  await expect(rows.first()).toContainText('referral.read')
  await expect(rows.first()).toContainText('success')
  await expect(rows.first().locator('time').first()).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} E[SD]T$/)
  await expect(page.getByText(/Times are the clinic.s, in America\/Toronto/)).toBeVisible()
  await expectNoSeriousAxeViolations(page)
  // Every entry of the page is there, a run of list views as its views.
  // (A page ends where a run of list views ends, so a long history may show a few fewer than 50.)
  const shown = page.locator('[data-testid=access-row], [data-testid=list-view]')
  const after = await accessCount(owner, referral!.id)
  const count = await shown.count()
  if (after <= 50) {
    expect(count).toBeGreaterThanOrEqual(before)
    expect(count).toBeLessThanOrEqual(after)
  } else expect(count).toBeGreaterThan(0)
  await page.getByRole('link', { name: 'Referral', exact: true }).click()
  await expect(page.getByRole('region', { name: 'Work this referral' })).toBeVisible()

  // Another clinic's referral, or no referral at all: not found.
  const [elsewhere] = await owner.select({ id: referrals.id }).from(referrals).where(ne(referrals.clinicId, clinicId)).limit(1)
  expect((await page.request.get(`/referrals/${elsewhere!.id}/access`, { maxRedirects: 0 })).status()).toBe(404)
  expect((await page.request.get('/referrals/not-a-referral/access', { maxRedirects: 0 })).status()).toBe(404)

  // The referrer who sent it sees no such tab, and is refused the history.
  const [sender] = await owner.select({ email: users.email }).from(users).where(eq(users.id, referral!.submittedBy!))
  const referrer = await signedInAs(sender!.email, `/referrals/${referral!.id}`)
  await expect(referrer).toHaveURL(`/referrals/${referral!.id}`)
  await expect(referrer.getByRole('navigation', { name: 'Referral views' })).toHaveCount(0)
  expect((await referrer.request.get(`/referrals/${referral!.id}/access`, { maxRedirects: 0 })).status()).toBe(403)
})

/** Rows about a referral, plus the list views whose shown ids include it, counted as the owner sees them. */
async function accessCount(owner: Owner, referralId: string) {
  const [counted] = await owner
    .select({ n: count() })
    .from(auditLogs)
    .where(
      or(
        and(eq(auditLogs.entityType, 'referral'), eq(auditLogs.entityId, referralId)),
        and(eq(auditLogs.action, 'referral.list'), sql`${auditLogs.details} -> 'ids' @> ${JSON.stringify([referralId])}::jsonb`),
      ),
    )
  return counted!.n
}

test('who accessed this: the list views that showed the referral, marked as such; not on a referral the list did not show', async ({ signedInAs, owner }) => {
  const { clinicId } = await lakeview(owner)
  const page = await signedInAs(STAFF, '/queue')
  await expect(page).toHaveURL('/queue')
  // A queue page of its own (oldest first), loaded as a document: its reference is the response's request id.
  const listed = await page.goto('/queue?sort=age')
  const listRequest = listed!.headers()['x-request-id']!
  expect(listRequest).toMatch(/^[0-9a-f-]{36}$/)
  const hrefs = await page
    .getByTestId('queue-row')
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href')))
  const shownIds = hrefs.map((href) => href!.replace('/referrals/', ''))
  expect(shownIds.length).toBeGreaterThan(1)
  const [notShown] = await owner
    .select({ id: referrals.id })
    .from(referrals)
    .where(and(eq(referrals.clinicId, clinicId), notInArray(referrals.id, shownIds)))
    .orderBy(desc(referrals.receivedAt))
    .limit(1)

  // A referral the page showed (not the first row: any of them) lists that view, marked, by its reference.
  const shown = shownIds[shownIds.length - 1]!
  await page.goto(`/referrals/${shown}/access`)
  await expect(page.getByRole('heading', { name: 'Who accessed this referral' })).toBeVisible()
  // The two queue pages just shown are one person's list views in a row: one entry that opens to each.
  const listView = page.locator('[data-testid=access-row], [data-testid=access-list-group]').filter({ hasText: listRequest })
  await expect(listView).toHaveCount(1)
  await expect(listView).toContainText('Lakeview Intake Coordinator')
  await expect(listView).toContainText('referral.list')
  await expect(listView.getByTestId('seen-in-list')).toHaveText('seen in a list')
  await expect(listView).toContainText('success')

  // One the page did not show: that view is not in its history. Control: its history is shown
  // (opened first, in a request of its own, so that read is committed before the tab is read).
  await page.goto(`/referrals/${notShown!.id}`)
  await page.goto(`/referrals/${notShown!.id}/access`)
  await expect(page.getByRole('heading', { name: 'Who accessed this referral' })).toBeVisible()
  const opened = page.getByTestId('access-row').filter({ hasText: 'referral.read' }).filter({ hasText: 'Lakeview Intake Coordinator' })
  await expect(opened.first()).toBeVisible()
  await expect(opened.first().getByTestId('seen-in-list')).toHaveCount(0)
  await expect(page.locator('[data-testid=access-row], [data-testid=access-list-group]').filter({ hasText: listRequest })).toHaveCount(0)

  // And the trail itself agrees: the view's row names the shown ids and not the other.
  const [row] = await rowsOfRequest(owner, listRequest)
  expect(row).toMatchObject({ action: 'referral.list', details: { ids: shownIds } })
})

/** RFC 4180, as a spreadsheet reads it: quoted cells may hold commas, quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"'
      i++
    } else if (c === '"') {
      quoted = !quoted
    } else if (!quoted && c === ',') {
      row.push(cell)
      cell = ''
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      rows.push([...row, cell])
      row = []
      cell = ''
      i++
    } else {
      cell += c
    }
  }
  if (cell || row.length) rows.push([...row, cell])
  return rows
}

test("the trail names things: a referral by its reference number, filtered by it; a person's run of list views is one entry", async ({ signedInAs, owner }) => {
  const { clinicId, userId } = await lakeview(owner)
  const [referral] = await owner
    .select({ id: referrals.id, referenceNumber: referrals.referenceNumber })
    .from(referrals)
    .where(eq(referrals.clinicId, clinicId))
    .orderBy(asc(referrals.id))
    .offset(Math.floor(Math.random() * 150))
    .limit(1)
  await recordReads(owner, 2, referral!.id)
  // Five list views in one statement: consecutive in the chain, each with its own request id.
  const listRequests = Array.from({ length: 5 }, () => `e2e-list-${randomUUID()}`)
  await owner.insert(auditLogs).values(
    listRequests.map((requestId) => ({
      clinicId,
      actorId: userId(STAFF),
      actorRole: 'staff',
      action: 'referral.list',
      entityType: 'referral',
      details: { ids: [referral!.id, randomUUID(), randomUUID()] },
      requestId,
    })),
  )
  const [elsewhere] = await owner.select({ referenceNumber: referrals.referenceNumber }).from(referrals).where(ne(referrals.clinicId, clinicId)).limit(1)

  const page = await signedInAs(ADMIN, '/admin/audit', { javaScriptEnabled: false })
  const filters = page.getByRole('form', { name: 'Filters' })
  // As a person types it: lower case, spaces around.
  await filters.getByLabel('Reference number').fill(` ${referral!.referenceNumber.toLowerCase()} `)
  await filters.getByRole('button', { name: 'Apply' }).click()
  await expect(page).toHaveURL(/reference=/)
  const rows = page.getByTestId('audit-row')
  await expect(rows.first()).toContainText(referral!.referenceNumber)
  const shown = await rows.count()
  expect(shown).toBeGreaterThanOrEqual(2)
  for (let i = 0; i < shown; i++) await expect(rows.nth(i)).toContainText(referral!.referenceNumber)
  // The entity shows the number, not the id (the id stays as the link's title).
  await expect(rows.first().getByRole('link', { name: referral!.referenceNumber })).toHaveAttribute('title', referral!.id)
  await expect(rows.first()).not.toContainText(referral!.id)

  // Another clinic's reference number finds nothing here; a malformed one is ignored and said so.
  await page.goto(`/admin/audit?reference=${elsewhere!.referenceNumber}`)
  await expect(page.getByText('No audit entries match these filters.')).toBeVisible()
  const malformed = await page.goto(`/admin/audit?reference=${encodeURIComponent("x'; select 1 --")}`)
  expect(malformed!.status()).toBe(400)
  await expect(page.getByRole('alert')).toContainText('ignored: reference')

  // The five list views: one entry, opening to each view, the person named.
  await page.goto(`/admin/audit?action=referral.list&actor=${userId(STAFF)}`)
  const group = page.getByTestId('audit-list-group').filter({ hasText: listRequests[0]! })
  await expect(group).toHaveCount(1)
  await expect(group).toContainText('Lakeview Intake Coordinator')
  const views = group.getByTestId('list-view')
  for (const requestId of listRequests) await expect(views.filter({ hasText: requestId })).toHaveCount(1)
  await expect(views.filter({ hasText: listRequests[0]! })).toBeHidden()
  await group.getByText(/list views, \d+ referrals shown/).click()
  await expect(views.filter({ hasText: listRequests[0]! })).toBeVisible()
  await expect(views.filter({ hasText: listRequests[0]! })).toContainText('3 shown')
  await expect(views.first().locator('time')).toHaveText(/ E[SD]T$/)

  const withScripts = await signedInAs(ADMIN, `/admin/audit?action=referral.list&actor=${userId(STAFF)}`)
  await withScripts
    .getByTestId('audit-list-group')
    .first()
    .getByText(/list views/)
    .click()
  await expectNoSeriousAxeViolations(withScripts)
})
