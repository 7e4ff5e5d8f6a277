import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { permissionRemedy } from '../../../../../src/main/engine/collect/capture/captureErrors';
import {
  captureCapabilitiesIn,
  chooseCaptureHelper,
  defaultCaptureHelperPath,
  excessCapabilityWarning,
  installedCaptureHelper,
  packageRoot,
  processCapabilities,
  helperVersionWarning,
  builtCaptureHelper,
} from '../../../../../src/main/engine/collect/capture/captureHelper';
import { repoRoot } from '../../../../support/cli';
import { tempDir } from '../../../../support/tmp';

const none = { effective: 0n, permitted: 0n, ambient: 0n };

describe('the capture helper', () => {
  it("is found in libexec of Portent's own folder, and only when this user may run it", () => {
    expect(packageRoot(path.join(repoRoot, 'src', 'main', 'engine', 'collect', 'capture'))).toBe(repoRoot);
    expect(packageRoot(tempDir())).toBeNull();
    expect(defaultCaptureHelperPath(repoRoot)).toBe(path.join(repoRoot, 'libexec', 'portent-capture'));
    const dir = tempDir();
    const file = path.join(dir, 'portent-capture');
    const system = path.join(dir, 'system', 'portent-capture');
    expect(installedCaptureHelper([file, system])).toBeNull();
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    // Root may execute a file with any execute bit; this one has none.
    expect(installedCaptureHelper([file, system])).toBeNull();
    // The system one (a desktop install) when the installation has none.
    fs.mkdirSync(path.dirname(system));
    fs.writeFileSync(system, '#!/bin/sh\n', { mode: 0o755 });
    expect(installedCaptureHelper([file, system])).toBe(system);
    fs.chmodSync(file, 0o755);
    expect(installedCaptureHelper([null, file, system])).toBe(file);
  });

  it('is the installed one for anyone; for root without one, the one built with this installation; else none (cap in a process of its own)', () => {
    const built = () => '/opt/portent/native/capture/build/Release/portent-capture';
    expect(chooseCaptureHelper(1000, () => '/usr/local/libexec/portent-capture', built)).toBe('/usr/local/libexec/portent-capture');
    expect(chooseCaptureHelper(0, () => '/usr/local/libexec/portent-capture', built)).toBe('/usr/local/libexec/portent-capture');
    expect(chooseCaptureHelper(0, () => null, built)).toBe(built());
    // A user may not run the built helper to capture: it has neither setuid nor capabilities.
    expect(chooseCaptureHelper(1000, () => null, built)).toBeNull();
    expect(chooseCaptureHelper(0, () => null, () => null)).toBeNull();
    // On this machine: the real build, when it is there.
    if (process.getuid?.() === 0 && installedCaptureHelper() === null) expect(chooseCaptureHelper()).toBe(builtCaptureHelper());
  });

  it('warns when the installed helper speaks another version than this Portent, or does not run', () => {
    const built = builtCaptureHelper();
    expect(built).toBe(path.join(repoRoot, 'native', 'capture', 'build', 'Release', 'portent-capture'));
    expect(helperVersionWarning(built ?? '')).toBeNull();
    const dir = tempDir();
    const old = path.join(dir, 'portent-capture');
    fs.writeFileSync(old, '#!/bin/sh\necho portent-capture 0 libpcap\n', { mode: 0o755 });
    expect(helperVersionWarning(old)).toBe(
      `the capture helper ${old} is not this version's (it says 'portent-capture 0 libpcap', Portent needs stream version 1): run \`portent capture-setup --group GROUP\` as root again`,
    );
    // A copy of Node where the helper should be (what capture-setup installed before the helper existed).
    fs.copyFileSync(process.execPath, old);
    expect(helperVersionWarning(old)).toMatch(/is not this version's \(it says 'v\d+/);
    expect(helperVersionWarning(path.join(dir, 'gone'))).toMatch(/does not run \(.*ENOENT/);
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
    expect(excessCapabilityWarning({ ...none, ambient: 1n << 13n }, 1000)).toMatch(/^this process holds cap_net_raw, which only the capture helper needs/);
    expect(excessCapabilityWarning({ ...none, permitted: 0x3000n }, 1000)).toMatch(/holds cap_net_admin and cap_net_raw/);
    // Other capabilities are not capture's business.
    expect(excessCapabilityWarning({ ...none, effective: 1n << 21n }, 1000)).toBeNull();
    expect(excessCapabilityWarning({ ...none, effective: 0x3000n }, 0)).toBeNull();
    expect(excessCapabilityWarning(null, 1000)).toBeNull();
  });

  it('the remedy for a denied capture says what to grant to what', () => {
    const linux = permissionRemedy('linux', '/usr/bin/node', null).join(' ');
    expect(linux).toContain('portent capture-setup --group GROUP');
    expect(linux).not.toMatch(/setcap|AmbientCapabilities/);
    const denied = permissionRemedy('linux', '/opt/portent/libexec/portent-capture', null).join(' ');
    expect(denied).toMatch(/^The capture helper \/opt\/portent\/libexec\/portent-capture ran without its capabilities/);
    expect(denied).toContain('NoNewPrivileges=yes');
    // The desktop app ships the helper without privilege; the remedy installs that file, with
    // the capabilities, where the engine looks, and never gives them to the app's own binary.
    const desktop = permissionRemedy('linux', '/opt/Portent/portent', '/opt/Portent/resources/portent-capture').join(' ');
    expect(desktop).toContain(
      'sudo install -o root -g $(id -gn) -m 0750 /opt/Portent/resources/portent-capture /usr/local/libexec/portent-capture && sudo setcap cap_net_raw,cap_net_admin=ep /usr/local/libexec/portent-capture',
    );
    expect(desktop).not.toContain('setcap cap_net_raw,cap_net_admin=ep /opt/Portent/portent');
    // macOS: the helper setuid root (it opens /dev/bpf and returns to the user), not a group-wide grant.
    const mac = permissionRemedy('darwin', '/Applications/Portent.app/Contents/MacOS/Portent', '/Applications/Portent.app/Contents/Resources/portent-capture').join(' ');
    expect(mac).toContain('sudo install -o root -g $(id -gn) -m 4750 /Applications/Portent.app/Contents/Resources/portent-capture /usr/local/libexec/portent-capture');
    expect(permissionRemedy('darwin', '/usr/local/libexec/portent-capture', null).join(' ')).toMatch(/could not open \/dev\/bpf: it must be owned by root and setuid/);
  });
});
