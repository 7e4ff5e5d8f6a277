import { EventEmitter } from 'node:events';
import os from 'node:os';
import { closeDatabase, openDatabase, type Db } from './store/database';
import { TRAFFIC_WINDOW_ROUNDS } from './traffic/trafficWindows';
import { RoundStore } from './store/rounds';
import { CaptureStore } from './store/captureStore';
import { IncidentLog, incidentLogFileOf } from './incidentLog';
import { SyslogForwarder, syslogTarget, type LogForwarder } from './syslogForwarder';
import { OtlpForwarder, otlpEndpoint } from './otlpForwarder';
import { ResolvedNames } from './store/resolvedNames';
import type { ConnectionEntry } from './collect/sockets/types';
import { SettingsStore } from './store/settingsStore';
import { markInterruptedRuns } from './store/interrupted';
import { CaptureFeed, type CaptureFeedOptions, type CaptureStatus } from './collect/capture/captureFeed';
import type { RoundCapture } from './store/captureStore';
import type { ChildLauncher } from './collect/capture/childLauncher';
import { chooseCaptureHelper, excessCapabilityWarning, helperVersionWarning } from './collect/capture/captureHelper';
import { collectRound, type CollectResult } from './collect/collectRound';
import { createSocketScanner } from './collect/sockets';
import type { SocketScanner } from './collect/sockets/types';
import { Job, type Trigger } from './schedule/job';
import { Scheduler } from './schedule/scheduler';
import { detectInWorker, type DetectionHandle } from './detect/detectInWorker';
import { CancelledError } from './detect/cancelled';
import type { DetectionResult } from './detect/detector';
import { DetectionStore, type IncidentRow } from './store/detectionStore';
import { CLIENT_UDP_PORTS, DEFAULT_EPHEMERAL_UDP } from './detect/features';
import { runCleanup, type CleanupResult } from './maintain/cleanup';
import { monitorPlan, samePlanPart, type CapturePlan, type MonitorPlan } from './monitorPlan';
import { detectionOptions } from './detectionOptions';
import { claimMonitorFile, releaseMonitorFile, writeMonitorState, type MonitorState } from './monitorFile';
import { readStatus } from './status';
import { RecordingHealth } from './recordingHealth';
import { modelDirFor } from './paths';
import { latestReportPeriod } from './report/reportPeriod';
import type { Logger } from './log';
import { PORTENT_VERSION } from '../../shared/version';
import type { ReportSummary, Status } from '../../shared/contract';
import { deliverPendingMail, runDueReport, type BuiltReport, type MailOutcome } from './report/dailyReport';
import { ReportStore } from './report/reportStore';

export interface MonitorOptions {
  dbPath: string;
  migrationsDir?: string;
  log: Logger;
  /** Seconds between port-occupancy rounds: 60 in real use; shorter to compress time in tests. */
  roundSeconds?: number;
  scanner?: SocketScanner;
  /**
   * Packet capture beside each round. Absent: as the settings say. false: off whatever the
   * settings say. An object: on, its fields winning over the settings.
   */
  capture?: false | Pick<CaptureFeedOptions, 'iface' | 'filter' | 'entry' | 'execArgv' | 'reportTimeoutMs' | 'restartAfterMs'>;
  /** Rounds between scheduled detections; absent: the `schedule.detectEveryMinutes` setting. */
  detectEvery?: number;
  /** How the capture process is started; a Node fork by default (the desktop shell passes its own). */
  captureLauncher?: ChildLauncher;
  /**
   * The capture helper, the one program that holds the right to capture (captureHelper.ts).
   * Absent: the installed one when there is one, else for root the one built with this
   * installation (chooseCaptureHelper); null or none: the capture process opens the capture
   * itself and needs that right.
   */
  captureHelper?: string | null;
  /**
   * The engine's wall clock (epoch ms): rounds' starts, the live state, snoozes and the capture
   * restart backoff read it. Tests step it back and forward to stand for an NTP step or a
   * suspend; lengths of time are measured on the monotonic clock. Date.now by default.
   */
  now?: () => number;
}

export type DetectOutcome = DetectionResult & { backendDetail: string };

export interface MonitorEvents {
  /** Something `status()` reports may have changed: a round, a detection, pause, snooze. */
  changed: [];
  /** Incidents a detection run opened, and extended ones a new listener joined. */
  incidents: [IncidentRow[]];
  /** The daily report was built (at its time, or made up at start): what the notification tells. */
  report: [ReportNotice];
}

