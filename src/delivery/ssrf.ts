/**
 * The SSRF guard (docs/wire-format.md#delivery-policy): webhooks may only reach public unicast addresses, unless the
 * server runs with KEJUE_ALLOW_PRIVATE_NETWORKS=true.
 *
 * Two places use it:
 * - `checkDestination` at create time (the API answers 422): scheme, userinfo, length, an IP
 *   literal in any spelling, and a name whose addresses are internal (e.g. `localhost`).
 * - `createGuardedLookup` at send time, as the undici Agent's `connect.lookup`: the name is
 *   resolved once and the socket connects to exactly the addresses that were checked, so DNS
 *   rebinding between check and connect is not possible. IP literals never reach a lookup
 *   (Node skips it), so `http-client.ts` checks them itself with `isForbiddenHost`.
 */
import dns from 'node:dns'
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns'
import net from 'node:net'
import ipaddr from 'ipaddr.js'
import { DEFAULTS } from '../config/defaults.js'

/** The one error string a refused destination gets, at create time and at send time. */
export const FORBIDDEN_DESTINATION_MESSAGE = 'destination address is not allowed (private, loopback or internal)'

/** `code` of the error our lookup fails with, so the HTTP client can tell it from a DNS failure. */
export const FORBIDDEN_DESTINATION_CODE = 'ERR_KEJUE_DESTINATION_FORBIDDEN'

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parse('2000::')

function embeddedIPv4 (high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
}

function isForbiddenIPv4 (ip: ipaddr.IPv4): boolean {
  // Everything ipaddr.js names (private, loopback, linkLocal, carrierGradeNat, unspecified =
  // 0.0.0.0/8, broadcast, multicast, reserved incl. documentation, benchmarking 198.18/15 and
  // 240/4, as112, amt) is refused; only plain 'unicast' is public.
  return ip.range() !== 'unicast'
}

function isForbiddenIPv6 (ip: ipaddr.IPv6): boolean {
  const parts = ip.parts
  const range = ip.range()
  switch (range) {
    // Forms that carry an IPv4 address the packet may end up at: judge that address.
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return isForbiddenIPv4(embeddedIPv4(parts[6] ?? 0, parts[7] ?? 0))
    case '6to4': // 2002:AABB:CCDD::/48
      return isForbiddenIPv4(embeddedIPv4(parts[1] ?? 0, parts[2] ?? 0))
    case 'rfc6052':
      // 64:ff9b::/96, the well-known NAT64 prefix: the IPv4 address is the last 32 bits.
      if (parts[2] === 0 && parts[3] === 0 && parts[4] === 0 && parts[5] === 0) {
        return isForbiddenIPv4(embeddedIPv4(parts[6] ?? 0, parts[7] ?? 0))
      }
      // 64:ff9b:1::/48 is the local-use NAT64 prefix (RFC 8215): where the IPv4 address sits
      // depends on the operator's prefix length, and it is local by definition. Refuse.
      return true
    case 'unicast':
      break
    // loopback, unspecified, linkLocal, uniqueLocal, multicast, deprecatedSiteLocal (fec0::/10),
    // teredo (2001::/32: the IPv4 server/client are obfuscated and can be anything), discard,
    // benchmarking, reserved (2001:db8::/32 documentation, 2001::/23, 3fff::/20), orchid, amt,
    // as112v6, segmentRouting, ...
    default:
      return true
  }
  // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291): ipaddr.js calls it 'unicast'.
  if (parts.slice(0, 6).every((p) => p === 0)) {
    return isForbiddenIPv4(embeddedIPv4(parts[6] ?? 0, parts[7] ?? 0))
  }
  // Only 2000::/3 is allocated as global unicast; anything else is reserved by IANA.
  return !ip.match(GLOBAL_UNICAST_V6, 3)
}

/**
 * True when `ip` (a textual IPv4 or IPv6 address, brackets allowed) is anything but a public
 * unicast address. Text that is not a strict IP address is forbidden too (fail closed).
 *
 * @example isForbiddenAddress('10.0.0.1') // true
 * @example isForbiddenAddress('8.8.8.8') // false
 */
export function isForbiddenAddress (ip: string): boolean {
  const text = bareHostname(ip)
  // net.isIP is strict (dotted-quad only), unlike ipaddr.parse, which also takes '127.1'.
  const family = net.isIP(text)
  if (family === 0) return true
  try {
    return family === 4
      ? isForbiddenIPv4(ipaddr.IPv4.parse(text))
      : isForbiddenIPv6(ipaddr.IPv6.parse(text))
  } catch {
    return true // fail closed on anything ipaddr.js cannot take apart
  }
}

/** A URL hostname as `new URL()` gives it, without the IPv6 brackets. */
export function bareHostname (hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
}

/**
 * True when `hostname` is an IP literal (brackets allowed) that is forbidden, or `localhost` or a
 * name under it (RFC 6761 reserves them for loopback), with or without the trailing dot. Other
 * names are false here: they are judged on what they resolve to.
 */
export function isForbiddenHost (hostname: string): boolean {
  const bare = bareHostname(hostname)
  if (net.isIP(bare) !== 0) return isForbiddenAddress(bare)
  const name = bare.toLowerCase().replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost')
}

export type DestinationCheck = { ok: true } | { ok: false, reason: string }

