import type { Logger } from '../log';

export type Trigger = 'schedule' | 'manual';

/**
 * A unit of work that never overlaps itself. A scheduled tick that finds the previous run still
 * going is skipped and logged; a manual request is refused the same way, so the caller can say
 * so politely. Errors are logged and rethrown to the caller of `run`, never left unhandled.
 */
export class Job<T> {
  private current: Promise<T> | null = null;
  private skipped = 0;

  constructor(
    readonly name: string,
    private readonly work: (trigger: Trigger) => Promise<T>,
    private readonly log: Logger,
  ) {}

  get busy(): boolean {
    return this.current !== null;
  }

  /** Runs the job, or returns null at once when a run is already in progress. */
  run(trigger: Trigger): Promise<T> | null {
    if (this.current) {
      this.skipped += 1;
      this.log.warn(`${this.name} still running; ${trigger === 'schedule' ? 'tick skipped' : 'request refused'}`, { job: this.name, trigger, skipped: this.skipped });
      return null;
    }
    const started = Date.now();
    const run = (async () => {
      try {
        return await this.work(trigger);
      } catch (err) {
        this.log.error(`${this.name} failed`, { job: this.name, trigger, error: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        this.log.debug(`${this.name} finished`, { job: this.name, trigger, ms: Date.now() - started });
        this.current = null;
      }
    })();
    this.current = run;
    return run;
  }

  /** Resolves once no run is in progress (whatever its outcome). */
  async idle(): Promise<void> {
    while (this.current) await this.current.catch(() => undefined);
  }
}
