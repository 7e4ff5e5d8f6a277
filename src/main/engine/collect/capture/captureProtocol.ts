/** Messages between the engine and its capture process. */
import type { CaptureOffState } from './captureErrors';
import type { CaptureReport } from './captureSummary';

export interface CaptureStartOptions {
  iface: string;
  filter?: string;
  snaplen?: number;
  bufferSize?: number;
  /** How often the capture process sends a report, ms; 0 for only when asked ({type: 'report'}). */
  reportIntervalMs?: number;
  maxFlows?: number;
  /** Packet header rows per report (see packetSample.ts). */
  maxPackets?: number;
  maxDnsEvents?: number;
  /**
   * The capture helper to open the capture with (helperSource.ts); the capture process then
   * needs no privilege. Absent: cap in the capture process itself.
   */
  helper?: string;
}

export type ParentMessage = { type: 'start'; options: CaptureStartOptions } | { type: 'report' } | { type: 'stop' };

export type ChildMessage =
  | { type: 'started'; iface: string; filter: string; linkType: number; snaplen: number }
  | { type: 'off'; state: CaptureOffState }
  | { type: 'report'; report: CaptureReport }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };
