import { describe, expect, test } from 'vitest'
import { readQueueView } from '~/referrals/queue'
import { mayBeInView } from './live-queue'
import { liveChange, readLiveMessage } from './messages'
import { readViewer, writeViewer } from './viewer'

const ID = '0b7c3f0e-5d1a-4c2b-9e8f-1a2b3c4d5e6f'
const change = { type: 'change', id: 7, topic: 'referral.status_changed', referralId: ID, status: 'declined', priority: 'urgent' }

describe('what a page takes from its socket', () => {
  test('a change: only its own keys, each of its shape', () => {
    expect(readLiveMessage(JSON.stringify({ ...change, patient: 'Ada Zed', reason: 'free text' }))).toEqual(change)
    expect(readLiveMessage(JSON.stringify({ ...change, status: 'made-up', priority: 1 }))).toEqual({ ...change, status: null, priority: null })
  })

  test.each([
    ['not JSON', '{"type":'],
    ['no type', JSON.stringify({ ...change, type: undefined })],
    ['an unknown topic', JSON.stringify({ ...change, topic: 'patient.read' })],
    ['an id that is no outbox id', JSON.stringify({ ...change, id: -1 })],
    ['a referral that is no uuid', JSON.stringify({ ...change, referralId: '../admin' })],
    ['a number', '42'],
    ['null', 'null'],
    ['more than 64 KB', JSON.stringify({ ...change, pad: 'x'.repeat(70_000) })],
    ['a binary frame', new ArrayBuffer(8)],
  ])('ignores %s', (_, text) => {
    expect(readLiveMessage(text)).toBeNull()
  })

  test('presence: people with an id and a name, bounded; anything else dropped', () => {
    const message = { type: 'presence', referralId: ID, people: [{ id: ID, name: 'N'.repeat(500) }, { id: 'x', name: 'Eve' }, null, { id: ID }] }
    expect(readLiveMessage(JSON.stringify(message))).toEqual({ type: 'presence', referralId: ID, people: [{ id: ID, name: 'N'.repeat(200) }] })
  })

  test('the courier hands the object nothing but a change', () => {
    expect(liveChange({ ...change, actorId: ID })).toEqual(change)
    expect(liveChange('referral.created')).toBeNull()
  })
})

describe('who opens a socket, as the app tells the object', () => {
  test('round trip, any name', () => {
    const viewer = { userId: ID, name: 'Zoë O’Brien-Ñúñez 李', referralId: null }
    expect(readViewer(writeViewer(viewer))).toEqual(viewer)
  })
  test.each([null, '', '%E0%A4%A', encodeURIComponent('{"userId":"x","name":"a","referralId":null}'), 'x'.repeat(5000)])('refuses %j', (header) => {
    expect(readViewer(header)).toBeNull()
  })
})

describe('which new referrals a queue view counts', () => {
  const view = (query: string) => readQueueView(new URL(`https://intake.example.org/queue?${query}`)).view
  const arrived = { type: 'change', id: 1, topic: 'referral.created', referralId: ID, status: 'received', priority: 'urgent' } as const
  test.each([
    ['', true],
    ['status=all', true],
    ['status=received&priority=urgent', true],
    ['assignee=unassigned', true],
    ['status=accepted', false],
    ['status=replied', false],
    ['priority=routine', false],
    ['assignee=me', false],
    ['ref=NOR-7K3M9PX', false],
  ])('%s: %s', (query, counted) => {
    expect(mayBeInView(view(query), arrived)).toBe(counted)
  })
})
