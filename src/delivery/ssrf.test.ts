import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { LookupAddress } from 'node:dns'
import {
  FORBIDDEN_DESTINATION_CODE,
  FORBIDDEN_DESTINATION_MESSAGE,
  checkDestination,
  createGuardedLookup,
  isForbiddenAddress,
} from './ssrf.js'
import type { LookupAll, ResolveHost } from './ssrf.js'

test('address classification (table): only public unicast is allowed', () => {
  const table: Array<[string, boolean, string]> = [
    // IPv4
    ['8.8.8.8', false, 'public'],
    ['1.1.1.1', false, 'public'],
    ['93.184.216.34', false, 'public'],
    ['127.0.0.1', true, 'loopback'],
    ['127.255.255.254', true, 'loopback /8'],
    ['10.0.0.1', true, 'private 10/8'],
    ['172.16.5.4', true, 'private 172.16/12'],
    ['172.31.255.255', true, 'private 172.16/12, top'],
    ['172.32.0.1', false, 'just outside 172.16/12'],
    ['192.168.1.1', true, 'private 192.168/16'],
    ['169.254.169.254', true, 'link-local (cloud metadata)'],
    ['100.64.0.1', true, 'carrier-grade NAT'],
    ['100.127.255.255', true, 'carrier-grade NAT, top'],
    ['0.0.0.0', true, 'unspecified'],
    ['0.1.2.3', true, '0.0.0.0/8'],
    ['255.255.255.255', true, 'broadcast'],
    ['224.0.0.1', true, 'multicast'],
    ['239.255.255.250', true, 'multicast (SSDP)'],
    ['240.0.0.1', true, 'reserved 240/4'],
    ['192.0.0.8', true, 'IETF protocol assignments 192.0.0/24'],
    ['192.0.2.10', true, 'documentation TEST-NET-1'],
    ['198.51.100.7', true, 'documentation TEST-NET-2'],
    ['203.0.113.9', true, 'documentation TEST-NET-3'],
    ['198.18.0.1', true, 'benchmarking 198.18/15'],
    ['198.19.255.255', true, 'benchmarking 198.18/15, top'],
    // IPv6
    ['2606:4700::1111', false, 'public (Cloudflare)'],
    ['2001:4860:4860::8888', false, 'public (Google)'],
    ['::1', true, 'loopback'],
    ['::', true, 'unspecified'],
    ['fe80::1', true, 'link-local'],
    ['fe80::1%eth0', true, 'link-local with zone'],
    ['fc00::1', true, 'unique local'],
    ['fd12:3456::1', true, 'unique local'],
    ['fec0::1', true, 'site-local (deprecated)'],
    ['ff02::1', true, 'multicast'],
    ['::ffff:127.0.0.1', true, 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', true, 'IPv4-mapped loopback, hex'],
    ['::ffff:10.0.0.1', true, 'IPv4-mapped private'],
    ['::ffff:8.8.8.8', false, 'IPv4-mapped public'],
    ['::ffff:0:127.0.0.1', true, 'IPv4-translated (RFC 6145) loopback'],
    ['::127.0.0.1', true, 'IPv4-compatible loopback'],
    ['::10.1.1.1', true, 'IPv4-compatible private'],
    ['64:ff9b::7f00:1', true, 'NAT64 of loopback'],
    ['64:ff9b::a9fe:a9fe', true, 'NAT64 of 169.254.169.254'],
    ['64:ff9b::808:808', false, 'NAT64 of 8.8.8.8'],
    ['64:ff9b:1::1', true, 'local-use NAT64 prefix'],
    ['2002:7f00:1::', true, '6to4 of loopback'],
    ['2002:c0a8:101::1', true, '6to4 of 192.168.1.1'],
    ['2002:808:808::1', false, '6to4 of 8.8.8.8'],
    ['2001::1', true, 'Teredo'],
    ['2001:db8::1', true, 'documentation'],
    ['2001:2::1', true, 'benchmarking'],
    ['100::1', true, 'discard-only'],
    ['4000::1', true, 'outside 2000::/3 (unallocated)'],
    ['[::1]', true, 'bracketed'],
    // Not an address at all: fail closed.
    ['127.1', true, 'short form is not a strict address'],
    ['localhost', true, 'a name'],
    ['', true, 'empty'],
  ]
  assert.ok(table.length >= 30)
  for (const [ip, forbidden, why] of table) {
    assert.equal(isForbiddenAddress(ip), forbidden, `${ip} (${why})`)
  }
})

const noDns: ResolveHost = async () => {
  throw new Error('no DNS in this test')
}

test('create-time check refuses internal addresses in every spelling the URL parser accepts', async () => {
  const refused = [
    'http://127.0.0.1/hook',
    'http://2130706433/', // decimal
    'http://0x7f000001/', // hex
    'http://0x7f.1/', // hex, short
    'http://0177.0.0.1/', // octal
    'http://127.1/', // short
    'http://0/', // 0.0.0.0
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]:8080/x',
    'https://169.254.169.254/latest/meta-data/',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://api.localhost:3000/',
  ]
  for (const url of refused) {
    assert.deepEqual(await checkDestination(url, { allowPrivateNetworks: false, resolve: noDns }), { ok: false, reason: FORBIDDEN_DESTINATION_MESSAGE }, url)
  }
})

