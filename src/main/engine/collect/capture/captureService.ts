/**
 * The capture process's side: opens the live capture, folds packets into interval summaries
 * and sends one report per interval. Runs in its own process because cap can only live on a
 * process's main loop and holds that loop for as long as packets keep coming.
 */
import { CaptureError } from './captureErrors';
import type { CaptureStartOptions, ChildMessage, ParentMessage } from './captureProtocol';
import { CaptureSummary } from './captureSummary';
import { openHelperCapture, openLiveCapture, type LiveCapture, type PacketBatch } from './liveCapture';
import { currentLocalAddresses } from './localAddresses';

export interface Channel {
  send(message: ChildMessage): void;
  onMessage(listener: (message: ParentMessage) => void): void;
  /** The parent went away: stop and let the process end. */
  onClose(listener: () => void): void;
}

const DEFAULT_REPORT_INTERVAL_MS = 10_000;

export function serveCapture(channel: Channel): void {
  let capture: LiveCapture | null = null;
  let summary: CaptureSummary | null = null;
  let timer: NodeJS.Timeout | null = null;

  const report = (): void => {
    if (!capture || !summary) return;
    capture.flush();
    channel.send({ type: 'report', report: summary.take(Date.now(), capture.counters()) });
    // Addresses come and go (DHCP, VPN); reclassify from the next interval on.
    summary.setLocalAddresses(currentLocalAddresses());
  };

  const stop = async (): Promise<void> => {
    if (timer) clearInterval(timer);
    timer = null;
    const c = capture;
    if (c) {
      await c.stop();
      report();
    }
    capture = null;
    channel.send({ type: 'stopped' });
  };

  let opening = false;
  const start = async (o: CaptureStartOptions): Promise<void> => {
    const s = new CaptureSummary(currentLocalAddresses(), Date.now(), { maxFlows: o.maxFlows, maxDnsEvents: o.maxDnsEvents, maxPackets: o.maxPackets });
    const options = { iface: o.iface, filter: o.filter, snaplen: o.snaplen, bufferSize: o.bufferSize, onBatch: (b: PacketBatch) => s.add(b) };
    let opened: LiveCapture;
    try {
      opened = o.helper
        ? await openHelperCapture(o.helper, {
            ...options,
            // The helper died while capturing: say why and end, so the engine starts capture again.
            onFailure: (message) => {
              if (timer) clearInterval(timer);
              timer = null;
              capture = null;
              channel.send({ type: 'failed', message });
            },
          })
        : openLiveCapture(options);
    } catch (e) {
      if (e instanceof CaptureError) channel.send({ type: 'off', state: e.toState() });
      else channel.send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    capture = opened;
    summary = s;
    const every = o.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS;
    // The monitor asks at each round instead, so that one report covers exactly one round.
    if (every > 0) timer = setInterval(report, every);
    channel.send({ type: 'started', iface: opened.iface, filter: opened.filter, linkType: opened.linkType, snaplen: opened.snaplen });
  };

  channel.onMessage((message) => {
    if (message.type === 'stop') return void stop();
    if (message.type === 'report') return report();
    if (capture || opening) return;
    opening = true;
    void start(message.options).finally(() => (opening = false));
  });

  channel.onClose(() => {
    if (timer) clearInterval(timer);
    void capture?.stop();
    capture = null;
  });
}
