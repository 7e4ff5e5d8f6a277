import type { Db } from '../store/database';
import { SettingError, SettingsStore } from '../store/settingsStore';
import { interfaceChoices, interfaceExistsCheck, type InterfaceChoices } from '../collect/capture/interfaceSetting';
import type { Handlers, Status } from '../../../shared/contract';
import { listScores } from '../queries/scores';
import { getIncident, listIncidents, setIncidentStatus } from '../queries/incidents';
import { portTimeline } from '../queries/timeline';
import { portHistory } from '../queries/portHistory';
import { listConnections } from '../queries/connections';
import { listDetectionRuns, listModels } from '../queries/runs';
import type { LiveMonitor } from '../queries/gaps';
import { reportForDay } from '../report/dailyReport';
import { ReportStore } from '../report/reportStore';
import { isSecretSetting, isSettingKey, SECRET_MASK, shownSetting, type SettingKey } from '../../../shared/settings';
import { AllowRuleStore } from '../store/allowRuleStore';
import { stopIncidentProcess } from '../actions/incidentActions';

/**
 * What the API needs from a running engine: its database and a few controls. The Monitor
 * provides these; tests can pass a small object over a real database.
 */
export interface EngineHost {
  db: Db;
  status(): Status;
  /** Runs a detection now; null when one is already running. */
  detectNow(): Promise<{ roundsScored: number; incidents: unknown[]; learning: { learning: boolean }; backend: string }> | null;
  setPaused(paused: boolean): void;
  snooze(until: number | null): void;
  /** Called after a setting changed, so the engine picks it up without a restart. */
  settingsChanged(): void;
  /** Called after the user set an incident's status (the incident log records it). */
  incidentMarked?(id: number): void;
  /** The interfaces capture may use here; this machine's by default (tests pass their own). */
  interfaces?(): InterfaceChoices;
  /** The database file (the daily reports are kept beside it); the open database's file by default. */
  dbPath?: string;
  /** The engine's clock (epoch ms); Date.now by default. */
  clock?(): number;
}

/**
 * Every contract method, implemented over the engine. Arguments arrive already validated (the
 * IPC layer and the HTTP bridge both check them against the contract first).
 */
export function createEngineApi(host: EngineHost): Handlers {
  const interfaces = () => host.interfaces?.() ?? interfaceChoices();
  const settings = () => new SettingsStore(host.db, undefined, interfaceExistsCheck(() => interfaces().names.map((i) => i.name)));
  // Why the newest stretch without rounds is there: only the live monitor knows (paused, stopped).
  const live = (): LiveMonitor | null => {
    try {
      const s = host.status();
      return { monitoring: s.monitoring, paused: s.paused, monitoringSince: s.monitoringSince, roundMs: s.roundSeconds === undefined ? null : s.roundSeconds * 1000 };
    } catch {
      return null;
    }
  };
  return {
    getStatus: () => host.status(),
    listScores: (args) => listScores(host.db, args),
    listIncidents: (args) => listIncidents(host.db, args),
    getIncident: (id) => getIncident(host.db, id),
    setIncidentStatus: (id, status) => {
      const summary = setIncidentStatus(host.db, id, status);
      host.incidentMarked?.(id);
      return summary;
    },
    portTimeline: (args) => portTimeline(host.db, args, live()),
    portHistory: (args) => portHistory(host.db, args, live()),
    listConnections: (args) => listConnections(host.db, args),
    listDetectionRuns: (args) => listDetectionRuns(host.db, args),
    listModels: (args) => listModels(host.db, args),
    detectNow: async () => {
      const running = host.detectNow();
      if (!running) return { started: false, reason: 'a detection is already running' };
      const r = await running;
      return { started: true, roundsScored: r.roundsScored, incidents: r.incidents.length, learning: r.learning.learning, backend: r.backend };
    },
    getSettings: () => {
      const store = settings();
      // A secret (the SMTP password) never leaves the engine: the window sees that it is set.
      const values = Object.fromEntries(Object.entries(store.all()).map(([k, v]) => [k, shownSetting(k as SettingKey, v)]));
      return { values, changed: [...store.changed().keys()], invalid: store.problems(), interfaces: interfaces() };
    },
    setSetting: (key, value) => {
      // The mask sent back unchanged is no new password.
      if (isSettingKey(key) && isSecretSetting(key) && value === SECRET_MASK) return { ok: true, value: SECRET_MASK };
      let stored: unknown;
      try {
        stored = settings().set(key, value);
      } catch (err) {
        if (err instanceof SettingError) return { ok: false, error: err.message };
        throw err;
      }
      host.settingsChanged();
      return { ok: true, value: isSettingKey(key) ? shownSetting(key, stored) : stored };
    },
    setPaused: (paused) => {
      host.setPaused(paused);
      return host.status();
    },
    snoozeAlerts: (until) => {
      host.snooze(until);
      return host.status();
    },
    getReport: ({ day }) => reportForDay({ db: host.db, dbPath: host.dbPath ?? host.db.name, settings: settings().all(), now: host.clock?.() ?? Date.now() }, day),
    listReports: ({ limit }) => new ReportStore(host.db).list(limit),
    stopIncidentProcess: (id, pid) => stopIncidentProcess(host.db, id, pid),
    // Only the desktop shell can open a file manager; it replaces this (desktop/reveal.ts).
    revealExecutable: () => ({ ok: false, reason: 'only the desktop app can open the file manager; the executable is named in the incident' }),
    listAllowRules: () => new AllowRuleStore(host.db).list(),
    // Detection reads the rules at each run: a change needs nothing else.
    addAllowRule: (input) => new AllowRuleStore(host.db).add(input),
    removeAllowRule: (id) => new AllowRuleStore(host.db).remove(id),
  };
}
