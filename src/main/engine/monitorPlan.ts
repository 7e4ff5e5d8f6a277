import { SENSITIVITY_FACTOR, type Settings } from '../../shared/settings';
import { periodSchedule, roundSchedule } from './schedule/scheduler';
import { cleanupSchedule } from './maintain/retention';

/** What the command line fixed for this run; it wins over the stored settings. */
export interface MonitorOverrides {
  /** Seconds between rounds: 60 in real use; shorter compresses time (each round still counts as a minute). */
  roundSeconds: number;
  /** false: no capture whatever the settings say; an object: its fields win over the settings. */
  capture?: false | { iface?: string; filter?: string };
  /** Rounds between scheduled detections. */
  detectEvery?: number;
}

export interface CapturePlan {
  iface?: string;
  filter?: string;
  maxPackets: number;
  /** Bytes of the kernel ring (capture.bufferMb). */
  bufferSize: number;
}

export interface DetectorPlan {
  minTrainingRounds: number;
  /** False alarms allowed per round. */
  budget: number;
  sensitivity: number;
}

export interface MonitorPlan {
  roundSeconds: number;
  roundSchedule: string;
  capture: CapturePlan | null;
  detectEvery: number;
  detectSchedule: string;
  cleanupSchedule: string;
  detector: DetectorPlan;
}

const ROUNDS_PER_HOUR = 60;
const ROUNDS_PER_DAY = 1440;

/**
 * How the monitor runs, from the stored settings and the command line. Pure, so that a change
 * of settings is applied by comparing two plans. A round always stands for one minute of the
 * machine's life (the learning period and the alert budget count rounds), so compressed time
 * keeps the same proportions.
 */
export function monitorPlan(settings: Settings, overrides: MonitorOverrides): MonitorPlan {
  const { roundSeconds } = overrides;
  const capture: CapturePlan | null =
    overrides.capture === false || (overrides.capture === undefined && !settings['capture.enabled'])
      ? null
      : {
          iface: overrides.capture?.iface ?? (settings['capture.interface'] || undefined),
          filter: overrides.capture?.filter ?? (settings['capture.filter'] || undefined),
          maxPackets: settings['capture.packetsPerRound'],
          bufferSize: settings['capture.bufferMb'] * 1024 * 1024,
        };
  let detectEvery = overrides.detectEvery ?? settings['schedule.detectEveryMinutes'];
  let detectSchedule: string;
  try {
    detectSchedule = periodSchedule(roundSeconds * detectEvery, roundSeconds / 2);
  } catch (err) {
    // Only a setting under compressed time can land here (24 minutes of 1-second rounds, say);
    // the command line's --detect-every was checked before. Hourly in rounds always fits.
    if (overrides.detectEvery !== undefined) throw err;
    detectEvery = ROUNDS_PER_HOUR;
    detectSchedule = periodSchedule(roundSeconds * detectEvery, roundSeconds / 2);
  }
  return {
    roundSeconds,
    roundSchedule: roundSchedule(roundSeconds),
    capture,
    detectEvery,
    detectSchedule,
    cleanupSchedule: cleanupSchedule(settings['schedule.cleanupAt']),
    detector: detectorPlan(settings),
  };
}

/**
 * What the detection settings mean to the detector. The monitor's plan, `portent status` and
 * every detection job (scheduled, from the window, from `portent detect`) take it from here.
 */
export function detectorPlan(settings: Pick<Settings, 'detection.learningHours' | 'detection.alertsPerDay' | 'detection.sensitivity'>): DetectorPlan {
  return {
    minTrainingRounds: settings['detection.learningHours'] * ROUNDS_PER_HOUR,
    budget: settings['detection.alertsPerDay'] / ROUNDS_PER_DAY,
    sensitivity: SENSITIVITY_FACTOR[settings['detection.sensitivity']],
  };
}

export function samePlanPart<T>(a: T, b: T): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
