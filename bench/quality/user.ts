import { legitServiceOf, type Injected } from './generator';
import { hits, type Span } from './evaluate';

/**
 * The simulated user of `bench/quality.ts --user on`. After each hourly detection they look at
 * the alerts they have not looked at yet. They mark one as expected when
 *   - it overlaps no injected incident (they know what they did not do; same overlap rule as the
 *     metrics, widened by the tolerance after the incident's end),
 *   - every port its explanation names belongs to a legitimate service of the generator (owner
 *     fields, when given, must match the service's: an impostor on 22/tcp is not sshd), and
 *   - at least one of those services has never been marked before: a user marks a service once,
 *     so later alerts about it only are not marked. That measures whether a detector learns from
 *     one approval.
 * An alert with no named port is not marked (there is nothing to recognise).
 */
export interface ReviewedPort {
  proto: 'tcp' | 'udp';
  port: number;
  process: string | null;
  exe: string | null;
}

export interface ReviewedAlert extends Span {
  ports: readonly ReviewedPort[];
}

export interface Approval {
  start: number;
  services: string[];
}

export class SimulatedUser {
  private readonly marked = new Set<string>();
  readonly approvals: Approval[] = [];

  constructor(
    private readonly injected: readonly Injected[],
    private readonly serviceOf: (proto: 'tcp' | 'udp', port: number, process: string | null, exe: string | null) => string | null = legitServiceOf,
    private readonly toleranceMs?: number,
  ) {}

  /** Looks at one alert; true when the user marks it expected. */
  review(alert: ReviewedAlert): boolean {
    if (alert.ports.length === 0) return false;
    if (this.injected.some((i) => hits(alert, i, this.toleranceMs))) return false;
    const services = new Set<string>();
    for (const p of alert.ports) {
      const s = this.serviceOf(p.proto, p.port, p.process, p.exe);
      if (s === null) return false;
      services.add(s);
    }
    const fresh = [...services].filter((s) => !this.marked.has(s));
    if (fresh.length === 0) return false;
    for (const s of services) this.marked.add(s);
    this.approvals.push({ start: alert.start, services: [...services].sort() });
    return true;
  }

  /** Services marked so far. */
  get services(): string[] {
    return [...this.marked].sort();
  }
}
