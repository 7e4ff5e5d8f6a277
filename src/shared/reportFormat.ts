import type { DailyReport, ReportSummary } from './contract';

/**
 * How the daily report reads, in one place for all its forms: the notification, the HTML and
 * text files, `portent report` and the window's Report view. Pure; no Node, no DOM.
 */

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1 incident, 3 new listeners" (and the programs that talked out for the first time, when any). */
export function reportHeadline(s: ReportSummary): string {
  const parts = [plural(s.incidents, 'incident', 'incidents'), plural(s.newListeners, 'new listener', 'new listeners')];
  if (s.newTalkers > 0) parts.push(plural(s.newTalkers, 'new program talking out', 'new programs talking out'));
  return parts.join(', ');
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (1 KB is 1024 bytes). */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${UNITS[u]}`;
}

/** 4_500_000 → "1 h 15 min"; under a minute → "0 min". */
export function formatSpan(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local "HH:MM". */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Local "YYYY-MM-DD HH:MM". */
export function formatStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(ms)}`;
}

/** A program as a person knows it: its name, else its executable, else that nobody could see it. */
export function ownerName(o: { process: string | null; exe: string | null }): string {
  return o.process ?? o.exe ?? 'an unknown program';
}

/** "93.184.216.34:443 (example.com)"; an IPv6 address in brackets. */
export function endpointName(e: { address: string; port: number | null; name: string | null }): string {
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  const at = e.port === null || e.port === 0 ? host : `${host}:${e.port}`;
  return e.name ? `${at} (${e.name})` : at;
}

/** What the model was doing, in a sentence. */
export function modelSentence(m: DailyReport['model']): string {
  const runs = `${plural(m.detections, 'detection', 'detections')} (${m.failedDetections} failed), ${plural(m.refits, 'refit', 'refits')}`;
  if (m.state === 'none') return `No model trained yet; ${runs}.`;
  const backend = m.backend ? ` on ${m.backend}` : '';
  if (m.state === 'learning') return `Learning: ${m.roundsSeen} of ${m.roundsNeeded} rounds seen (model version ${m.version}${backend}), so nothing alerts yet; ${runs}.`;
  return `Ready: model version ${m.version}${backend}, threshold ${m.threshold === null ? 'none' : m.threshold.toPrecision(3)}, ${m.roundsSeen} rounds seen; ${runs}.`;
}

/** How capture fared, in a sentence. */
export function captureSentence(c: DailyReport['capture']): string {
  const drops = c.kernelDrops === null ? 'kernel drops unknown' : plural(c.kernelDrops, 'packet dropped by the kernel', 'packets dropped by the kernel');
  const off = c.roundsCaptured === c.rounds ? 'capture on for every round' : `capture off for ${formatSpan(c.captureOffMs)}`;
  return `${plural(c.rounds, 'round', 'rounds')} recorded, ${off}; monitor not recording for ${formatSpan(c.monitorOffMs)}; ${plural(c.packetsSeen, 'packet', 'packets')} seen, ${drops}.`;
}

/** What the cleanups of the period removed, in a sentence. */
export function cleanupSentence(d: DailyReport['database']): string {
  if (d.cleanups.length === 0) return `Database ${formatBytes(d.bytes)}; no cleanup ran in the period.`;
  const sum = (k: keyof DailyReport['database']['cleanups'][number]['removed']) => d.cleanups.reduce((n, c) => n + c.removed[k], 0);
  const removed = [
    plural(sum('roundPorts'), 'round socket row', 'round socket rows'),
    plural(sum('connections'), 'connection span', 'connection spans'),
    plural(sum('packets'), 'packet', 'packets'),
    plural(sum('flows'), 'flow', 'flows'),
    plural(sum('trafficWindows'), 'traffic window', 'traffic windows'),
    plural(sum('reportFiles'), 'report file', 'report files'),
  ].join(', ');
  const failed = d.cleanups.filter((c) => c.status === 'failed').length;
  return `Database ${formatBytes(d.bytes)}; ${plural(d.cleanups.length, 'cleanup', 'cleanups')} removed ${removed}${failed > 0 ? ` (${failed} failed)` : ''}.`;
}

const GAP_WORDS: Record<DailyReport['capture']['gaps'][number]['reason'], string> = {
  failed: 'rounds failed',
  paused: 'monitoring paused',
  stopped: 'the monitor was stopped',
  'no-history': 'before the oldest round kept',
  unknown: 'no rounds: stopped, paused or asleep',
};

/** Why Portent recorded nothing for a while, in words. */
export function gapReason(g: DailyReport['capture']['gaps'][number]): string {
  return g.detail ? `${GAP_WORDS[g.reason]} (${g.detail})` : GAP_WORDS[g.reason];
}
