/**
 * Run as a separate (unprivileged) process by the permission test: tries to open a capture on
 * argv[2] and prints one JSON line saying what happened.
 */
import { CaptureError } from '../../../../../../src/main/engine/collect/capture/captureErrors';
import { openLiveCapture } from '../../../../../../src/main/engine/collect/capture/liveCapture';

const iface = process.argv[2] ?? 'lo';
try {
  const cap = openLiveCapture({ iface, filter: 'udp port 9', onBatch: () => {} });
  cap.stop();
  console.log(JSON.stringify({ opened: true, uid: process.getuid?.() }));
} catch (e) {
  console.log(
    JSON.stringify(
      e instanceof CaptureError
        ? { opened: false, uid: process.getuid?.(), kind: e.kind, message: e.message, state: e.toState() }
        : { opened: false, uid: process.getuid?.(), unexpected: String(e) },
    ),
  );
}
