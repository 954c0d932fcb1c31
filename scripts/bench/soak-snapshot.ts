/**
 * Two V8 heap snapshots (.heapsnapshot, as DevTools writes them) compared: objects grouped by
 * constructor (strings by their first characters, so a kept log line or SQL text shows as
 * itself), ordered by how much their total size grew. What grows per request is the retainer
 * to look for; DevTools' "Comparison" view shows the same for one group in detail.
 *
 *   npx tsx scripts/bench/soak-snapshot.ts before.heapsnapshot after.heapsnapshot [N]
 */
import { readFileSync } from 'node:fs'

type Group = { count: number; size: number }

export function groupSnapshot(file: string): Map<string, Group> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
    nodes: number[]
    strings: string[]
  }
  const fields = data.snapshot.meta.node_fields
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const types = data.snapshot.meta.node_types[0]
  const groups = new Map<string, Group>()
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]!]!
    const name = data.strings[data.nodes[i + nameAt]!] ?? ''
    const key =
      type === 'string' || type === 'concatenated string' || type === 'sliced string'
        ? `string "${name.slice(0, 40).replace(/\s+/g, ' ')}"`
        : type === 'object' || type === 'closure' || type === 'native'
          ? `${type} ${name}`
          : `(${type})`
    const group = groups.get(key) ?? { count: 0, size: 0 }
    group.count++
    group.size += data.nodes[i + sizeAt]!
    groups.set(key, group)
  }
  return groups
}

export function diffSnapshots(before: string, after: string, top = 25): string[] {
  const a = groupSnapshot(before)
  const b = groupSnapshot(after)
  const total = (m: Map<string, Group>) => [...m.values()].reduce((n, g) => n + g.size, 0)
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const x = a.get(key) ?? { count: 0, size: 0 }
    const y = b.get(key) ?? { count: 0, size: 0 }
    return { key, dCount: y.count - x.count, dSize: y.size - x.size, size: y.size }
  })
  rows.sort((p, q) => q.dSize - p.dSize)
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`
  return [
    `total self size ${kb(total(a))} -> ${kb(total(b))} (${total(b) >= total(a) ? '+' : ''}${kb(total(b) - total(a))})`,
    ...rows
      .slice(0, top)
      .map(
        (r) =>
          `${(r.dSize >= 0 ? '+' : '') + kb(r.dSize)}`.padStart(10) +
          `  ${String(r.dCount >= 0 ? `+${r.dCount}` : r.dCount).padStart(8)} objects  ${r.key.slice(0, 90)}`,
      ),
  ]
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [before, after, n] = process.argv.slice(2)
  if (!before || !after) {
    console.error('usage: npx tsx scripts/bench/soak-snapshot.ts before.heapsnapshot after.heapsnapshot [N]')
    process.exit(2)
  }
  for (const line of diffSnapshots(before, after, Number(n ?? 30))) console.log(line)
}