export interface ReportNotice {
  day: string;
  trigger: 'schedule' | 'catch-up';
  summary: ReportSummary;
}

/** A receiver of incident events, and how its sending goes: one attempt at a time, backing off while it is down. */
interface Forwarding {
  receiver: 'syslog' | 'otlp';
  forwarder: LogForwarder;
  busy: boolean;
  failures: number;
  skip: number;
}

interface Running {
  db: Db;
  /** Incident events to the receivers the settings name (syslog.target, otlp.endpoint). */
  forwarders: Forwarding[];
  /** Every incident event as a JSON line, for log shippers (incidentLog.ts). */
  incidentLog: IncidentLog;
  settings: SettingsStore;
  settingsSeen: string;
  plan: MonitorPlan;
  scheduler: Scheduler;
  round: (traffic: Promise<RoundCapture | null> | undefined) => Promise<CollectResult>;
  collect: Job<CollectResult | null>;
  detect: Job<DetectOutcome | null>;
  /** Scores what waits right after a round that changed what listens (no refit): see afterRound. */
  score: Job<DetectOutcome | null>;
  /** Known UDP clients, whose kernel-numbered ports are no change; refreshed after each detection. */
  udpClients: ReadonlySet<number>;
  /** The last round's listening signature (and the client set it was taken with), so each round reads only its own. */
  /** The last round's listeners; `changed`: they differed from the round before it. */
  lastListening: { roundId: number; signature: string; clients: ReadonlySet<number>; changed?: boolean } | null;
  /** Rounds recorded since the last scoring was started: a traffic window completes every TRAFFIC_WINDOW_ROUNDS. */
  roundsSinceScore: number;
  cleanup: Job<CleanupResult>;
  /** The daily report, checked after every round and at start (report/dailyReport.ts). */
  report: Job<BuiltReport | null>;
  /** The day whose report was found done or built, so a round asks the database only once a day. */
  reportChecked: string | null;
  /** Report e-mails waiting: one attempt at a time, the next round first, then less often while the server fails. */
  mail: Job<MailOutcome>;
  mailRetry: { failures: number; skip: number };
  capture: CaptureFeed | null;
  /** Capture restarts and the last death, of capture processes before the current one. */
  captureRestarts: { restarts: number; lastFailure: { at: number; message: string } | null };
  /** Whether rounds are stored, or which fault keeps them from it (recordingHealth.ts). */
  recording: RecordingHealth;
  /** The monitor state file could not be written at the last try (warned once, not per round). */
  stateFileFailing: boolean;
  startedAt: number;
}

const CAPTURE_DISABLED: CaptureStatus = { state: 'off', iface: null, message: 'packet capture is off: disabled in settings', remedy: [] };
const CAPTURE_PAUSED: CaptureStatus = { state: 'off', iface: null, message: 'packet capture is off: monitoring is paused', remedy: [] };

/**
 * The long-lived engine that both shells run: owns the database and the scheduled jobs. It
 * imports nothing from Electron.
 */
export class Monitor extends EventEmitter<MonitorEvents> {
  private state: Running | undefined;
  private detection: DetectionHandle | null = null;
  private paused = false;
  /** The capture helper whose version was last checked (once per helper, not per capture start). */
  private helperChecked: string | null = null;
  private snoozedUntil: number | null = null;

  constructor(private readonly options: MonitorOptions) {
    super();
  }

  private readonly now = (): number => (this.options.now ?? Date.now)();

