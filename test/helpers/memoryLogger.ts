import { pino, type Logger } from 'pino';

export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly error?: string;
  readonly client?: string;
}

/** A debug-level pino logger whose records are kept in memory, to assert on what a node logged. */
export function memoryLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
  return { logger, records };
}
