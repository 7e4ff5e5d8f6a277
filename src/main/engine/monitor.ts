import os from 'node:os';
import { openDatabase, type Db } from './store/database';
import { RoundStore } from './store/rounds';
import { CaptureStore } from './store/captureStore';
import { CaptureFeed, type CaptureFeedOptions, type CaptureStatus } from './collect/capture/captureFeed';
import { collectRound, type CollectResult } from './collect/collectRound';
import { createSocketScanner } from './collect/sockets';
import type { SocketScanner } from './collect/sockets/types';
import { Job } from './schedule/job';
import { periodSchedule, roundSchedule, Scheduler } from './schedule/scheduler';
import { detectInWorker, type DetectionHandle } from './detect/detectInWorker';
import type { DetectionResult } from './detect/detector';
import { modelDirFor } from './paths';
import type { Logger } from './log';
import { PORTENT_VERSION } from '../../shared/version';
import type { Status } from '../../shared/contract';

export interface MonitorOptions {
  dbPath: string;
  migrationsDir?: string;
  log: Logger;
  /** Seconds between port-occupancy rounds: 60 in real use; shorter to compress time in tests. */
  roundSeconds?: number;
  scanner?: SocketScanner;
  /** Packet capture beside each round: on by default (default-route interface); false turns it off. */
  capture?: false | Omit<CaptureFeedOptions, 'log'>;
  /** Rounds between scheduled detections: 60 (hourly) in real use; fewer to compress time. */
  detectEvery?: number;
}

export type DetectOutcome = DetectionResult & { backendDetail: string };

interface Running {
  db: Db;
  scheduler: Scheduler;
  collect: Job<CollectResult>;
  detect: Job<DetectOutcome>;
  capture: CaptureFeed | null;
  startedAt: number;
}

const CAPTURE_DISABLED: CaptureStatus = { state: 'off', iface: null, message: 'packet capture is off: disabled in settings', remedy: [] };

/**
 * The long-lived engine that both shells run: owns the database and the scheduled jobs. It
 * imports nothing from Electron.
 */
export class Monitor {
  private state: Running | undefined;
  private detection: DetectionHandle | null = null;

  constructor(private readonly options: MonitorOptions) {}

  start(): void {
    if (this.state) return;
    const { log } = this.options;
    const roundSeconds = this.options.roundSeconds ?? 60;
    const detectEvery = this.options.detectEvery ?? 60;
    // Both validated before anything is opened. Detection runs half a round after its tick so
    // the round written at that tick is there to be scored.
    const schedule = roundSchedule(roundSeconds);
    const detectSchedule = periodSchedule(roundSeconds * detectEvery, roundSeconds / 2);
    const db = openDatabase(this.options.dbPath, { migrationsDir: this.options.migrationsDir });
    const store = new RoundStore(db);
    const scanner = this.options.scanner ?? createSocketScanner();
    const host = os.hostname();
    const capture = this.options.capture === false ? null : new CaptureFeed({ ...this.options.capture, log });
    const captureStore = new CaptureStore(db);
    const collect = new Job(
      'collect',
      async () => {
        // Asked for at the round's start, so the report's interval ends where the round begins.
        const traffic = capture?.take();
        const result = await collectRound({ scanner, store, host, log });
        // A second transaction: a crash between the two loses this round's traffic, nothing more.
        if (traffic) captureStore.record(result.roundId, await traffic);
        return result;
      },
      log,
    );
    const detect = new Job('detect', (trigger) => this.runDetection(trigger), log);
    void capture?.start();
    const scheduler = new Scheduler(log);
    scheduler.add(schedule, collect);
    scheduler.add(detectSchedule, detect);
    this.state = { db, scheduler, collect, detect, capture, startedAt: Date.now() };
    log.info('monitor started', {
      version: PORTENT_VERSION,
      db: this.options.dbPath,
      schema: db.pragma('user_version', { simple: true }),
      host,
      roundSeconds,
      detectEvery,
    });
  }

  /** One detection in its worker thread; the same job serves the schedule and detectNow(). */
  private async runDetection(trigger: 'schedule' | 'manual'): Promise<DetectOutcome> {
    const { dbPath, migrationsDir, log } = this.options;
    const handle = detectInWorker({ dbPath, migrationsDir, modelDir: modelDirFor(dbPath), options: { trigger } }, log);
    this.detection = handle;
    try {
      const r = await handle.result;
      log.debug('detection job done', {
        trigger,
        roundsScored: r.roundsScored,
        incidents: r.incidents.length,
        learning: r.learning.learning,
        roundsTrained: r.learning.roundsTrained,
        backend: r.backend,
      });
      return r;
    } finally {
      this.detection = null;
    }
  }

  /**
   * Runs the detection job now (the CLI, tray and window use this). Resolves to null, politely,
   * when a detection is already running or the monitor is stopped.
   */
  detectNow(): Promise<DetectOutcome> | null {
    return this.state ? this.state.detect.run('manual') : null;
  }

  get running(): boolean {
    return this.state !== undefined;
  }

  /** Runs a collection round now, outside the schedule; null when one is already running. */
  collectNow(): Promise<CollectResult> | null {
    return this.state ? this.state.collect.run('manual') : null;
  }

  /** Whether packet capture runs, on which interface, and if not why (for `status` and the UI). */
  captureStatus(): CaptureStatus {
    if (!this.state) return { state: 'off', iface: null, message: 'the monitor is not running', remedy: [] };
    return this.state.capture?.status ?? CAPTURE_DISABLED;
  }

  status(): Status {
    return {
      version: PORTENT_VERSION,
      monitoring: this.running,
      monitoringSince: this.state?.startedAt ?? null,
      database: this.options.dbPath,
    };
  }

  /**
   * Stops the schedule, lets a round in progress finish its transaction, then closes the
   * database. Safe to call twice.
   */
  async stop(): Promise<void> {
    const state = this.state;
    if (!state) return;
    this.state = undefined;
    await state.scheduler.stop();
    // A detection stops at its next batch boundary; what it scored is kept, the rest waits.
    this.detection?.cancel();
    await Promise.all([state.collect.idle(), state.detect.idle()]);
    await state.capture?.stop();
    state.db.close();
    this.options.log.info('monitor stopped');
  }
}