  /**
   * Opens the database, claims it (a second monitor on the same file is refused) and starts the
   * schedule. Throws, having opened nothing, when the database or a setting is unusable.
   */
  start(): void {
    if (this.state) return;
    const { log, dbPath } = this.options;
    const db = openDatabase(dbPath, { migrationsDir: this.options.migrationsDir });
    let incidentLog: IncidentLog | undefined;
    try {
      const settings = new SettingsStore(db, log);
      const settingsSeen = settings.fingerprint();
      const plan = this.planFrom(settings);
      const startedAt = this.now();
      const scanner = this.options.scanner ?? createSocketScanner(process.platform, { log });
      const host = os.hostname();
      // Names from captured DNS answers, for the remote ends the rounds store.
      const names = new ResolvedNames();
      const store = new RoundStore(db, names);
      const captureStore = new CaptureStore(db, names);
      // The previous round's connections: traffic of a connection that closed since belongs to it.
      let previousConnected: ConnectionEntry[] = [];
      // One round: a scan, then the traffic since the previous round. A second transaction: a
      // crash between the two loses this round's traffic, nothing more.
      const round = async (traffic: Promise<RoundCapture | null> | undefined): Promise<CollectResult> => {
        const result = await collectRound({ scanner, store, host, log, now: this.now });
        const current = result.status === 'ok' ? result.connected : [];
        const report = await traffic;
        if (report) captureStore.record(result.roundId, report, { current, previous: previousConnected });
        previousConnected = current;
        return result;
      };
      const collect = new Job<CollectResult | null>(
        'collect',
        async () => {
          const s = this.state;
          if (this.paused || !s) return null;
          // Asked for at the round's start, so the report's interval ends where the round begins.
          let result: CollectResult;
          try {
            result = await round(s.capture?.take());
          } catch (err) {
            // A full disk, a lock held elsewhere, a clock set back: the round is skipped and the
            // fault told once; anything else is the job's error.
            if (!s.recording.skipped(err, this.now())) throw err;
            this.afterRound();
            return null;
          }
          s.recording.recorded(this.now());
          this.afterRound();
          if (result.status === 'ok') this.scoreIfChanged(result.roundId);
          return result;
        },
        log,
      );
      const detect = new Job<DetectOutcome | null>('detect', (trigger) => this.runDetection(trigger, 'full'), log);
      const score = new Job<DetectOutcome | null>('score', (trigger) => this.runDetection(trigger, 'score'), log);
      const cleanup = new Job<CleanupResult>('cleanup', (trigger) => this.runCleanupJob(trigger), log);
      const report = new Job<BuiltReport | null>('report', () => this.runReportJob(), log);
      const mail = new Job<MailOutcome>('report mail', () => this.runMailJob(), log);
      const udpClients = new DetectionStore(db).clientUdpOwners(...DEFAULT_EPHEMERAL_UDP, CLIENT_UDP_PORTS);
      incidentLog = new IncidentLog(incidentLogFileOf(dbPath), host);
      const forwarders: Forwarding[] = [];
      const target = syslogTarget(String(settings.all()['syslog.target'] ?? ''));
      const caFile = String(settings.all()['syslog.caFile'] ?? '');
      if (target) forwarders.push({ receiver: 'syslog', forwarder: new SyslogForwarder(incidentLogFileOf(dbPath), target, caFile ? { caFile } : {}), busy: false, failures: 0, skip: 0 });
      const endpoint = otlpEndpoint(String(settings.all()['otlp.endpoint'] ?? ''));
      if (endpoint) forwarders.push({ receiver: 'otlp', forwarder: new OtlpForwarder(incidentLogFileOf(dbPath), endpoint, { host }), busy: false, failures: 0, skip: 0 });
      const running: Running = {
        db, forwarders, incidentLog, settings, settingsSeen, plan, scheduler: new Scheduler(log), round, collect, detect, score, udpClients, lastListening: null, roundsSinceScore: 0, cleanup,
        report, reportChecked: null, mail, mailRetry: { failures: 0, skip: 0 },
        capture: null, captureRestarts: { restarts: 0, lastFailure: null }, recording: new RecordingHealth(log), stateFileFailing: false, startedAt,
      };
      claimMonitorFile(dbPath, this.liveState(running));
      const interrupted = markInterruptedRuns(db, startedAt);
      if (interrupted > 0) log.warn('runs left unfinished by an earlier stop marked failed', { runs: interrupted });
      const excess = excessCapabilityWarning();
      if (excess) log.warn(excess);
      this.state = running;
      this.schedule(running);
      this.startCapture(running);
      // A report time missed while stopped or asleep is made up now, once.
      this.reportIfDue();
      log.info('monitor started', {
        version: PORTENT_VERSION,
        db: dbPath,
        schema: db.pragma('user_version', { simple: true }),
        host,
        roundSeconds: plan.roundSeconds,
        detectEvery: plan.detectEvery,
        cleanup: plan.cleanupSchedule,
        capture: plan.capture ? (plan.capture.iface ?? 'default route') : 'off',
      });
    } catch (err) {
      this.state = undefined;
      incidentLog?.close();
      closeDatabase(db);
      throw err;
    }
  }

