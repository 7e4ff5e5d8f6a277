import { describe, expect, it } from 'vitest';
import { featureAmount, featureScale, scaleFeature, TRAFFIC_SCALES, unscaleFeature } from '../../src/shared/trafficScale';
import { scaleTraffic, TRAFFIC_FEATURES, type RawTraffic } from '../../src/main/engine/traffic';
import { learnHabit, MODEL_FEATURES, withContext, type Habits } from '../../src/main/engine/traffic/processContext';

describe("the traffic model's scale, and reading it back in units", () => {
  it('knows a scale for every feature the model takes but one score of its own', () => {
    expect(Object.keys(TRAFFIC_SCALES)).toEqual([...TRAFFIC_FEATURES]);
    expect(MODEL_FEATURES.filter((f) => featureScale(f) === undefined)).toEqual(['recent_bytes_above_usual']);
  });

  it('is the scale the engine puts windows on, and reads each value back within rounding', () => {
    const raw = Object.fromEntries(TRAFFIC_FEATURES.map((f, i) => [f, TRAFFIC_SCALES[f].form === 'log' ? Math.min(3 ** (i % 9), TRAFFIC_SCALES[f].cap / 2) : TRAFFIC_SCALES[f].cap * ((i % 7) / 7)])) as RawTraffic;
    const scaled = scaleTraffic(raw);
    TRAFFIC_FEATURES.forEach((f, i) => {
      expect(scaled[i]).toBeCloseTo(scaleFeature(TRAFFIC_SCALES[f], raw[f]), 6);
      expect(unscaleFeature(TRAFFIC_SCALES[f], scaled[i]!)).toBeCloseTo(raw[f], raw[f] > 1000 ? -2 : 3);
    });
  });

  it("reads a process's context back as the engine wrote it: windows seen, and its usual values", () => {
    const habits: Habits = {};
    const window = new Float32Array(TRAFFIC_FEATURES.length);
    window[TRAFFIC_FEATURES.indexOf('bytes_out')] = scaleFeature(TRAFFIC_SCALES.bytes_out, 2048);
    for (let i = 0; i < 3; i++) learnHabit(habits, 7, window);
    const input = withContext(window, habits['7']);
    const at = (f: string) => input[MODEL_FEATURES.indexOf(f)]!;
    expect(featureAmount('seen_windows', at('seen_windows'))).toBe('3 windows');
    expect(featureAmount('usual_bytes_out', at('usual_bytes_out'))).toBe('2 KB');
  });

  it('says a value in units, a reconstruction outside the scale clamped to it', () => {
    const at = (feature: keyof typeof TRAFFIC_SCALES, x: number) => featureAmount(feature, scaleFeature(TRAFFIC_SCALES[feature], x));
    expect(at('bytes_out', 3_355_443)).toBe('3.2 MB');
    expect(at('bytes_out', 512)).toBe('512 B');
    expect(at('opened', 12)).toBe('12');
    expect(at('packets_in', 1)).toBe('1 packet');
    expect(at('duration_max', 7200)).toBe('2 h');
    expect(at('duration_mean', 45)).toBe('45 s');
    expect(at('out_share', 0.4)).toBe('40 %');
    expect(at('dns_label_max', 52)).toBe('52 characters');
    expect(at('dns_entropy_mean', 3.1)).toBe('3.1 bits');
    expect(featureAmount('usual_bytes_out', scaleFeature(TRAFFIC_SCALES.bytes_out, 2048))).toBe('2 KB');
    expect(featureAmount('seen_windows', 0.5)).toBe('3 windows');
    expect(featureAmount('opened', -0.058)).toBe('0');
    expect(featureAmount('periodicity', 0.934)).toBe('0.93');
    expect(featureAmount('recent_bytes_above_usual', 0.2)).toBe('0.20');
    expect(featureAmount('opened', Number.NaN)).toBe('–');
  });
});
