import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { lazyChildLogger } from './request-logger.js'

function capture (level: string): { parent: FastifyBaseLogger, lines: Array<Record<string, unknown>>, children: () => number } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      callback()
    },
  })
  const logger = pino({ level }, stream)
  let children = 0
  const parent: FastifyBaseLogger = Object.assign(Object.create(logger) as FastifyBaseLogger, {
    child: (bindings: Record<string, unknown>, options?: Record<string, unknown>) => {
      children++
      return logger.child(bindings, options)
    },
  })
  return { parent, lines, children: () => children }
}

test('a request logger makes its child only for a line at an enabled level, with the request bindings', () => {
  const { parent, lines, children } = capture('info')
  const log = lazyChildLogger(parent, { reqId: 'req-1' }, {})
  assert.equal(log.level, 'info')
  log.debug({ a: 1 }, 'dropped')
  log.trace('dropped')
  assert.equal(children(), 0, 'nothing made for lines below the level')
  log.info({ a: 2 }, 'kept')
  log.error('also kept')
  assert.equal(children(), 1, 'one child, made once')
  assert.deepEqual(lines.map((l) => [l.reqId, l.msg, l.a]), [['req-1', 'kept', 2], ['req-1', 'also kept', undefined]])
})

test('a route\'s own level is the request logger\'s level', () => {
  const { parent, lines } = capture('info')
  const log = lazyChildLogger(parent, { reqId: 'req-2' }, { level: 'debug' })
  assert.equal(log.level, 'debug')
  log.debug('kept at the route\'s level')
  assert.deepEqual(lines.map((l) => l.msg), ['kept at the route\'s level'])
})