  private planFrom(settings: SettingsStore): MonitorPlan {
    const o = this.options;
    return monitorPlan(settings.all(), {
      roundSeconds: o.roundSeconds ?? 60,
      detectEvery: o.detectEvery,
      capture: o.capture === false ? false : o.capture ? { iface: o.capture.iface, filter: o.capture.filter } : undefined,
    });
  }

  private schedule(s: Running): void {
    s.scheduler.add(s.plan.roundSchedule, s.collect);
    s.scheduler.add(s.plan.detectSchedule, s.detect);
    s.scheduler.add(s.plan.cleanupSchedule, s.cleanup);
  }

  private startCapture(s: Running): void {
    if (!s.plan.capture || this.paused) return;
    const extra = this.options.capture || {};
    const plan: CapturePlan = s.plan.capture;
    const helper = this.options.captureHelper === undefined ? chooseCaptureHelper() : this.options.captureHelper;
    if (helper && helper !== this.helperChecked) {
      this.helperChecked = helper;
      const stale = helperVersionWarning(helper);
      if (stale) this.options.log.warn(stale);
    }
    s.capture = new CaptureFeed({
      ...extra,
      ...(helper ? { helper } : {}),
      launcher: this.options.captureLauncher,
      iface: plan.iface,
      filter: plan.filter,
      maxPackets: plan.maxPackets,
      bufferSize: plan.bufferSize,
      now: this.now,
      log: this.options.log,
    });
    void s.capture.start().finally(() => this.changed());
  }

  private async stopCapture(s: Running): Promise<void> {
    const capture = s.capture;
    s.capture = null;
    if (capture) {
      const { restarts, lastFailure } = capture.restartHistory;
      s.captureRestarts = { restarts: s.captureRestarts.restarts + restarts, lastFailure: lastFailure ?? s.captureRestarts.lastFailure };
    }
    await capture?.stop();
  }

  /**
   * Sends waiting incident events to each receiver: after each round and each detection, one
   * attempt at a time per receiver; while one is down, less and less often (up to every 30
   * rounds), with one warning per outage.
   */
  private forward(): void {
    const s = this.state;
    if (!s) return;
    const { log } = this.options;
    for (const f of s.forwarders) {
      if (f.busy) continue;
      if (f.skip > 0) {
        f.skip -= 1;
        continue;
      }
      f.busy = true;
      void f.forwarder
        .flush()
        .then((r) => {
          if (r.error) {
            if (f.failures === 0) log.warn(`${f.receiver} receiver unreachable: incident events wait in the incident log`, { error: r.error });
            f.failures += 1;
            f.skip = Math.min(30, 2 ** Math.min(f.failures, 5) - 1);
          } else {
            if (f.failures > 0) log.info(`${f.receiver} receiver back: waiting incident events sent`, { sent: r.sent });
            f.failures = 0;
          }
          if (r.dropped > 0) log.warn(`incident events rotated out of the incident log before the ${f.receiver} receiver took them`, { files: r.dropped });
        })
        .catch((err: unknown) => log.error(`${f.receiver} forwarding failed`, { error: String(err) }))
        .finally(() => (f.busy = false));
    }
  }

  /** What went to each receiver since start, for metrics. */
  forwardingStats(): { receiver: string; sent: number; dropped: number }[] {
    return (this.state?.forwarders ?? []).map((f) => ({ receiver: f.receiver, sent: f.forwarder.sentTotal, dropped: f.forwarder.droppedTotal }));
  }

  /** After each round: pick up settings changed from elsewhere, refresh the live state. */
  private afterRound(): void {
    const s = this.state;
    if (!s) return;
    this.forward();
    if (s.settings.fingerprint() !== s.settingsSeen) this.settingsChanged();
    this.reportIfDue();
    this.changed();
  }

  /**
   * Builds the daily report when its time has passed and it is not built yet; then sends the
   * report e-mails waiting. Cheap when nothing is due: the day last found done is remembered.
   */
  private reportIfDue(): void {
    const s = this.state;
    if (!s) return;
    if (!s.report.busy) {
      let due: string | null = null;
      try {
        const settings = s.settings.all();
        if (settings['report.enabled']) due = latestReportPeriod(this.now(), settings['report.dailyAt']).day;
      } catch (err) {
        this.options.log.warn('could not tell whether the daily report is due', { error: (err as Error).message });
      }
      if (due !== null && due !== s.reportChecked) {
        s.report
          .run('schedule')
          ?.then((built) => {
            s.reportChecked = due;
            if (built && built.trigger !== 'manual') this.emit('report', { day: built.day, trigger: built.trigger, summary: built.summary });
            this.mailIfWaiting();
          })
          .catch(() => undefined);
        return;
      }
    }
    this.mailIfWaiting();
  }

