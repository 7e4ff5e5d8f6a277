import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autostartFile, createAutostart, desktopEntry, HIDDEN_FLAG, launchCommand, launchedHidden, quoteExecArg } from '../../../src/main/desktop/autostart';
import { tempDir } from '../../support/tmp';

const noLoginItems = {
  get: () => {
    throw new Error('not on Linux');
  },
  set: () => {
    throw new Error('not on Linux');
  },
};

describe('autostart file', () => {
  it('lives in the XDG config folder', () => {
    expect(autostartFile({}, '/home/ada')).toBe('/home/ada/.config/autostart/portent.desktop');
    expect(autostartFile({ XDG_CONFIG_HOME: '/cfg' }, '/home/ada')).toBe('/cfg/autostart/portent.desktop');
    expect(autostartFile({ XDG_CONFIG_HOME: 'relative' }, '/home/ada')).toBe('/home/ada/.config/autostart/portent.desktop');
  });

  it('starts the AppImage itself, not its temporary mount, hidden in the tray', () => {
    expect(launchCommand({ APPIMAGE: '/home/ada/Apps/Portent.AppImage' }, '/tmp/.mount_PortXYZ/portent', null)).toEqual(['/home/ada/Apps/Portent.AppImage', HIDDEN_FLAG]);
    expect(launchCommand({}, '/opt/Portent/portent', null)).toEqual(['/opt/Portent/portent', '--hidden']);
    expect(launchCommand({}, '/repo/node_modules/electron/dist/electron', '/repo')).toEqual(['/repo/node_modules/electron/dist/electron', '/repo', '--hidden']);
  });

  it('is a desktop entry that runs that command', () => {
    expect(desktopEntry(['/opt/Portent/portent', '--hidden'])).toBe(
      [
        '[Desktop Entry]',
        'Type=Application',
        'Version=1.0',
        'Name=Portent',
        'Comment=Watches this machine’s ports and traffic and says when something is off',
        'Exec=/opt/Portent/portent --hidden',
        'Icon=portent',
        'Terminal=false',
        'X-GNOME-Autostart-enabled=true',
        '',
      ].join('\n'),
    );
  });

  it('quotes Exec arguments as the Desktop Entry spec asks', () => {
    expect(quoteExecArg('/opt/Portent/portent')).toBe('/opt/Portent/portent');
    expect(quoteExecArg('/home/ada/My Apps/Portent.AppImage')).toBe('"/home/ada/My Apps/Portent.AppImage"');
    expect(quoteExecArg('/home/ada/100%/Portent')).toBe('/home/ada/100%%/Portent');
    // Inside quotes, $ ` " and \ take a backslash; then the value's own escaping doubles backslashes.
    expect(quoteExecArg('/a/$b')).toBe('"/a/\\\\$b"');
    expect(quoteExecArg('/a/"b"')).toBe('"/a/\\\\"b\\\\""');
    expect(() => quoteExecArg('/a\nb')).toThrow(/line break/);
  });

  it('is written when turned on and removed when turned off', () => {
    const home = tempDir();
    const autostart = createAutostart({ platform: 'linux', env: {}, home, command: ['/opt/Portent/portent', '--hidden'], loginItems: noLoginItems });
    const file = path.join(home, '.config/autostart/portent.desktop');
    expect(autostart.supported).toBe(true);
    expect(autostart.isEnabled()).toBe(false);
    autostart.setEnabled(true);
    expect(autostart.isEnabled()).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toContain('Exec=/opt/Portent/portent --hidden\n');
    autostart.setEnabled(true); // twice is fine
    autostart.setEnabled(false);
    expect(fs.existsSync(file)).toBe(false);
    autostart.setEnabled(false); // and so is removing what is gone
    expect(autostart.isEnabled()).toBe(false);
  });
});

describe('autostart elsewhere', () => {
  it('uses the login items on macOS', () => {
    let openAtLogin = false;
    const autostart = createAutostart({ platform: 'darwin', env: {}, home: '/Users/ada', command: [], loginItems: { get: () => openAtLogin, set: (on) => (openAtLogin = on) } });
    autostart.setEnabled(true);
    expect(openAtLogin).toBe(true);
    expect(autostart.isEnabled()).toBe(true);
  });

  it('is not offered on other systems', () => {
    expect(createAutostart({ platform: 'win32', env: {}, home: 'C:\\Users\\ada', command: [], loginItems: noLoginItems }).supported).toBe(false);
  });

  it('starts hidden when asked to or when opened at login', () => {
    expect(launchedHidden(['/opt/Portent/portent', '--hidden'])).toBe(true);
    expect(launchedHidden(['/opt/Portent/portent'], true)).toBe(true);
    expect(launchedHidden(['/opt/Portent/portent'])).toBe(false);
  });
});
