import { CaptureError } from '../../engine/collect/capture/captureErrors';
import { CaptureSummary, type CaptureReport } from '../../engine/collect/capture/captureSummary';
import { defaultCaptureInterface } from '../../engine/collect/capture/interfaces';
import { openLiveCapture } from '../../engine/collect/capture/liveCapture';
import { currentLocalAddresses } from '../../engine/collect/capture/localAddresses';
import { UsageError, type Command, type CommandContext } from '../command';

const MAX_SECONDS = 24 * 3600;

export interface CaptureTotals {
  iface: string;
  filter: string;
  seconds: number;
  /** Every frame libpcap delivered, malformed ones included. */
  packets: number;
  bytes: number;
  flows: number;
  /** Names asked and answered, each once, in order of first sight. */
  dns: string[];
  malformed: number;
  /** Kernel drops (pcap_stats through Portent's patch to cap); null when none was read. */
  dropped: number | null;
}

function secondsOption(ctx: CommandContext): number {
  const raw = ctx.values.seconds;
  if (raw === undefined) throw new UsageError('--seconds N is required');
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_SECONDS) {
    throw new UsageError(`--seconds must be a number of seconds above 0 and at most ${MAX_SECONDS}; got '${String(raw)}'`);
  }
  return n;
}

export function totalsOf(report: CaptureReport, iface: string, filter: string, seconds: number): CaptureTotals {
  const { flows, unattributed, overflow } = report.flows;
  const names = new Set<string>();
  for (const e of report.dns) {
    for (const q of e.dns.queries) names.add(q);
    for (const a of e.dns.answers) names.add(a.name);
  }
  return {
    iface,
    filter,
    seconds,
    packets: report.counters.seen,
    bytes: flows.reduce((n, f) => n + f.bytes, 0) + unattributed.bytes + overflow.bytes,
    flows: flows.length,
    dns: [...names],
    malformed: report.counters.malformed,
    dropped: report.counters.kernelDrops,
  };
}

function defaultInterface(): string {
  const chosen = defaultCaptureInterface();
  if (chosen) return chosen.name;
  throw new CaptureError('no-default-interface', null, 'packet capture is off: no default interface (no default route and no non-loopback interface); name one with --iface');
}

/** Resolves after `ms`, or at the first SIGINT (Ctrl-C ends the capture early, not the report). */
function captureTime(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    process.on('SIGINT', done);
  });
}

export const captureCommand: Command = {
  name: 'capture',
  summary: 'Capture on an interface for N seconds and print what crossed it (nothing is stored)',
  usage: '--seconds N [--iface NAME] [--filter BPF] [--json]',
  options: { iface: { type: 'string' }, seconds: { type: 'string' }, filter: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx) {
    const seconds = secondsOption(ctx);
    const filter = typeof ctx.values.filter === 'string' ? ctx.values.filter : '';
    const requested = typeof ctx.values.iface === 'string' ? ctx.values.iface : undefined;
    let iface: string;
    let summary: CaptureSummary;
    let capture: ReturnType<typeof openLiveCapture>;
    try {
      // openLiveCapture itself refuses an unknown name with the list of real ones.
      iface = requested ?? defaultInterface();
      const s = new CaptureSummary(currentLocalAddresses(), Date.now(), { maxPackets: 0 });
      summary = s;
      capture = openLiveCapture({ iface, filter, onBatch: (b) => s.add(b) });
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      ctx.stderr.write(`portent capture: ${e.message}\n`);
      return e.kind === 'bad-filter' ? 2 : 1;
    }
    // On stderr, so --json output stays clean; scripts (and the tests) wait for it before sending.
    ctx.stderr.write(`capturing on ${iface} for ${seconds} s\n`);
    await captureTime(seconds * 1000);
    capture.stop();
    const totals = totalsOf(summary.take(Date.now(), capture.counters()), iface, filter, seconds);
    if (ctx.values.json) {
      ctx.stdout.write(JSON.stringify(totals, null, 2) + '\n');
      return 0;
    }
    ctx.stdout.write(
      [
        `${totals.packets} packets, ${totals.bytes} bytes, ${totals.flows} flows on ${iface} in ${seconds} s${filter ? ` (filter: ${filter})` : ''}`,
        `malformed: ${totals.malformed}; kernel drops: ${totals.dropped ?? 'unknown (the capture library cannot read them)'}`,
        `DNS names: ${totals.dns.join(', ') || '(none)'}`,
      ].join('\n') + '\n',
    );
    return 0;
  },
};
