import { describe, expect, it } from 'vitest';
import { isPatched, loadCap, type CapBinding } from '../../../../../src/main/engine/collect/capture/capBinding';
import { CaptureError } from '../../../../../src/main/engine/collect/capture/captureErrors';
import { requirePatched } from '../../../../../src/main/engine/collect/capture/liveCapture';

describe("Portent's patched cap", () => {
  it('is what this install loads: npm ci applied patches/cap+0.2.1.patch and built it', () => {
    const cap = loadCap();
    expect(isPatched(cap)).toBe(true);
    expect(() => requirePatched(cap, 'lo')).not.toThrow();
  });

  it('is required: a cap without the patch is refused with capture off and how to fix it', () => {
    // Stand-in for cap as published (its prototype has no stats()); no such build exists here.
    const published = { Cap: Object.assign(function Cap() {}, { deviceList: () => [] }) } as unknown as CapBinding;
    let thrown: unknown;
    try {
      requirePatched(published, 'eth0');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(CaptureError);
    expect((thrown as CaptureError).toState()).toEqual({
      capturing: false,
      kind: 'binding-unavailable',
      iface: 'eth0',
      message: "packet capture is off: the loaded cap is not Portent's patched build (patches/cap+0.2.1.patch was not applied at install)",
      remedy: ["Run `node scripts/patch-cap.mjs` in Portent's folder (npm ci runs it), or reinstall Portent."],
    });
  });
});
