/**
 * What a simulated call turns out to be: its status (spec: call.ended status table), how long it
 * rings and lasts, why it ended, and for a conversation its transcript and post-call analysis.
 * Everything is drawn from a `Random`, so the same seed gives the same calls.
 */
import { DEFAULT_OUTCOME_WEIGHTS } from '../config/outcome-weights.js'
import type { CallOutcome, OutcomeWeights } from '../config/outcome-weights.js'
import type { Random } from './random.js'
import { pickWeighted } from './random.js'

/** Outcomes that are dialled again (brief: no_answer and busy, up to max_attempts). */
export const RETRYABLE_OUTCOMES: ReadonlySet<CallOutcome> = new Set(['no_answer', 'busy'])

export function drawOutcome (random: Random, weights: OutcomeWeights = DEFAULT_OUTCOME_WEIGHTS): CallOutcome {
  return pickWeighted(random, weights)
}

export interface CallShape {
  outcome: CallOutcome
  /** Simulated ms from dialling to the line being answered, given up on, or failing. */
  ringMs: number
  /** Talk (or voicemail message) time in whole seconds; 0 when nothing connected. */
  durationSeconds: number
  endedReason: string
  /** Simulated ms from the end of the call to its analysis (completed calls). */
  analysisMs: number
}

/** Draws the timing of a call with a known outcome. */
export function shapeCall (random: Random, outcome: CallOutcome): CallShape {
  const analysisMs = random.int(8, 40) * 1_000
  switch (outcome) {
    case 'completed':
      // Sales conversations: 40 s to 9 min, most of them a few minutes.
      return { outcome, ringMs: random.int(4, 18) * 1_000, durationSeconds: Math.round(40 + 500 * random.next() ** 2), endedReason: random.pick(['agent_hangup', 'customer_hangup', 'agent_hangup']), analysisMs }
    case 'voicemail':
      return { outcome, ringMs: random.int(15, 30) * 1_000, durationSeconds: random.int(18, 45), endedReason: 'voicemail_detected', analysisMs }
    case 'no_answer':
      return { outcome, ringMs: random.int(25, 45) * 1_000, durationSeconds: 0, endedReason: 'customer_did_not_answer', analysisMs }
    case 'busy':
      return { outcome, ringMs: random.int(1, 4) * 1_000, durationSeconds: 0, endedReason: 'customer_busy', analysisMs }
    case 'failed':
      return { outcome, ringMs: random.int(1, 6) * 1_000, durationSeconds: 0, endedReason: random.pick(['sip_error', 'carrier_unavailable', 'invalid_number']), analysisMs }
  }
}

export interface Analysis {
  summary: string
  outcomeId: string
  score: number
  structuredData: Record<string, unknown>
  /** The contact's status after the call (call.analyzed `contact.status`). */
  contactStatus: string
}

const ANALYSES = [
  { outcomeId: 'interested', scores: [70, 95], summary: 'Discussed pricing plans and scheduled a demo for next week.' },
  { outcomeId: 'meeting_booked', scores: [80, 100], summary: 'Contact agreed to a meeting with an account executive.' },
  { outcomeId: 'callback_requested', scores: [45, 70], summary: 'Contact was busy and asked to be called back later this week.' },
  { outcomeId: 'not_interested', scores: [5, 35], summary: 'Contact is happy with their current provider and declined.' },
  { outcomeId: 'do_not_call', scores: [0, 10], summary: 'Contact asked not to be called again.' },
] as const

const PRODUCTS = ['Starter Plan', 'Growth Plan', 'Enterprise Plan'] as const
const BUDGETS = ['$100-250/mo', '$250-500/mo', '$500-1000/mo', '$1000+/mo'] as const

export function analyzeCall (random: Random): Analysis {
  const template = random.pick(ANALYSES)
  const positive = template.outcomeId === 'interested' || template.outcomeId === 'meeting_booked'
  return {
    summary: template.summary,
    outcomeId: template.outcomeId,
    score: random.int(template.scores[0], template.scores[1]),
    structuredData: positive
      ? { interested_product: random.pick(PRODUCTS), budget_range: random.pick(BUDGETS) }
      : { objection: template.outcomeId === 'callback_requested' ? 'timing' : 'not_a_fit' },
    contactStatus: template.outcomeId,
  }
}

export function transcriptFor (agentName: string, contactName: string | null, analysis: Analysis): string {
  const them = contactName ?? 'there'
  const lines = [
    `Agent: Hello ${them}, this is ${agentName} from Kejue. Do you have a minute?`,
    'Contact: Sure, what is this about?',
    `Agent: We help teams automate their phone outreach. ${analysis.summary}`,
    analysis.score >= 50 ? 'Contact: That sounds useful, let\'s do it.' : 'Contact: Thanks, but no thanks.',
    'Agent: Thank you for your time. Goodbye!',
  ]
  return lines.join('\n')
}

const FIRST = ['John', 'Maria', 'Wei', 'Aisha', 'Lucas', 'Priya', 'Sofia', 'Kenji', 'Amara', 'Noah'] as const
const LAST = ['Doe', 'Garcia', 'Chen', 'Khan', 'Silva', 'Patel', 'Rossi', 'Tanaka', 'Okafor', 'Smith'] as const

/** A plausible name and a US number in the 555 exchange that fiction uses. */
export function fakeContact (random: Random): { name: string, phone: string } {
  return {
    name: `${random.pick(FIRST)} ${random.pick(LAST)}`,
    phone: `+1415555${String(random.int(0, 9999)).padStart(4, '0')}`,
  }
}