  private mailIfWaiting(): void {
    const s = this.state;
    if (!s || s.mail.busy) return;
    const retry = s.mailRetry;
    if (retry.skip > 0) {
      retry.skip -= 1;
      return;
    }
    try {
      if (new ReportStore(s.db).pendingMail().length === 0) return;
    } catch {
      return;
    }
    s.mail
      .run('schedule')
      ?.then((r) => {
        if (r.failed) {
          retry.failures += 1;
          // The next round first, then every 2, 4, ... up to 30 rounds while the server fails.
          retry.skip = Math.min(30, 2 ** (retry.failures - 1) - 1);
        } else {
          retry.failures = 0;
        }
      })
      .catch(() => undefined);
  }

  private runReportJob(): Promise<BuiltReport | null> {
    const s = this.state;
    if (!s) return Promise.resolve(null);
    return Promise.resolve(runDueReport({ db: s.db, dbPath: this.options.dbPath, settings: s.settings.all(), now: this.now(), log: this.options.log }, s.startedAt));
  }

  private runMailJob(): Promise<MailOutcome> {
    const s = this.state;
    if (!s) return Promise.resolve({ sent: [], failed: null });
    return deliverPendingMail({ db: s.db, dbPath: this.options.dbPath, settings: s.settings.all(), now: this.now(), log: this.options.log });
  }

  /** Publishes the live state (for `portent status` in another shell) and tells listeners. */
  private changed(): void {
    const s = this.state;
    if (!s) return;
    try {
      writeMonitorState(this.options.dbPath, this.liveState(s));
      if (s.stateFileFailing) this.options.log.info('the monitor state file is written again');
      s.stateFileFailing = false;
    } catch (err) {
      // Once per outage (a full disk fails it every round): `portent status` in another shell
      // shows the last state written meanwhile.
      if (!s.stateFileFailing) this.options.log.warn('could not write the monitor state file', { error: (err as Error).message });
      s.stateFileFailing = true;
    }
    this.emit('changed');
  }

  private liveState(s: Running): MonitorState {
    return {
      pid: process.pid,
      host: os.hostname(),
      startedAt: s.startedAt,
      roundSeconds: s.plan.roundSeconds,
      paused: this.paused,
      snoozedUntil: this.snoozedUntil,
      detecting: s.detect.busy,
      capture: this.captureStatusOf(s),
      recording: s.recording.state,
      updatedAt: this.now(),
    };
  }

  /**
   * Applies the stored settings now (the window and `config set` change them). Schedules are
   * replaced when they changed; capture restarts when its interface, filter or switch changed.
   */
  /** The user set an incident's status: its line in the incident log. */
  incidentMarked(id: number): void {
    const s = this.state;
    const incident = s ? new DetectionStore(s.db).incident(id) : undefined;
    if (s && incident) s.incidentLog.marked(incident);
  }

  settingsChanged(): void {
    const s = this.state;
    if (!s) return;
    let plan: MonitorPlan;
    try {
      plan = this.planFrom(s.settings);
    } catch (err) {
      this.options.log.error('settings could not be applied; keeping the running plan', { error: (err as Error).message });
      return;
    }
    s.settingsSeen = s.settings.fingerprint();
    const before = s.plan;
    s.plan = plan;
    const scheduleChanged = !samePlanPart([before.detectSchedule, before.cleanupSchedule], [plan.detectSchedule, plan.cleanupSchedule]);
    if (scheduleChanged) {
      const old = s.scheduler;
      s.scheduler = new Scheduler(this.options.log);
      void old.stop().then(() => {
        if (this.state === s) this.schedule(s);
      });
    }
    if (!samePlanPart(before.capture, plan.capture)) {
      void this.stopCapture(s).then(() => {
        if (this.state === s) this.startCapture(s);
        this.changed();
      });
    }
    this.options.log.info('settings applied', { detectEvery: plan.detectEvery, cleanup: plan.cleanupSchedule, capture: plan.capture ? (plan.capture.iface ?? 'default route') : 'off' });
    this.changed();
  }

