/**
 * The sender thread (src/delivery/sender-thread.ts) beyond what http-client.test.ts checks for
 * both senders: many attempts crossing at once each get their own outcome, a closed sender
 * refuses to send, a thread that dies costs no attempt, one that cannot start is replaced by the
 * in-process client, it runs at the priority it is given. Real HTTP to a receiver on 127.0.0.1; stand-in threads for the deaths.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { getPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createThreadedHttpClient, startThreadedHttpClient } from '../../src/delivery/sender-thread.js'
import { startReceiver } from '../helpers/receiver.js'

test('300 attempts made at once cross together and each comes back with its own outcome', async () => {
  // The status is the request's own number's parity: a mixed-up answer would show.
  const receiver = await startReceiver({ respond: (request) => {
    const n = Number((JSON.parse(request.body.toString()) as { n: number }).n)
    return n % 2 === 0 ? { status: 200, body: `ok ${n}` } : 503
  } })
  const sender = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/0.0.0-test' })
  try {
    const outcomes = await Promise.all(Array.from({ length: 300 }, async (_, n) =>
      await sender.send({ webhookId: `wh_${n % 3}`, url: receiver.url, headers: {}, body: JSON.stringify({ n }), timeoutMs: 30_000 })))
    outcomes.forEach((outcome, n) => {
      if (n % 2 === 0) assert.deepEqual([outcome.kind, 'responseExcerpt' in outcome ? outcome.responseExcerpt : null], ['delivered', `ok ${n}`], `request ${n}`)
      else assert.equal(outcome.kind === 'failed' && outcome.statusCode, 503, `request ${n}`)
    })
    assert.equal(receiver.requests.length, 300)
  } finally {
    await sender.close()
    await receiver.close()
  }
})

test('a closed sender sends nothing and says so; closing twice is fine', async () => {
  const receiver = await startReceiver()
  const sender = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/0.0.0-test' })
  try {
    assert.equal((await sender.send({ webhookId: 'wh_1', url: receiver.url, headers: {}, body: '{}', timeoutMs: 30_000 })).kind, 'delivered')
    await sender.close()
    await sender.close()
    const after = await sender.send({ webhookId: 'wh_1', url: receiver.url, headers: {}, body: '{}', timeoutMs: 30_000 })
    assert.deepEqual(after.kind === 'failed' ? [after.reason, after.error] : after, ['network', 'HTTP client is closed'])
    assert.equal(receiver.requests.length, 1)
  } finally {
    await receiver.close()
  }
})

/** The nice value of each of this process's threads now (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNices (): Map<number, number> {
  const nices = new Map<number, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
      nices.set(Number(tid), Number(fields[16]))
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nices
}

test('the thread lowers its own CPU priority by `nice` steps; the event loop keeps its own', { skip: process.platform !== 'linux' }, async () => {
  const own = getPriority()
  const lowered = Math.min(19, own + 5)
  const count = (nices: Map<number, number>): number => [...nices.values()].filter((nice) => nice === lowered).length
  const before = count(threadNices())
  const receiver = await startReceiver()
  const plain = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/0.0.0-test' })
  const niced = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'kejue-webhooks/0.0.0-test' }, { nice: 5 })
  try {
    await plain.ready()
    await niced.ready()
    // It still sends.
    assert.equal((await niced.send({ webhookId: 'wh_1', url: receiver.url, headers: {}, body: '{}', timeoutMs: 30_000 })).kind, 'delivered')
    const after = threadNices()
    assert.equal(count(after), before + 1, 'exactly one more thread (the niced sender) runs at the lowered priority')
    assert.equal(after.get(process.pid), own, 'the event loop keeps its priority')
  } finally {
    await plain.close()
    await niced.close()
    await receiver.close()
  }
})

/**
 * A stand-in thread (CommonJS, eval) that answers every attempt as delivered, except that the
 * first thread started with `marker` absent dies on its first batch (it creates the marker first).
 */
function dyingOnceSource (marker: string): string {
  return `
const { parentPort } = require('node:worker_threads')
const fs = require('node:fs')
parentPort.postMessage({ kind: 'ready' })
parentPort.on('message', (message) => {
  if (message.kind === 'close') { parentPort.postMessage({ kind: 'closed' }); parentPort.close(); return }
  if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(3) }
  parentPort.postMessage({ kind: 'outcomes', outcomes: message.requests.map(([id]) => [id, { kind: 'delivered', statusCode: 200, durationMs: 1, responseExcerpt: 'again' }]) })
})`
}

test('a thread that dies is replaced and what it held is sent once more, not failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kejue-sender-'))
  const stops: Error[] = []
  const sender = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'x' }, { workerSource: dyingOnceSource(join(dir, 'died')), onStopped: (err) => { stops.push(err) } })
  try {
    const outcomes = await Promise.all([1, 2, 3].map(async () => await sender.send({ webhookId: 'wh_1', url: 'http://127.0.0.1:9/x', headers: {}, body: '{}', timeoutMs: 30_000 })))
    assert.deepEqual(outcomes.map((o) => o.kind), ['delivered', 'delivered', 'delivered'])
    assert.equal(stops.length, 1)
    assert.match(stops[0]?.message ?? '', /code 3/)
  } finally {
    await sender.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an attempt a second thread also dies with fails as a network failure, never hangs', async () => {
  const always = `
const { parentPort } = require('node:worker_threads')
parentPort.postMessage({ kind: 'ready' })
parentPort.on('message', (message) => { if (message.kind === 'send') process.exit(4) })`
  const sender = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'x' }, { workerSource: always })
  try {
    const outcome = await sender.send({ webhookId: 'wh_1', url: 'http://127.0.0.1:9/x', headers: {}, body: '{}', timeoutMs: 30_000 })
    assert.deepEqual(outcome.kind === 'failed' ? [outcome.reason, outcome.error] : outcome, ['network', 'sender thread stopped'])
  } finally {
    await sender.close()
  }
})

test('serve falls back to the in-process client when the thread cannot start', async () => {
  const receiver = await startReceiver()
  const fallbacks: Error[] = []
  const sender = await startThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'x' }, {
    workerSource: 'throw new Error("cannot load")',
    onFallback: (err) => { fallbacks.push(err) },
  })
  try {
    assert.equal(fallbacks.length, 1)
    assert.equal((await sender.send({ webhookId: 'wh_1', url: receiver.url, headers: {}, body: '{}', timeoutMs: 30_000 })).kind, 'delivered')
  } finally {
    await sender.close()
    await receiver.close()
  }
})

test('a thread that stops answering is replaced after the attempt\'s timeout and a margin; twice, and the attempt fails', async () => {
  const silent = `
const { parentPort } = require('node:worker_threads')
parentPort.postMessage({ kind: 'ready' })
parentPort.on('message', (message) => { if (message.kind === 'close') { parentPort.postMessage({ kind: 'closed' }); parentPort.close() } })`
  const stops: Error[] = []
  const sender = createThreadedHttpClient({ allowPrivateNetworks: true, userAgent: 'x' }, { workerSource: silent, onStopped: (err) => { stops.push(err) } })
  try {
    const outcome = await sender.send({ webhookId: 'wh_1', url: 'http://127.0.0.1:9/x', headers: {}, body: '{}', timeoutMs: 100 })
    assert.deepEqual(outcome.kind === 'failed' ? [outcome.reason, outcome.error] : outcome, ['network', 'sender thread stopped'])
    assert.ok(stops.some((err) => /stopped answering/.test(err.message)), stops.map((err) => err.message).join('; '))
  } finally {
    await sender.close()
  }
})
