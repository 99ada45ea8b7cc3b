/**
 * `kejue-webhooks trigger <event-type>`: sends a realistic sample event through a running service
 * (POST /api/v1/events, like `stripe trigger`), so every webhook subscribed to it gets a delivery.
 * Ids are fresh for each trigger, so a sample never lands on an earlier call's inline webhooks.
 *
 * @example kejue-webhooks trigger call.ended --workspace-key kw_… --url http://127.0.0.1:8080
 */
import type { Command } from 'commander'
import { request } from 'undici'
import { EVENT_TYPES, isEventType } from '../../events/event-types.js'
import type { EventType } from '../../events/event-types.js'
import { samplePayload } from '../../events/samples.js'
import { newId } from '../../util/ids.js'

export interface TriggerFlags {
  workspaceKey?: string
  url: string
  data?: string
  personaId?: string
}

/** Fresh ids for the sample's call or campaign, and the persona when one is given. */
export function triggerOverrides (type: EventType, personaId: string | undefined): Record<string, unknown> {
  const persona = personaId === undefined ? {} : { persona_id: personaId }
  if (type === 'call.analyzed') return { call: { id: newId('job') }, ...persona }
  if (type.startsWith('call.')) return { job_id: newId('job'), conversation_id: newId('conv'), ...persona }
  return { campaign_id: newId('camp'), ...persona }
}

function fail (message: string, exitCode = 1): void {
  process.stderr.write(`kejue-webhooks trigger: ${message}\n`)
  process.exitCode = exitCode
}

export async function runTrigger (eventType: string, flags: TriggerFlags): Promise<void> {
  if (!isEventType(eventType)) return fail(`unknown event type "${eventType}"; one of ${EVENT_TYPES.join(', ')}`, 2)
  const key = flags.workspaceKey ?? process.env.KEJUE_API_KEY
  if (key === undefined || key === '') return fail('a workspace API key is needed: --workspace-key kw_… or KEJUE_API_KEY', 2)
  let extra: Record<string, unknown> = {}
  if (flags.data !== undefined) {
    try {
      const parsed: unknown = JSON.parse(flags.data)
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
      extra = parsed as Record<string, unknown>
    } catch {
      return fail('--data must be a JSON object, merged into the sample', 2)
    }
  }
  const data = samplePayload(eventType, { ...triggerOverrides(eventType, flags.personaId), ...extra })
  const base = flags.url.replace(/\/+$/, '')
  let res
  try {
    res = await request(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ event: eventType, data }),
    })
  } catch (err) {
    return fail(`cannot reach ${base}: ${err instanceof Error ? err.message : String(err)} (is \`kejue-webhooks serve\` running?)`)
  }
  const text = await res.body.text()
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    // Reported below with the status.
  }
  if (res.statusCode !== 202) {
    const why = typeof body.error === 'string' ? `${body.error} (${String(body.code)})` : text.slice(0, 200)
    return fail(`the service answered ${res.statusCode}: ${why}`)
  }
  process.stdout.write(`Triggered ${eventType} ${String(body.event_id)} → ${String(body.deliveries)} ${body.deliveries === 1 ? 'delivery' : 'deliveries'}\n`)
}

export function registerTrigger (program: Command): void {
  program
    .command('trigger')
    .description('send a sample event of a type through a running service (POST /api/v1/events)')
    .argument('<event-type>', `one of ${EVENT_TYPES.join(', ')}`)
    .option('--workspace-key <key>', 'workspace API key (or KEJUE_API_KEY)')
    .option('--url <url>', 'the service', process.env.KEJUE_URL ?? 'http://127.0.0.1:8080')
    .option('--data <json>', 'JSON object merged into the sample data')
    .option('--persona-id <id>', 'persona the event belongs to (routes persona-scoped webhooks)')
    .action(async (eventType: string, flags: TriggerFlags) => {
      await runTrigger(eventType, flags)
    })
}
