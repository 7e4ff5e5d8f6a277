/**
 * Which interface carries the default route, read from the kernel's routing tables (Linux) or
 * from `route -n get default` (macOS). Pure parsers, so every format is tested on fixed text.
 */

export interface DefaultRoute {
  iface: string;
  metric: number;
  family: 4 | 6;
}

const RTF_UP = 0x0001;
const RTF_REJECT = 0x0200;

/** Default routes in /proc/net/route, best (lowest metric) first. */
export function parseProcNetRoute(text: string): DefaultRoute[] {
  const routes: DefaultRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flagsHex, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    const flags = Number.parseInt(flagsHex, 16);
    if (dest !== '00000000' || mask !== '00000000' || !usable(flags)) continue;
    routes.push({ iface, metric: Number(metric), family: 4 });
  }
  return routes.sort((a, b) => a.metric - b.metric);
}

/** Default routes in /proc/net/ipv6_route, best first; the kernel's "unreachable" default on lo is skipped. */
export function parseProcNetIpv6Route(text: string): DefaultRoute[] {
  const routes: DefaultRoute[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, prefix, , , , metricHex, , , flagsHex, iface] = f as [string, string, string, string, string, string, string, string, string, string];
    const flags = Number.parseInt(flagsHex, 16);
    if (!/^0{32}$/.test(dest) || prefix !== '00' || !usable(flags) || iface === 'lo') continue;
    routes.push({ iface, metric: Number.parseInt(metricHex, 16), family: 6 });
  }
  return routes.sort((a, b) => a.metric - b.metric);
}

/** The `interface:` line of macOS's `route -n get default`, or null when there is no default route. */
export function parseRouteGetDefault(text: string): string | null {
  const m = /^\s*interface:\s*(\S+)\s*$/m.exec(text);
  return m ? (m[1] as string) : null;
}

function usable(flags: number): boolean {
  return Number.isFinite(flags) && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0;
}
