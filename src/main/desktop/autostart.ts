import fs from 'node:fs';
import path from 'node:path';

/**
 * Starting Portent at login. macOS keeps login items itself (`app.setLoginItemSettings`, passed
 * in as LoginItems so this module stays free of Electron); Linux desktops follow the XDG
 * autostart spec, a `.desktop` file in `~/.config/autostart/`, written and removed here.
 */

/** Added to the command a login starts, so Portent starts in the tray without its window. */
export const HIDDEN_FLAG = '--hidden';

export function launchedHidden(argv: readonly string[], openedAtLogin = false): boolean {
  return openedAtLogin || argv.includes(HIDDEN_FLAG);
}

export function autostartFile(env: NodeJS.ProcessEnv, home: string): string {
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(config, 'autostart', 'portent.desktop');
}

/**
 * The command that starts this Portent. An AppImage runs from a mount point that changes every
 * launch, so its own path (APPIMAGE) is used; an unpackaged build needs Electron plus the app.
 */
export function launchCommand(env: NodeJS.ProcessEnv, execPath: string, appPath: string | null): string[] {
  const exe = env.APPIMAGE && path.isAbsolute(env.APPIMAGE) ? env.APPIMAGE : execPath;
  return [exe, ...(appPath ? [appPath] : []), HIDDEN_FLAG];
}

const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/** One argument of an Exec line, quoted as the Desktop Entry spec asks. */
export function quoteExecArg(arg: string): string {
  if (/[\n\r]/.test(arg)) throw new Error(`cannot start at login: the path ${JSON.stringify(arg)} contains a line break`);
  const quoted = RESERVED.test(arg) ? `"${arg.replace(/["`$\\]/g, '\\$&')}"` : arg;
  // '%' starts a field code; then the whole value is a string, whose own escape is '\\'.
  return quoted.replace(/%/g, '%%').replace(/\\/g, '\\\\');
}

export function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=Portent',
    'Comment=Watches this machine’s ports and traffic and says when something is off',
    `Exec=${command.map(quoteExecArg).join(' ')}`,
    'Icon=portent',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export interface LoginItems {
  get(): boolean;
  set(openAtLogin: boolean): void;
}

export interface Autostart {
  /** False where Portent does not know how to start at login. */
  readonly supported: boolean;
  isEnabled(): boolean;
  setEnabled(on: boolean): void;
}

export interface AutostartOptions {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  command: readonly string[];
  loginItems: LoginItems;
}

export function createAutostart(options: AutostartOptions): Autostart {
  if (options.platform === 'darwin') {
    return { supported: true, isEnabled: () => options.loginItems.get(), setEnabled: (on) => options.loginItems.set(on) };
  }
  if (options.platform !== 'linux') return { supported: false, isEnabled: () => false, setEnabled: () => {} };
  const file = autostartFile(options.env, options.home);
  return {
    supported: true,
    isEnabled: () => fs.existsSync(file),
    setEnabled: (on) => {
      if (!on) {
        fs.rmSync(file, { force: true });
        return;
      }
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, desktopEntry(options.command), { mode: 0o644 });
    },
  };
}