  /**
   * Right after a round whose listeners differ from the round before (something opened, closed
   * or changed hands), and after the round that follows it, the rounds waiting are scored with
   * the stored model, so an incident is told within two rounds of its onset instead of at the
   * hourly job. So are the traffic windows
   * once one is complete (every TRAFFIC_WINDOW_ROUNDS rounds): a process calling out to a new
   * host is told within a window, not at the next hour. Other rounds wait for the next scoring
   * (their scores would come from the same model). Nothing runs while learning, while a
   * detection runs (it scores them), or while a scoring still runs (the next one or the hourly
   * job takes these rounds too).
   */
  private scoreIfChanged(roundId: number): void {
    const s = this.state;
    if (!s || this.paused) return;
    try {
      const store = new DetectionStore(s.db);
      const [lo, hi] = DEFAULT_EPHEMERAL_UDP;
      const signature = store.listeningSignature(roundId, lo, hi, s.udpClients);
      // The round before: remembered from the last call, read from the database after a start
      // or when the client set changed since.
      let previous = s.lastListening;
      if (!previous || previous.clients !== s.udpClients) {
        const before = store.roundsBefore(Number.MAX_SAFE_INTEGER, 2);
        previous = before.length === 2 && before[1]!.id === roundId ? { roundId: before[0]!.id, signature: store.listeningSignature(before[0]!.id, lo, hi, s.udpClients), clients: s.udpClients } : null;
      }
      const changed = previous !== null && previous.roundId < roundId && previous.signature !== signature;
      s.lastListening = { roundId, signature, clients: s.udpClients, changed };
      s.roundsSinceScore += 1;
      // The round after a change too: a port missing from a program that still runs is judged
      // on its second round (detector.ts, addMissingPorts).
      const afterChange = previous?.changed === true && previous.roundId < roundId;
      if (!changed && !afterChange && s.roundsSinceScore < TRAFFIC_WINDOW_ROUNDS) return;
      if (s.detect.busy || s.score.busy) return;
      const model = store.latestModelState();
      if (!model || model.threshold === null || model.roundsSeen < s.plan.detector.minTrainingRounds) return;
    } catch (err) {
      this.options.log.warn('could not compare the round with the one before; it will be scored by the next detection', { error: (err as Error).message });
      return;
    }
    s.roundsSinceScore = 0;
    s.score.run('schedule')?.catch(() => undefined);
  }

  /**
   * One detection in its worker thread; the same job serves the schedule and detectNow().
   * `scope` 'score': only the waiting rounds are scored (scoreIfChanged).
   */
  private async runDetection(trigger: Trigger, scope: 'full' | 'score'): Promise<DetectOutcome | null> {
    const s = this.state;
    if (!s || (this.paused && trigger === 'schedule')) return null;
    // The two never overlap: they would score the same rounds.
    if (scope === 'score' && s.detect.busy) return null;
    if (scope === 'full') await s.score.idle();
    const { dbPath, migrationsDir, log } = this.options;
    log[scope === 'full' ? 'info' : 'debug']('detection started', { trigger, scope });
    const handle = detectInWorker(
      { dbPath, migrationsDir, modelDir: modelDirFor(dbPath), options: { ...detectionOptions(s.db, trigger, log), scope }, ...(this.options.now ? { nowMs: this.now() } : {}) },
      log,
    );
    this.detection = handle;
    this.changed();
    try {
      let r: DetectOutcome;
      try {
        r = await handle.result;
      } catch (err) {
        // Cancelled because the monitor is stopping: what was scored is kept, nothing failed.
        if (err instanceof CancelledError && this.state !== s) {
          log.info('detection cancelled: the monitor is stopping');
          return null;
        }
        throw err;
      }
      log.debug('detection job done', {
        trigger,
        roundsScored: r.roundsScored,
        incidents: r.incidents.length,
        learning: r.learning.learning,
        roundsSeen: r.learning.roundsSeen,
        backend: r.backend,
      });
      if (scope === 'full') s.udpClients = new DetectionStore(s.db).clientUdpOwners(...DEFAULT_EPHEMERAL_UDP, CLIENT_UDP_PORTS);
      s.incidentLog.detection(r.runId, r.incidents, r.roundsScored);
      this.forward();
      // New incidents, and running ones a new listener joined: what is worth telling.
      const news = r.incidents.filter((i) => i.runId === r.runId || i.grew === true);
      if (news.length > 0) this.emit('incidents', news);
      return r;
    } finally {
      this.detection = null;
      // After the job's own bookkeeping, so status no longer reports it running.
      queueMicrotask(() => this.changed());
    }
  }

