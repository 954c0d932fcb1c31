import pg from 'pg'
import { startLocalDatabase } from './lib/local-database'
import { runMigrations } from './lib/migrate'
const pgd = await startLocalDatabase({ dataDir: '/tmp/probe/pgdata', pgPort: 56999, relayPort: 56998, persistent: false })
try {
  await runMigrations({ url: pgd.ownerUrl, wsProxy: pgd.wsProxy })
  const own = new pg.Client(pgd.ownerUrl); await own.connect()
  const c = (await own.query(`insert into clinics (name, slug) values ('A','a') returning id`)).rows[0].id
  const u = (await own.query(`insert into users (clinic_id, email, display_name, role, status) values ($1,'s@x','S','staff','active') returning id`, [c])).rows[0].id
  const extra = process.argv[2]
  if (extra) await own.query(extra)
  const app = new pg.Client(pgd.appUrl); await app.connect()
  await app.query('begin'); await app.query(`select set_config('app.clinic_id',$1,true), set_config('app.user_id',$2,true), set_config('app.role','staff',true)`, [c, u])
  const q = 'explain (analyze, summary) ' + (process.env.Q ?? "select id, clinic_id, referral_id, actor_id, type, data, body, visible_to_referrer, created_at from referral_events where referral_id = '2a5f5eda-8f12-413e-ac42-6acdb9dc2e84' order by created_at")
  const times: number[] = []
  for (let i = 0; i < 40; i++) { const r = await app.query(q); const t = r.rows.map((x: any) => x['QUERY PLAN']).find((l: string) => l.startsWith('Planning Time')); times.push(parseFloat(t.split(': ')[1])) }
  times.sort((a, b) => a - b); console.log('planning median ms', times[20])
  await app.query('rollback'); await app.end(); await own.end()
} finally { await pgd.stopAll() }
