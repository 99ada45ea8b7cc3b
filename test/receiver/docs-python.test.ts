import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { loadSignatureVectors } from '../helpers/signature-vectors.js'
import { runPython } from '../helpers/python.js'

// The Python verifier printed in docs/receiving.md, run as printed against the published vectors,
// so the snippet cannot rot.
const docs = readFileSync(new URL('../../docs/receiving.md', import.meta.url), 'utf8')
const snippet = /```python\n([\s\S]*?)```/.exec(docs)?.[1] ?? ''

const HARNESS = `
import sys, json
results = []
for c in json.loads(sys.stdin.buffer.read().decode('utf-8')):
    try:
        event = verify_kejue(c['body'].encode('utf-8'), c['headers'], c['secret'], now_ms=c['now'])
        results.append({'ok': True, 'event': event})
    except ValueError as e:
        results.append({'ok': False, 'code': str(e)})
json.dump(results, sys.stdout)
`

test('the Python verifier in docs/receiving.md accepts every HMAC vector and refuses bad ones', () => {
  assert.match(snippet, /def verify_kejue/)
  const vectors = loadSignatureVectors().filter((v) => v.method === 'hmac_sha256' || v.method === 'hmac_sha1')
  const lower = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))
  const cases = vectors.map((v) => ({ body: v.body, headers: lower(v.expectedHeaders), secret: v.secret, now: v.timestamp }))
  const first = cases[0]
  assert.ok(first)
  const bad = [
    { ...first, body: `${first.body} ` },
    { ...first, now: first.now + 300_001 },
    { ...first, headers: { ...first.headers, 'x-kejue-timestamp': '１２３' } },
    { ...first, headers: { ...first.headers, 'x-kejue-signature': 'sha256=ä' } },
    { ...first, headers: { ...first.headers, 'x-kejue-signature': `md5=${'0'.repeat(32)}` } },
    { ...first, secret: 'wrong' },
  ]
  const results = runPython(`${snippet}\n${HARNESS}`, [...cases, ...bad]) as Array<{ ok: boolean, event?: unknown, code?: string }>
  vectors.forEach((v, i) => assert.deepEqual(results[i], { ok: true, event: JSON.parse(v.body) }, v.name))
  assert.deepEqual(results.slice(vectors.length).map((r) => r.code), [
    'SIGNATURE_MISMATCH', 'TIMESTAMP_OUT_OF_RANGE', 'INVALID_TIMESTAMP', 'SIGNATURE_MISMATCH', 'INVALID_SIGNATURE_FORMAT', 'SIGNATURE_MISMATCH',
  ])
})
