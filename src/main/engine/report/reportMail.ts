import { mailAddresses, SECRET_MASK, type Settings } from '../../../shared/settings';
import type { DailyReport } from '../../../shared/contract';
import { reportHeadline } from '../../../shared/reportFormat';

/**
 * The daily report by e-mail, for a server nobody looks at: the HTML report as the message,
 * the text form beside it, through the SMTP server the settings name (nodemailer). The password
 * goes to the server and nowhere else: never into a log line or an error message.
 */

export interface MailSettings {
  host: string;
  port: number;
  tls: Settings['report.smtp.tls'];
  user: string;
  password: string;
  from: string;
  to: string[];
}

/** The e-mail settings, or null when no e-mail is set up (no server, or nobody to send to). */
export function mailSettings(s: Pick<Settings, `report.smtp.${'host' | 'port' | 'tls' | 'user' | 'password' | 'from' | 'to'}`>): MailSettings | null {
  const to = mailAddresses(s['report.smtp.to']) ?? [];
  if (s['report.smtp.host'] === '' || to.length === 0) return null;
  return {
    host: s['report.smtp.host'],
    port: s['report.smtp.port'],
    tls: s['report.smtp.tls'],
    user: s['report.smtp.user'],
    password: s['report.smtp.password'],
    from: s['report.smtp.from'],
    to,
  };
}

/** Seconds a dead or silent server gets before the attempt fails (and waits for the next round). */
const TIMEOUT_MS = 30_000;

/** An error's message with the password, should a server echo it, masked. */
export function redacted(message: string, password: string): string {
  return password === '' ? message : message.split(password).join(SECRET_MASK);
}

export function reportSubject(r: Pick<DailyReport, 'day' | 'host' | 'summary'>): string {
  return `Portent, ${r.day} on ${r.host}: ${reportHeadline(r.summary)}`;
}

/**
 * Sends one report. Resolves once the server accepted it; rejects with the server's or the
 * network's reason (the password masked) otherwise.
 */
export async function sendReportMail(m: MailSettings, report: DailyReport, html: string, text: string, timeoutMs = TIMEOUT_MS): Promise<void> {
  // Loaded when a report is mailed, not at every start: most installations send none, and it
  // costs a few MB of a resident monitor's heap.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: m.host,
    port: m.port,
    // tls: TLS from the first byte; starttls: plain, then upgraded, or refused when the server
    // cannot; none: never upgraded (a relay on this machine).
    secure: m.tls === 'tls',
    requireTLS: m.tls === 'starttls',
    ignoreTLS: m.tls === 'none',
    ...(m.user !== '' ? { auth: { user: m.user, pass: m.password } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
    debug: false,
  });
  try {
    await transport.sendMail({
      from: m.from || (m.user.includes('@') ? m.user : `portent@${report.host}`),
      to: m.to,
      subject: reportSubject(report),
      text,
      html,
    });
  } catch (err) {
    throw new Error(redacted(err instanceof Error ? err.message : String(err), m.password), { cause: err });
  } finally {
    transport.close();
  }
}
