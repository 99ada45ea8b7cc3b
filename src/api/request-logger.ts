/**
 * fastify gives every request a child logger bound to its request id. Making one (pino's child:
 * bindings serialized, a logger object built) was ~1 % of an event's CPU, for a logger that a
 * request which succeeds never uses (successes are logged at debug, app.ts). This one makes the
 * child only when something logs through it, with the same bindings and options.
 */
import type { FastifyBaseLogger } from 'fastify'

type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1]
type LogArgs = Parameters<FastifyBaseLogger['info']>

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

  get level (): string { return this.#child?.level ?? this.#options?.level ?? this.#parent.level }
  set level (level: string) { this.#real().level = level }
  fatal (...args: LogArgs): void { this.#real().fatal(...args) }
  error (...args: LogArgs): void { this.#real().error(...args) }
  warn (...args: LogArgs): void { this.#real().warn(...args) }
  info (...args: LogArgs): void { this.#real().info(...args) }
  debug (...args: LogArgs): void { this.#real().debug(...args) }
  trace (...args: LogArgs): void { this.#real().trace(...args) }
  silent (...args: LogArgs): void { this.#real().silent(...args) }
  child (bindings: Bindings, options?: ChildOptions): FastifyBaseLogger { return this.#real().child(bindings, options) }
}

/** fastify's `childLoggerFactory`: a request's logger, made on first use. */
export function lazyChildLogger (parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options)
}
