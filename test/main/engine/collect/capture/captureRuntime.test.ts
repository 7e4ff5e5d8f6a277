import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { permissionRemedy } from '../../../../../src/main/engine/collect/capture/captureErrors';
import {
  captureCapabilitiesIn,
  defaultCaptureRuntimePath,
  excessCapabilityWarning,
  installedCaptureRuntime,
  packageRoot,
  processCapabilities,
  runtimeVersionWarning,
} from '../../../../../src/main/engine/collect/capture/captureRuntime';
import { repoRoot } from '../../../../support/cli';
import { tempDir } from '../../../../support/tmp';

const none = { effective: 0n, permitted: 0n, ambient: 0n };

describe('the capture runtime', () => {
  it("is found in libexec of Portent's own folder, and only when this user may run it", () => {
    expect(packageRoot(path.join(repoRoot, 'src', 'main', 'engine', 'collect', 'capture'))).toBe(repoRoot);
    expect(packageRoot(tempDir())).toBeNull();
    expect(defaultCaptureRuntimePath(repoRoot)).toBe(path.join(repoRoot, 'libexec', 'portent-capture'));
    const dir = tempDir();
    const file = path.join(dir, 'portent-capture');
    expect(installedCaptureRuntime(file)).toBeNull();
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    // Root may execute a file with any execute bit; this one has none.
    expect(installedCaptureRuntime(file)).toBeNull();
    fs.chmodSync(file, 0o755);
    expect(installedCaptureRuntime(file)).toBe(file);
  });

  it("warns when the runtime is another Node than Portent's, or does not run", () => {
    expect(runtimeVersionWarning(process.execPath)).toBeNull();
    const dir = tempDir();
    const old = path.join(dir, 'portent-capture');
    fs.writeFileSync(old, '#!/bin/sh\necho v18.0.0\n', { mode: 0o755 });
    expect(runtimeVersionWarning(old)).toBe(`the capture runtime ${old} is Node v18.0.0, Portent runs on ${process.version}: run \`portent capture-setup\` as root again to copy the current one`);
    expect(runtimeVersionWarning(path.join(dir, 'gone'))).toMatch(/does not run \(.*ENOENT/);
  });

  it.runIf(process.platform === 'linux')('reads capability sets from /proc', () => {
    const mine = processCapabilities('self');
    expect(mine).not.toBeNull();
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    expect(mine?.effective).toBe(BigInt(`0x${/^CapEff:\s*(\w+)/m.exec(status)?.[1]}`));
    expect(processCapabilities(2 ** 30)).toBeNull();
  });

  it('names the capture capabilities a mask holds, and warns a non-root process that holds them', () => {
    expect(captureCapabilitiesIn(0n)).toEqual([]);
    expect(captureCapabilitiesIn(1n << 13n)).toEqual(['cap_net_raw']);
    expect(captureCapabilitiesIn(0x3000n)).toEqual(['cap_net_admin', 'cap_net_raw']);
    expect(excessCapabilityWarning(none, 1000)).toBeNull();
    expect(excessCapabilityWarning({ ...none, ambient: 1n << 13n }, 1000)).toMatch(/^this process holds cap_net_raw, which only the capture process needs/);
    expect(excessCapabilityWarning({ ...none, permitted: 0x3000n }, 1000)).toMatch(/holds cap_net_admin and cap_net_raw/);
    // Other capabilities are not capture's business.
    expect(excessCapabilityWarning({ ...none, effective: 1n << 21n }, 1000)).toBeNull();
    expect(excessCapabilityWarning({ ...none, effective: 0x3000n }, 0)).toBeNull();
    expect(excessCapabilityWarning(null, 1000)).toBeNull();
  });

  it('the remedy for a denied capture says what to grant to what', () => {
    const linux = permissionRemedy('linux', '/usr/bin/node').join(' ');
    expect(linux).toContain('portent capture-setup --group GROUP');
    expect(linux).not.toMatch(/setcap|AmbientCapabilities/);
    const denied = permissionRemedy('linux', '/opt/portent/libexec/portent-capture').join(' ');
    expect(denied).toMatch(/^The capture runtime \/opt\/portent\/libexec\/portent-capture ran without its capabilities/);
    expect(denied).toContain('NoNewPrivileges=yes');
    expect(permissionRemedy('darwin', '/usr/bin/node').join(' ')).toContain('/dev/bpf');
  });
});
