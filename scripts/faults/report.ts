/** What was checked, as a table; and which answers broke a check (the first few, for the log). */
import { judge, type Answer } from './traffic'

export type Check = { area: string; check: string; pass: boolean | null; detail: string }

export function answersIn(answers: Answer[], phase: string) {
  return answers.filter((a) => a.phase === phase)
}

/** Every answer of the phase is a success or a clear 503; returns the check and the bad ones. */
export function clearAnswers(area: string, answers: Answer[], deadlineMs: number, options: { expectRefusals: boolean }): Check {
  const judged = answers.map((a) => ({ a, ...judge(a, deadlineMs) }))
  const bad = judged.filter((j) => j.verdict === 'bad')
  const refused = judged.filter((j) => j.verdict === 'unavailable').length
  const slowest = Math.max(0, ...answers.map((a) => a.ms))
  const problems = summarize(bad.map((b) => `${b.a.method} ${b.a.path}: ${b.why}`))
  const felt = !options.expectRefusals || refused > 0
  return {
    area,
    check: 'every answer: success, or 503 + Retry-After (page / JSON error), within the deadline',
    pass: bad.length === 0 && felt && answers.length > 0,
    detail:
      `${answers.length} requests: ${judged.length - bad.length - refused} ok, ${refused} × 503, ${bad.length} bad; slowest ${Math.round(slowest)} ms` +
      (felt ? '' : '; no request felt the fault (was it injected?)') +
      (problems ? `; ${problems}` : ''),
  }
}

export function resumed(area: string, answers: Answer[], recoveredMs: number | null, deadlineMs: number): Check {
  const bad = answers.filter((a) => judge(a, deadlineMs).verdict !== 'ok')
  return {
    area,
    check: 'work resumes by itself (same app process): /healthz back, then every request succeeds',
    pass: recoveredMs !== null && bad.length === 0 && answers.length > 0,
    detail:
      `${recoveredMs === null ? '/healthz not back within 30 s' : `/healthz back ${(recoveredMs / 1000).toFixed(1)} s after the fault ended`}; ` +
      `${answers.length - bad.length}/${answers.length} requests after it succeeded` +
      (bad.length ? `; ${summarize(bad.map((a) => `${a.method} ${a.path}: ${a.status || 'no answer'}`))}` : ''),
  }
}

function summarize(lines: string[]) {
  const counts = new Map<string, number>()
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1)
  return [...counts]
    .slice(0, 4)
    .map(([line, n]) => (n > 1 ? `${n} × ${line}` : line))
    .join('; ')
}

export function printTable(checks: Check[], say: (line: string) => void) {
  const mark = (c: Check) => (c.pass === null ? 'skip' : c.pass ? 'PASS' : 'FAIL')
  const areaWidth = Math.max(...checks.map((c) => c.area.length))
  say('')
  say(`${'fault'.padEnd(areaWidth)}  result  check`)
  say(`${'-'.repeat(areaWidth)}  ------  -----`)
  for (const c of checks) {
    say(`${c.area.padEnd(areaWidth)}  ${mark(c).padEnd(6)}  ${c.check}`)
    say(`${''.padEnd(areaWidth)}          ${c.detail}`)
  }
  const failed = checks.filter((c) => c.pass === false).length
  say('')
  say(
    `${checks.length - failed - checks.filter((c) => c.pass === null).length} passed, ${failed} failed, ${checks.filter((c) => c.pass === null).length} skipped`,
  )
  return failed
}
