import os from 'node:os';
import { openDatabase, type Db } from './store/database';
import type { Logger } from './log';
import { PORTENT_VERSION } from '../../shared/version';
import type { Status } from '../../shared/contract';

export interface MonitorOptions {
  dbPath: string;
  migrationsDir?: string;
  log: Logger;
}

/**
 * The long-lived engine that both shells run: owns the database and, as later parts land, the
 * collection, detection and cleanup jobs. It imports nothing from Electron.
 */
export class Monitor {
  private db: Db | undefined;
  private startedAt: number | undefined;

  constructor(private readonly options: MonitorOptions) {}

  start(): void {
    if (this.db) return;
    this.db = openDatabase(this.options.dbPath, { migrationsDir: this.options.migrationsDir });
    this.startedAt = Date.now();
    this.options.log.info('monitor started', {
      version: PORTENT_VERSION,
      db: this.options.dbPath,
      schema: this.db.pragma('user_version', { simple: true }),
      host: os.hostname(),
    });
  }

  get running(): boolean {
    return this.db !== undefined;
  }

  get since(): number | undefined {
    return this.startedAt;
  }

  status(): Status {
    return {
      version: PORTENT_VERSION,
      monitoring: this.running,
      monitoringSince: this.startedAt ?? null,
      database: this.options.dbPath,
    };
  }

  /** Stops jobs and closes the database; safe to call twice. */
  stop(): void {
    if (!this.db) return;
    this.db.close();
    this.db = undefined;
    this.startedAt = undefined;
    this.options.log.info('monitor stopped');
  }
}
