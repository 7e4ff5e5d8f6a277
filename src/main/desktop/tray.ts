import path from 'node:path';
import { Menu, nativeImage, Tray } from 'electron';
import type { TrayView } from './trayController';
import { toMenuTemplate, type MenuItemModel, type TrayAction } from './trayMenu';
import { trayIconFile, trayTitle, type TrayState } from './trayState';

/** The Electron tray: draws what TrayController decided. */
export class ElectronTrayView implements TrayView {
  private readonly tray: Tray;
  private iconFile = '';

  constructor(
    private readonly iconDir: string,
    private readonly run: (action: TrayAction) => void,
  ) {
    this.tray = new Tray(this.icon(trayIconFile({ kind: 'learning', unseen: 0 }, process.platform)));
  }

  render(state: TrayState, menu: MenuItemModel[]): void {
    const file = trayIconFile(state, process.platform);
    // Setting the same image again makes some Linux trays flicker.
    if (file !== this.iconFile) this.tray.setImage(this.icon(file));
    if (process.platform === 'darwin') this.tray.setTitle(trayTitle(state));
    this.tray.setToolTip(state.tooltip);
    // Linux trays only pick up a changed menu when it is set again.
    this.tray.setContextMenu(Menu.buildFromTemplate(toMenuTemplate(menu, this.run)));
  }

  private icon(file: string): Electron.NativeImage {
    this.iconFile = file;
    // A name ending in Template.png marks a macOS template image; the @2x file is found beside it.
    return nativeImage.createFromPath(path.join(this.iconDir, file));
  }
}
