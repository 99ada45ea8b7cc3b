/**
 * `--repeat N`: the same figures from N runs, one row each with the median and the spread.
 * This machine's speed drifts by ±15 % within minutes (docs/performance.md), so a single run's
 * figure says little; every closing note gives three runs' spread, and this prints it.
 */
import { digitsFor, median } from './phase.js'

/** One figure of one run, as its table printed it. */
export interface RunFigure {
  figure: string
  value: number
  unit: string
  /** value ÷ that run's baseline, for the figures compared with it. */
  ratio?: number
  goal?: string
}

function spread (values: readonly number[], digits: number): string {
  const show = (v: number): string => v.toFixed(digits)
  if (values.length === 1) return show(values[0] ?? Number.NaN)
  return `${show(median(values))} (${show(Math.min(...values))}–${show(Math.max(...values))})`
}

/**
 * The summary table's lines: per figure, in the order the first run reported them, the median and
 * the range of its values and of its ratios to the baseline, and each run's ratio in order (the
 * form a closing note quotes). A figure missing from some runs is summarized over those it has.
 */
export function summarize (runs: ReadonlyArray<readonly RunFigure[]>, title: string): string[] {
  const byFigure = new Map<string, RunFigure[]>()
  for (const run of runs) {
    for (const figure of run) {
      const seen = byFigure.get(figure.figure)
      if (seen === undefined) byFigure.set(figure.figure, [figure])
      else seen.push(figure)
    }
  }
  const lines = [
    `| ${title}, ${runs.length} runs | median (min–max) | ÷ baseline, median (min–max) | each run ÷ baseline | goal |`,
    '|---|---|---|---|---|',
  ]
  for (const [name, figures] of byFigure) {
    const first = figures[0]
    if (first === undefined) continue
    const digits = digitsFor(first.unit)
    const ratios = figures.flatMap((f) => f.ratio === undefined ? [] : [f.ratio])
    const ratioCells = ratios.length === 0
      ? ['', '']
      : [`${spread(ratios, 2)}×`, ratios.map((r) => r.toFixed(2)).join(' / ')]
    lines.push(`| ${name} | ${spread(figures.map((f) => f.value), digits)} ${first.unit} | ${ratioCells.join(' | ')} | ${first.goal ?? ''} |`)
  }
  return lines
}

/**
 * `--against`: this build ÷ the other, figure by figure, within each run — the two ran minutes
 * apart in turns, so a per-run quotient is steadier than a quotient of medians. Lines for the
 * figures that both builds reported in at least one run.
 */
export function compareBuilds (runs: ReadonlyArray<readonly RunFigure[]>, label: string): string[] {
  const quotients = new Map<string, number[]>()
  for (const run of runs) {
    const values = new Map(run.map((f) => [f.figure, f.value]))
    for (const figure of run) {
      if (figure.figure.startsWith(label)) continue
      const other = values.get(label + figure.figure)
      if (other === undefined || other === 0) continue
      const seen = quotients.get(figure.figure)
      if (seen === undefined) quotients.set(figure.figure, [figure.value / other])
      else seen.push(figure.value / other)
    }
  }
  const lines = [
    `| this build ÷ ${label.replace(/[[\]\s]/g, '')} build, ${runs.length} runs | median (min–max) | each run |`,
    '|---|---|---|',
  ]
  for (const [name, values] of quotients) lines.push(`| ${name} | ${spread(values, 3)} | ${values.map((v) => v.toFixed(3)).join(' / ')} |`)
  return lines
}
