// Writes test/fixtures/signatures.json: published signing vectors (docs/wire-format.md) for receivers to
// test against. The expected headers come from our signer; src/signing/signer.test.ts recomputes
// every one independently by hand, test/signing/signature-vectors-python.test.ts with python3.
// Usage: node --import tsx scripts/gen-signature-vectors.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { signHeaders } from '../src/signing/signer.js'
import type { SignatureVector } from '../test/helpers/signature-vectors.js'


const OUTPUT = fileURLToPath(new URL('../test/fixtures/signatures.json', import.meta.url))

// Not a multiple of 1000, so a receiver that mistakes milliseconds for seconds fails loudly.
const BASE_TIMESTAMP_MS = 1_736_937_000_123

function envelope (event: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event,
    event_id: 'evt_01JHCR5W6Q8K3V2N7M4P9T0XYZ',
    workspace_id: 'ws_xyz',
    timestamp: '2025-01-15T10:30:00.000Z',
    data,
    metadata,
  }
}

function transcript (): string {
  const turns = [
    'Agent: Hello, this is Sara from Kejue. Is this John?',
    'User: Yes, speaking. What is this about?',
    'Agent: I am calling about the Enterprise Plan you asked about last week — do you have two minutes?',
    'User: Sure. Our budget is around $500-1000/mo, is that realistic?',
    'Agent: It is. Let me walk you through the tiers: Starter, Growth and Enterprise.',
    'User: 好的，请继续。 Also, can you send the summary to josé@example.com? 👍',
  ]
  const lines: string[] = []
  for (let i = 0; lines.join('\n').length < 6_000; i++) lines.push(`[${String(i).padStart(3, '0')}] ${turns[i % turns.length]}`)
  return lines.join('\n')
}

const callEnded = (extra: Record<string, unknown>): Record<string, unknown> => envelope('call.ended', {
  job_id: 'job_123',
  contact_id: 'ct_789',
  status: 'completed',
  ended_reason: 'agent_hangup',
  duration_seconds: 295,
  transcript: 'Agent: Hello, this is Sara from...',
  recording_url: 'https://recordings.kejue.co/job_123.mp3',
  retry: { will_retry: false, next_retry_at: null, attempt_number: 1, max_attempts: 3 },
  ...extra,
})

const SECRET = 'whsec_kejue_test_secret_0123456789abcdef'
// Standard Webhooks: whsec_ + base64 of the key bytes (here 0x01…0x20).
const STANDARD_SECRET = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1)).toString('base64')}`

const cases: Array<Omit<SignatureVector, 'expectedHeaders' | 'timestamp'>> = [
  { name: 'hmac_sha256 ascii call.ended', method: 'hmac_sha256', secret: SECRET, body: JSON.stringify(callEnded({})) },
  {
    name: 'hmac_sha256 emoji (ZWJ sequence, skin tone, flag)',
    method: 'hmac_sha256',
    secret: SECRET,
    body: JSON.stringify(callEnded({ transcript: 'User: I love it 😀🎉 👩🏽‍💻 🇯🇵' })),
  },
  {
    name: 'hmac_sha256 CJK transcript',
    method: 'hmac_sha256',
    secret: SECRET,
    body: JSON.stringify(callEnded({ transcript: '客服：您好，我是可觉的莎拉。\nユーザー：はい、聞こえます。\n상담원: 안녕하세요' })),
  },
  {
    name: 'hmac_sha256 combining marks (NFD, not normalized)',
    method: 'hmac_sha256',
    // e + U+0301, n + U+0303, a + U+030A: the bytes differ from the precomposed forms.
    secret: SECRET,
    body: JSON.stringify(envelope('call.started', {
      job_id: 'job_123',
      contact: { id: 'ct_789', name: 'Jose\u0301 Mun\u0303oz A\u030Angstro\u0308m', phone: '+14155551234' },
    })),
  },
  {
    name: 'hmac_sha256 empty data and metadata',
    method: 'hmac_sha256',
    secret: SECRET,
    body: JSON.stringify(envelope('campaign.paused', {})),
  },
  {
    name: 'hmac_sha256 large transcript',
    method: 'hmac_sha256',
    secret: SECRET,
    body: JSON.stringify(callEnded({ transcript: transcript() })),
  },
  {
    name: 'hmac_sha256 pretty-printed body with escapes and U+2028',
    method: 'hmac_sha256',
    secret: SECRET,
    body: JSON.stringify(envelope('campaign.ended', {
      campaign_id: 'camp_abc',
      campaign_name: 'Q1 "Outreach" \\ tab\there \u2028 line-sep',
      end_reason: 'completed',
    }, { source: 'crm\u00e9' }), null, 2),
  },
  {
    name: 'hmac_sha256 unicode secret',
    method: 'hmac_sha256',
    secret: 'sécret-🔑-秘密',
    body: JSON.stringify(callEnded({})),
  },
  { name: 'hmac_sha1 ascii call.ended', method: 'hmac_sha1', secret: SECRET, body: JSON.stringify(callEnded({})) },
  {
    name: 'hmac_sha1 emoji and CJK',
    method: 'hmac_sha1',
    secret: SECRET,
    body: JSON.stringify(callEnded({ transcript: '🎧 客服：您好 — Café' })),
  },
  {
    name: 'hmac_sha1 large transcript',
    method: 'hmac_sha1',
    secret: SECRET,
    body: JSON.stringify(callEnded({ transcript: transcript() })),
  },
  { name: 'bearer', method: 'bearer', secret: 'kj_live_bearer_token_AbC123', body: JSON.stringify(callEnded({})) },
  { name: 'basic_auth ascii', method: 'basic_auth', secret: 'kejue:s3cr3t-p@ss', body: JSON.stringify(callEnded({})) },
  { name: 'basic_auth unicode password', method: 'basic_auth', secret: 'ålice:pässwörd🔒', body: JSON.stringify(callEnded({})) },
  { name: 'none', method: 'none', secret: null, body: JSON.stringify(callEnded({})) },
  {
    name: 'standard_webhooks ascii call.ended',
    method: 'standard_webhooks',
    secret: STANDARD_SECRET,
    messageId: 'dlv_01JHCR5W6Q8K3V2N7M4P9T0XYZ',
    body: JSON.stringify(callEnded({})),
  },
  {
    name: 'standard_webhooks emoji and CJK',
    method: 'standard_webhooks',
    secret: STANDARD_SECRET,
    messageId: 'dlv_01JHCR5W6Q8K3V2N7M4P9T0XZ0',
    body: JSON.stringify(callEnded({ transcript: '🎧 客服：您好 — Café 👩🏽‍💻' })),
  },
]

function buildVectors (): SignatureVector[] {
  return cases.map((c, i) => {
    const timestamp = BASE_TIMESTAMP_MS + i * 1_001
    return { ...c, timestamp, expectedHeaders: signHeaders(c.method, c.secret, c.body, timestamp, c.messageId) }
  })
}

const text = `${JSON.stringify(buildVectors(), null, 2)}\n`
if (process.argv.includes('--check')) {
  if (readFileSync(OUTPUT, 'utf8') !== text) {
    console.error(`${OUTPUT} is out of date; run scripts/gen-signature-vectors.ts`)
    process.exit(1)
  }
} else {
  writeFileSync(OUTPUT, text)
  console.log(`wrote ${cases.length} vectors to ${OUTPUT}`)
}
