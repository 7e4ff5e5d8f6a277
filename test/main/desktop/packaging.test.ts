import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util/out/DebugLogger';

// electron-builder.yml read and checked by electron-builder's own loader and schema, so a typo
// or a lost hardening line fails here rather than at release time, on a machine that can
// download Electron.

const repo = path.join(import.meta.dirname, '../../..');

describe('electron-builder.yml', () => {
  it('is valid and keeps the packaging decisions', async () => {
    const config = await getConfig(repo, path.join(repo, 'electron-builder.yml'), null);
    await validateConfiguration(config, new DebugLogger(false));

    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(true);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['**/node_modules/better-sqlite3/**', '**/node_modules/cap/**']));
    expect(config.extraResources).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'assets/tray', to: 'tray' }), expect.objectContaining({ from: 'migrations', to: 'migrations' })]));

    expect(config.mac?.target).toEqual([{ target: 'dmg', arch: ['arm64', 'x64'] }]);
    expect(config.mac?.extendInfo).toMatchObject({ LSUIElement: true });
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.linux?.executableName).toBe('portent');
  });
});