/**
 * The checks that need no network: http/https only, no userinfo, at most 2083 characters
 * (docs/api.md). Returns the parsed URL when it passes.
 */
export function checkUrlShape (url: string): { ok: true, url: URL } | { ok: false, reason: string } {
  if (url.length > DEFAULTS.limits.urlMaxLength) {
    return { ok: false, reason: `url must be at most ${DEFAULTS.limits.urlMaxLength} characters` }
  }
  // The WHATWG parser is lenient: it drops tabs and newlines, percent-encodes spaces, reads
  // `http:///x` and `http:\\x` as host x. A URL is stored and sent exactly as given, so anything
  // it would have to repair is refused instead.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u0020\u007f\\]/.test(url)) {
    return { ok: false, reason: 'url must not contain spaces, control characters (CR, LF, NUL, tab) or backslashes' }
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, reason: 'url is not a valid absolute URL' }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: 'url must use http or https' }
  }
  if (!/^https?:\/\/[^/?#]/i.test(url)) {
    return { ok: false, reason: 'url must have a host right after http:// or https://' }
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'url must not contain a username or password' }
  }
  if (parsed.hostname === '') {
    return { ok: false, reason: 'url must have a host' }
  }
  return { ok: true, url: parsed }
}

/** Resolves a name to its addresses (all families). Injected in tests. */
export type ResolveHost = (hostname: string) => Promise<string[]>

export const resolveWithSystem: ResolveHost = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true })
  return answers.map((a) => a.address)
}

export interface CheckDestinationOptions {
  /** KEJUE_ALLOW_PRIVATE_NETWORKS: when true only the shape checks run. */
  allowPrivateNetworks: boolean
  /** @defaultValue the system resolver (dns.lookup, as sockets use) */
  resolve?: ResolveHost
}

/**
 * Create-time validation of a webhook URL (docs/wire-format.md#delivery-policy: a 422 for an internal address "in any of
 * its spellings, or with a name such as `localhost` that resolves only to such addresses").
 *
 * The WHATWG URL parser has already turned `http://2130706433/`, `http://0x7f.1/` and
 * `http://127.1/` into `127.0.0.1`, so a literal check after parsing catches every spelling.
 *
 * A name is refused when ANY of its addresses is forbidden: the send-time guard refuses such a
 * name as a whole, so accepting it would create a webhook that can never deliver. A DNS failure
 * is NOT a refusal: the name may be published later, and every send is checked again anyway.
 *
 * @example await checkDestination('http://localhost/hook', { allowPrivateNetworks: false })
 *   // { ok: false, reason: 'destination address is not allowed (private, loopback or internal)' }
 */
export async function checkDestination (url: string, options: CheckDestinationOptions): Promise<DestinationCheck> {
  const shape = checkUrlShape(url)
  if (!shape.ok) return shape
  if (options.allowPrivateNetworks) return { ok: true }

  const host = bareHostname(shape.url.hostname)
  if (isForbiddenHost(host)) return { ok: false, reason: FORBIDDEN_DESTINATION_MESSAGE }
  if (net.isIP(host) !== 0) return { ok: true }
  let addresses: string[]
  try {
    addresses = await (options.resolve ?? resolveWithSystem)(host)
  } catch {
    return { ok: true }
  }
  if (addresses.some((a) => isForbiddenAddress(a))) {
    return { ok: false, reason: FORBIDDEN_DESTINATION_MESSAGE }
  }
  return { ok: true }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/** The one form of `dns.lookup` the guard calls; `dns.lookup` itself fits. Injected in tests. */
export type LookupAll = (
  hostname: string,
  options: { all: true, verbatim: boolean },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

/** The error the guard fails a connection with; `code` is FORBIDDEN_DESTINATION_CODE. */
export function forbiddenDestinationError (): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(FORBIDDEN_DESTINATION_MESSAGE)
  err.code = FORBIDDEN_DESTINATION_CODE
  return err
}

/**
 * A `lookup` for net/tls.connect (undici's `connect` options). It resolves every address of the
 * name and, when `refuseForbidden` is set, fails the whole name if any of them is forbidden;
 * otherwise it hands exactly the checked addresses to the socket. Handles both `all: true`
 * (Node's autoSelectFamily) and single answers.
 */
export function createGuardedLookup (options: { refuseForbidden: boolean, resolve?: LookupAll }) {
  const resolve: LookupAll = options.resolve ?? dns.lookup
  return function guardedLookup (hostname: string, lookupOptions: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
    resolve(hostname, { all: true, verbatim: true }, (err, answers) => {
      if (err !== null) {
        callback(err, [])
        return
      }
      if (options.refuseForbidden && answers.some((a) => isForbiddenAddress(a.address))) {
        callback(forbiddenDestinationError(), [])
        return
      }
      const wanted = lookupOptions.family
      const family = wanted === 4 || wanted === 'IPv4' ? 4 : wanted === 6 || wanted === 'IPv6' ? 6 : 0
      const usable = family === 0 ? answers : answers.filter((a) => a.family === family)
      const first = usable[0]
      if (first === undefined) {
        const notFound: NodeJS.ErrnoException = new Error('no address for the host')
        notFound.code = 'ENOTFOUND'
        callback(notFound, [])
        return
      }
      if (lookupOptions.all === true) callback(null, usable)
      else callback(null, first.address, first.family)
    })
  }
}
