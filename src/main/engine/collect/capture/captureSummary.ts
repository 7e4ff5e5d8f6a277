/**
 * What one reporting interval of capture amounts to: exact flows, every DNS message (names,
 * not bytes), counts of malformed frames by reason, and a bounded, prioritised sample of
 * packet headers (packetSample.ts). This is what leaves the capture process; a record of every
 * packet does not, because at 100k packets/s it would cost more to ship and store than to produce.
 */
import type { DecodedPacket, Malformed, MalformedReason } from './decode';
import type { DnsSummary } from './dns';
import { FlowTable, type FlowSnapshot, type LocalAddresses } from './flows';
import type { CaptureCounters, PacketBatch } from './liveCapture';
import { PacketSampler, type PacketSampleResult } from './packetSample';

export interface DnsEvent {
  ts: number;
  proto: string;
  srcAddr: string;
  dstAddr: string;
  srcPort: number | null;
  dstPort: number | null;
  dns: DnsSummary;
}

export interface CaptureReport {
  /** Start and end of the interval, ms since the epoch. */
  from: number;
  to: number;
  flows: FlowSnapshot;
  dns: DnsEvent[];
  /** DNS messages beyond maxDnsEvents, counted but not listed. */
  dnsOverflow: number;
  malformed: Partial<Record<MalformedReason, number>>;
  /** Header rows to store, bounded by maxPackets; `sample.seen` counts decoded packets of the interval. */
  sample: PacketSampleResult;
  /** Frames of this interval that could not be decoded. */
  malformedCount: number;
  /**
   * Totals since the capture started, except `kernelDrops`: the kernel's drops during this
   * interval (what a round records), null when they cannot be read.
   */
  counters: CaptureCounters;
}

// A DNS flood must not turn one report into megabytes.
const DEFAULT_MAX_DNS_EVENTS = 10_000;

export class CaptureSummary {
  private readonly flows: FlowTable;
  private dns: DnsEvent[] = [];
  private dnsOverflow = 0;
  private malformed: Partial<Record<MalformedReason, number>> = {};
  private malformedCount = 0;
  private from: number;
  private readonly maxDnsEvents: number;
  private readonly sampler: PacketSampler;
  /** Kernel drops since the capture started, as of the previous report. */
  private dropsBefore = 0;

  constructor(local: LocalAddresses, now: number, options: { maxFlows?: number; maxDnsEvents?: number; maxPackets?: number } = {}) {
    this.flows = new FlowTable(local, { maxFlows: options.maxFlows });
    this.sampler = new PacketSampler(options.maxPackets);
    this.from = now;
    this.maxDnsEvents = options.maxDnsEvents ?? DEFAULT_MAX_DNS_EVENTS;
  }

  setLocalAddresses(local: LocalAddresses): void {
    this.flows.setLocalAddresses(local);
  }

  add(batch: PacketBatch): void {
    const { packets } = batch;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i] as DecodedPacket;
      this.flows.add(p);
      this.sampler.add(p);
      if (p.dns) this.addDns(p, p.dns);
    }
    for (const m of batch.malformed as Malformed[]) this.malformed[m.reason] = (this.malformed[m.reason] ?? 0) + 1;
    this.malformedCount += batch.malformed.length;
  }

  /** Ends the interval at `now` and starts the next one. */
  take(now: number, counters: CaptureCounters): CaptureReport {
    const report: CaptureReport = {
      from: this.from,
      to: now,
      flows: this.flows.drain(),
      dns: this.dns,
      dnsOverflow: this.dnsOverflow,
      malformed: this.malformed,
      sample: this.sampler.take(),
      malformedCount: this.malformedCount,
      counters: { ...counters, kernelDrops: counters.kernelDrops === null ? null : counters.kernelDrops - this.dropsBefore },
    };
    if (counters.kernelDrops !== null) this.dropsBefore = counters.kernelDrops;
    this.malformedCount = 0;
    this.from = now;
    this.dns = [];
    this.dnsOverflow = 0;
    this.malformed = {};
    return report;
  }

  private addDns(p: DecodedPacket, dns: DnsSummary): void {
    if (this.dns.length >= this.maxDnsEvents) {
      this.dnsOverflow++;
      return;
    }
    this.dns.push({ ts: p.ts, proto: p.proto ?? '', srcAddr: p.srcAddr ?? '', dstAddr: p.dstAddr ?? '', srcPort: p.srcPort, dstPort: p.dstPort, dns });
  }
}