  private async runCleanupJob(trigger: Trigger): Promise<CleanupResult> {
    const s = this.state;
    if (!s) throw new Error('the monitor is not running');
    return runCleanup(s.db, {
      dbPath: this.options.dbPath,
      trigger,
      retention: s.settings.all(),
      log: this.options.log,
      shouldStop: () => this.state !== s,
    });
  }

  /**
   * Runs the detection job now (the CLI, tray and window use this). Resolves to null, politely,
   * when a detection is already running or the monitor is stopped.
   */
  detectNow(): Promise<DetectOutcome> | null {
    const run = this.state?.detect.run('manual');
    // A manual run is never skipped for a pause, so it always has an outcome.
    return run ? (run as Promise<DetectOutcome>) : null;
  }

  /** Runs the cleanup now, outside its daily time; null when one is already running. */
  cleanupNow(): Promise<CleanupResult> | null {
    return this.state ? this.state.cleanup.run('manual') : null;
  }

  get running(): boolean {
    return this.state !== undefined;
  }

  /** The engine's clock, for what the API builds (a day's report). */
  clock(): number {
    return this.now();
  }

  /** The database file the monitor runs on (the daily reports are kept beside it). */
  get dbPath(): string {
    return this.options.dbPath;
  }

  /** The open database, for the engine's queries; throws when the monitor is stopped. */
  get db(): Db {
    if (!this.state) throw new Error('the monitor is not running');
    return this.state.db;
  }

  /** Runs a collection round now, outside the schedule; null when one is already running. */
  collectNow(): Promise<CollectResult | null> | null {
    return this.state ? this.state.collect.run('manual') : null;
  }

  /**
   * Pausing stops rounds, capture and scheduled detections until resumed; the time in between
   * stays a gap. A pause lasts until resumed or until the monitor restarts.
   */
  setPaused(paused: boolean): void {
    const s = this.state;
    if (!s || paused === this.paused) return;
    this.paused = paused;
    this.options.log.info(paused ? 'monitoring paused' : 'monitoring resumed');
    if (paused) void this.stopCapture(s).then(() => this.changed());
    else this.startCapture(s);
    this.changed();
  }

  /** Silences notifications until `until` (null: not snoozed). The engine keeps detecting. */
  snooze(until: number | null): void {
    this.snoozedUntil = until !== null && until > this.now() ? until : null;
    this.changed();
  }

  private captureStatusOf(s: Running): CaptureStatus {
    const status = this.paused ? CAPTURE_PAUSED : (s.capture?.status ?? CAPTURE_DISABLED);
    // Restarts count across capture processes replaced by a pause or a change of settings.
    const now = s.capture?.restartHistory ?? { restarts: 0, lastFailure: null };
    const restarts = s.captureRestarts.restarts + now.restarts;
    const lastFailure = now.lastFailure ?? s.captureRestarts.lastFailure;
    return restarts === 0 && lastFailure === null ? status : { ...status, restarts, lastFailure };
  }

  /** Whether packet capture runs, on which interface, and if not why (for `status` and the UI). */
  captureStatus(): CaptureStatus {
    if (!this.state) return { state: 'off', iface: null, message: 'the monitor is not running', remedy: [] };
    return this.captureStatusOf(this.state);
  }

  status(): Status {
    const s = this.state;
    if (!s) throw new Error('the monitor is not running');
    return readStatus({ db: s.db, dbPath: this.options.dbPath, monitor: this.liveState(s), roundsNeeded: s.plan.detector.minTrainingRounds, now: this.now() });
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
    await Promise.all([state.collect.idle(), state.detect.idle(), state.score.idle(), state.cleanup.idle(), state.report.idle(), state.mail.idle()]);
    // The traffic since the last round goes with one last round, scanned now, so a stop loses
    // no recorded interval.
    const last = await state.capture?.stop();
    if (last && !this.paused) {
      try {
        await state.round(Promise.resolve(last));
      } catch (err) {
        this.options.log.warn('the last round before stopping could not be recorded', { error: (err as Error).message });
      }
    }
    // What is still waiting goes at the next start; connections kept for receivers are let go.
    await Promise.all(state.forwarders.map((f) => f.forwarder.shutdown().catch(() => undefined)));
    state.incidentLog.close();
    closeDatabase(state.db);
    releaseMonitorFile(this.options.dbPath);
    this.options.log.info('monitor stopped');
  }
}
