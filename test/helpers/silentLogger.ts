import { pino } from 'pino';

/** A logger that prints nothing, for tests that provoke warnings on purpose. */
export const silent = pino({ level: 'silent' });
