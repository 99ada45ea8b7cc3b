/**
 * The call outcomes the sandbox simulates and their weights: a setting (KEJUE_SIMULATOR_OUTCOMES),
 * so it lives with the configuration; the simulator draws from it (simulator/outcomes.ts).
 */
export const CALL_OUTCOMES = ['completed', 'no_answer', 'busy', 'failed', 'voicemail'] as const
export type CallOutcome = (typeof CALL_OUTCOMES)[number]

export type OutcomeWeights = Record<CallOutcome, number>

/**
 * Roughly what an outbound campaign to a warm list sees. The spec's campaign.ended example
 * (420 completed, 50 no answer, 10 failed, 20 voicemail of 500) is of the same shape.
 */
export const DEFAULT_OUTCOME_WEIGHTS: OutcomeWeights = {
  completed: 0.6,
  no_answer: 0.18,
  busy: 0.07,
  failed: 0.05,
  voicemail: 0.1,
}

export function isCallOutcome (value: unknown): value is CallOutcome {
  return typeof value === 'string' && (CALL_OUTCOMES as readonly string[]).includes(value)
}

/**
 * Reads weights written as `completed=0.6,no_answer=0.2,busy=0.05,failed=0.05,voicemail=0.1`.
 * Outcomes not named keep their default weight; `name=0` turns one off. Throws a RangeError
 * saying what is wrong.
 */
export function parseOutcomeWeights (text: string): OutcomeWeights {
  const weights: OutcomeWeights = { ...DEFAULT_OUTCOME_WEIGHTS }
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = /^([a-z_]+)\s*=\s*([0-9]*\.?[0-9]+)$/.exec(part)
    if (match === null) throw new RangeError(`"${part}" is not outcome=weight`)
    const [, name, value] = match
    if (!isCallOutcome(name)) throw new RangeError(`"${String(name)}" is not one of ${CALL_OUTCOMES.join(', ')}`)
    weights[name] = Number(value)
  }
  if (!(Object.values(weights).reduce((sum, w) => sum + w, 0) > 0)) throw new RangeError('the weights must not all be 0')
  return weights
}
