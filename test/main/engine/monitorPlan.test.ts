import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../../src/shared/settings';
import { monitorPlan } from '../../../src/main/engine/monitorPlan';
import { DEFAULT_BUFFER_SIZE } from '../../../src/main/engine/collect/capture/liveCapture';

describe('monitorPlan', () => {
  it('runs every minute, detects hourly and cleans up daily with the defaults', () => {
    const plan = monitorPlan(defaultSettings(), { roundSeconds: 60 });
    expect(plan).toMatchObject({
      roundSchedule: '0 * * * * *',
      detectEvery: 60,
      detectSchedule: '30 0 * * * *',
      capture: { iface: undefined, filter: undefined, maxPackets: 150, bufferSize: DEFAULT_BUFFER_SIZE },
      detector: { minTrainingRounds: 360, sensitivity: 1 },
    });
    expect(plan.detector.budget).toBeCloseTo(1 / 1440);
    expect(plan.cleanupSchedule.split(' ')).toHaveLength(6);
  });

  it('follows the settings, and the command line wins over them', () => {
    const settings = {
      ...defaultSettings(),
      'capture.interface': 'eth1',
      'capture.filter': 'not port 22',
      'schedule.detectEveryMinutes': 180,
      'detection.learningHours': 24,
      'detection.sensitivity': 'high' as const,
      'detection.alertsPerDay': 2,
    };
    const plan = monitorPlan(settings, { roundSeconds: 60 });
    expect(plan.capture).toEqual({ iface: 'eth1', filter: 'not port 22', maxPackets: 150, bufferSize: 32 * 1024 * 1024 });
    expect(plan.detectSchedule).toBe('30 0 */3 * * *');
    expect(plan.detector).toEqual({ minTrainingRounds: 1440, budget: 2 / 1440, sensitivity: 1.25 });
    expect(monitorPlan(settings, { roundSeconds: 60, capture: { iface: 'lo' } }).capture).toEqual({ iface: 'lo', filter: 'not port 22', maxPackets: 150, bufferSize: 32 * 1024 * 1024 });
    expect(monitorPlan({ ...settings, 'capture.bufferMb': 8 }, { roundSeconds: 60 }).capture?.bufferSize).toBe(8 * 1024 * 1024);
    expect(monitorPlan(settings, { roundSeconds: 60, capture: false }).capture).toBeNull();
    expect(monitorPlan({ ...settings, 'capture.enabled': false }, { roundSeconds: 60 }).capture).toBeNull();
    expect(monitorPlan(settings, { roundSeconds: 1, detectEvery: 5 }).detectSchedule).toBe('*/5 * * * * *');
  });

  it('keeps a round worth a minute under compressed time, falling back to hourly-in-rounds when a setting cannot fit', () => {
    const plan = monitorPlan({ ...defaultSettings(), 'schedule.detectEveryMinutes': 1440 }, { roundSeconds: 1 });
    // 1,440 one-second rounds is 24 minutes, which does not divide an hour.
    expect(plan.detectEvery).toBe(60);
    expect(plan.detectSchedule).toBe('0 * * * * *');
    expect(() => monitorPlan(defaultSettings(), { roundSeconds: 1, detectEvery: 7 })).toThrow(/divide a minute/);
  });
});
