import { utilityProcess } from 'electron';
import type { ChildLauncher } from '../engine/collect/capture/childLauncher';
import type { ChildMessage } from '../engine/collect/capture/captureProtocol';

/**
 * Starts the capture process as an Electron utility process. The packaged app's runAsNode fuse
 * is off, so child_process.fork of the app's own binary would start a second Portent instead of
 * Node; a utility process is Electron's supported way to run a Node child. Node flags (a
 * TypeScript loader) do not apply: the shell always runs the built captureChild.js.
 */
export const utilityLauncher: ChildLauncher = (entry, options) => {
  const child = utilityProcess.fork(entry, [], { serviceName: 'Portent capture', stdio: 'inherit', env: options.env });
  let alive = true;
  child.once('exit', () => (alive = false));
  return {
    get pid() {
      return child.pid;
    },
    get connected() {
      return alive;
    },
    send: (message) => {
      if (alive) child.postMessage(message);
    },
    onMessage: (listener) => child.on('message', (m: unknown) => listener(m as ChildMessage)),
    onExit: (listener) => child.on('exit', (code) => listener(code, null)),
    // No channel to close: the capture has already stopped when this is asked, so end it.
    disconnect: () => {
      if (alive) child.kill();
    },
    kill: () => {
      if (alive) child.kill();
    },
  };
};
