import { overlaps } from './evaluate';
import type { Incident } from './incidents';

/**
 * The simulated user of `bench/traffic.ts` (`portent_user`), as in bench/quality/user.ts. After
 * each hourly detection they look once at each incident they have not seen yet, and mark it
 * expected when
 *   - it overlaps no injected incident (they know what they did not do; the metrics' overlap rule,
 *     widened by the same tolerance after the incident's end),
 *   - it names a program, none of whose pids in the sentence belongs to an injected incident (an
 *     alert about traffic no program owns gives them nothing to recognise), and
 *   - that program (name and executable) was never marked before: a user marks a program once, so
 *     the figures with the user measure whether the model learns from one approval.
 */
export interface ReviewedTrafficAlert {
  start: number;
  end: number;
  process: { name: string | null; exe: string | null } | null;
  /** What the user reads: the sentence, with the pids it names. */
  sentence: string;
}

export class TrafficUser {
  private readonly marked = new Set<string>();
  readonly approvals: { start: number; program: string }[] = [];
  private readonly injectedPids: ReadonlySet<number>;

  constructor(private readonly incidents: readonly Incident[]) {
    this.injectedPids = new Set(incidents.flatMap((i) => [...(i.pid === null ? [] : [i.pid]), ...i.pids]));
  }

  /** Looks at one alert; true when the user marks it expected. */
  review(a: ReviewedTrafficAlert): boolean {
    if (!a.process || (a.process.name === null && a.process.exe === null)) return false;
    if (this.incidents.some((i) => overlaps(a, i))) return false;
    if (pidsIn(a.sentence).some((p) => this.injectedPids.has(p))) return false;
    const program = `${a.process.name ?? ''}|${a.process.exe ?? ''}`;
    if (this.marked.has(program)) return false;
    this.marked.add(program);
    this.approvals.push({ start: a.start, program: a.process.name ?? a.process.exe ?? '' });
    return true;
  }
}

/** The pids a sentence names: "python3 (pid 4121)", "(pids 10, 11, …)". */
export function pidsIn(sentence: string): number[] {
  const out: number[] = [];
  for (const m of sentence.matchAll(/\(pids? ([\d, …]+)\)/g)) for (const n of m[1]!.split(',')) if (/^\s*\d+\s*$/.test(n)) out.push(Number(n));
  return out;
}