test('create-time check refuses bad shapes, with or without the private-network guard', async () => {
  const cases: Array<[string, string]> = [
    ['ftp://example.com/', 'url must use http or https'],
    ['javascript:alert(1)', 'url must use http or https'],
    ['file:///etc/passwd', 'url must use http or https'],
    ['http://user:pw@example.com/', 'url must not contain a username or password'],
    ['http://user@example.com/', 'url must not contain a username or password'],
    [`https://example.com/${'a'.repeat(3_000)}`, 'url must be at most 2083 characters'],
    ['example.com/hook', 'url is not a valid absolute URL'],
    ['', 'url is not a valid absolute URL'],
  ]
  for (const allowPrivateNetworks of [false, true]) {
    for (const [url, reason] of cases) {
      assert.deepEqual(await checkDestination(url, { allowPrivateNetworks, resolve: noDns }), { ok: false, reason }, url.slice(0, 60))
    }
  }
})

test('create-time check judges names by what they resolve to', async () => {
  const to = (addresses: string[]): ResolveHost => async () => addresses
  const check = (resolve: ResolveHost) => checkDestination('https://hooks.example.com/x', { allowPrivateNetworks: false, resolve })
  assert.deepEqual(await check(to(['93.184.216.34'])), { ok: true })
  assert.deepEqual(await check(to(['93.184.216.34', '2606:2800:220:1::'])), { ok: true })
  assert.deepEqual(await check(to(['10.0.0.5'])), { ok: false, reason: FORBIDDEN_DESTINATION_MESSAGE })
  assert.deepEqual(await check(to(['::1', '127.0.0.1'])), { ok: false, reason: FORBIDDEN_DESTINATION_MESSAGE })
  // Refused as a whole: the send-time guard would refuse every attempt to it.
  assert.deepEqual(await check(to(['93.184.216.34', '192.168.0.1'])), { ok: false, reason: FORBIDDEN_DESTINATION_MESSAGE })
  // A DNS failure is not a refusal: the name may be published later; sends are checked again.
  assert.deepEqual(await check(noDns), { ok: true })
})

test('with private networks allowed, internal destinations pass', async () => {
  for (const url of ['http://127.0.0.1:3000/hook', 'http://localhost/', 'http://[::1]/', 'http://10.0.0.1/']) {
    assert.deepEqual(await checkDestination(url, { allowPrivateNetworks: true, resolve: noDns }), { ok: true }, url)
  }
})

test('a public literal passes without any lookup', async () => {
  let looked = false
  const spy: ResolveHost = async () => {
    looked = true
    return []
  }
  assert.deepEqual(await checkDestination('https://8.8.8.8/hook', { allowPrivateNetworks: false, resolve: spy }), { ok: true })
  assert.deepEqual(await checkDestination('https://[2606:4700::1111]/hook', { allowPrivateNetworks: false, resolve: spy }), { ok: true })
  assert.equal(looked, false)
})

function lookupResult (
  answers: LookupAddress[],
  refuseForbidden: boolean,
  options: { all?: boolean, family?: number },
): Promise<{ err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number }> {
  const resolve: LookupAll = (_hostname, _options, callback) => callback(null, answers)
  const lookup = createGuardedLookup({ refuseForbidden, resolve })
  return new Promise((done) => {
    lookup('hooks.example.com', options.all === true ? { all: true, family: options.family } : { family: options.family }, (err, address, family) => {
      done({ err, address, family })
    })
  })
}

test('the connect-time lookup refuses a whole name when any address is forbidden', async () => {
  const mixed = [{ address: '93.184.216.34', family: 4 }, { address: '::1', family: 6 }]
  const refused = await lookupResult(mixed, true, { all: true })
  assert.equal(refused.err?.code, FORBIDDEN_DESTINATION_CODE)
  assert.equal(refused.err?.message, FORBIDDEN_DESTINATION_MESSAGE)
  // Even when the socket only wants the (public) IPv4 answer.
  assert.equal((await lookupResult(mixed, true, { family: 4 })).err?.code, FORBIDDEN_DESTINATION_CODE)

  const publicOnly = [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::', family: 6 }]
  assert.deepEqual(await lookupResult(publicOnly, true, { all: true }), { err: null, address: publicOnly, family: undefined })
  assert.deepEqual(await lookupResult(publicOnly, true, {}), { err: null, address: '93.184.216.34', family: 4 })
  assert.deepEqual(await lookupResult(publicOnly, true, { family: 6 }), { err: null, address: '2606:2800:220:1::', family: 6 })
  // Guard off: internal answers go through.
  assert.deepEqual(await lookupResult(mixed, false, {}), { err: null, address: '93.184.216.34', family: 4 })
})
