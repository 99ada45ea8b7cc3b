/**
 * fastify gives every request a child logger bound to its request id. Making one (pino's child:
 * bindings serialized, a logger object built) was ~1 % of an event's CPU, for a logger that a
 * request which succeeds never uses (successes are logged at debug, app.ts). This one makes the
 * child only when a line at an enabled level is logged through it, with the same bindings and
 * options.
 */
import type { FastifyBaseLogger } from 'fastify'

type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1]
type LogArgs = Parameters<FastifyBaseLogger['info']>

// pino's levels; a level named otherwise (custom) is always passed on to the real logger.
const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }

class LazyChildLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | null = null
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildOptions

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  #real (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options)
    return this.#child
  }

  /** False when a line at `level` would be dropped anyway: no child is made for it. */
  #wants (level: string): boolean {
    const threshold = LEVELS[this.level]
    return threshold === undefined || (LEVELS[level] ?? Infinity) >= threshold
  }

  get level (): string { return this.#child?.level ?? this.#options?.level ?? this.#parent.level }
  set level (level: string) { this.#real().level = level }
  fatal (...args: LogArgs): void { if (this.#wants('fatal')) this.#real().fatal(...args) }
  error (...args: LogArgs): void { if (this.#wants('error')) this.#real().error(...args) }
  warn (...args: LogArgs): void { if (this.#wants('warn')) this.#real().warn(...args) }
  info (...args: LogArgs): void { if (this.#wants('info')) this.#real().info(...args) }
  debug (...args: LogArgs): void { if (this.#wants('debug')) this.#real().debug(...args) }
  trace (...args: LogArgs): void { if (this.#wants('trace')) this.#real().trace(...args) }
  silent (): void {}
  child (bindings: Bindings, options?: ChildOptions): FastifyBaseLogger { return this.#real().child(bindings, options) }
}

/** fastify's `childLoggerFactory`: a request's logger, made on first use. */
export function lazyChildLogger (parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options)
}
