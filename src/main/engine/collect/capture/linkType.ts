/**
 * Link-layer header types (tcpdump.org/linktypes.html). The decoder takes the numeric value;
 * the cap binding reports a name for a few and "Unknown linktype N" for the rest, so both
 * forms are mapped back to the number here.
 */
export const LinkType = {
  NULL: 0,
  EN10MB: 1,
  RAW: 12,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIO: 127,
  LINKTYPE_RAW: 101,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const CAP_NAMES: Record<string, number> = {
  NULL: LinkType.NULL,
  ETHERNET: LinkType.EN10MB,
  RAW: LinkType.RAW,
  LINKTYPE_LINUX_SLL: LinkType.LINUX_SLL,
  IEEE802_11_RADIO: LinkType.IEEE802_11_RADIO,
};

/** The DLT number behind cap's `open()` return value, or null when it cannot be told. */
export function linkTypeFromCap(name: string): number | null {
  const known = CAP_NAMES[name];
  if (known !== undefined) return known;
  const m = /^Unknown linktype (\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function isSupportedLinkType(dlt: number): boolean {
  return (
    dlt === LinkType.NULL ||
    dlt === LinkType.EN10MB ||
    dlt === LinkType.RAW ||
    dlt === LinkType.LINKTYPE_RAW ||
    dlt === LinkType.LOOP ||
    dlt === LinkType.LINUX_SLL ||
    dlt === LinkType.LINUX_SLL2 ||
    dlt === LinkType.IPV4 ||
    dlt === LinkType.IPV6
  );
}
