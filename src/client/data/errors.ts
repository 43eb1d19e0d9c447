/** Where in a data file a problem sits; every part is optional because some problems concern a whole file. */
export interface DataErrorLocation {
  /** The data file. */
  readonly file?: string;
  /** 1-based line of the file (the header, when there is one, is line 1). */
  readonly line?: number;
  /** The column, by name. */
  readonly column?: string;
}

/**
 * A problem with a client's local data or its data config. The message names the file, the line and the
 * column, and says what is allowed, so that hospital IT can fix the file without reading code.
 */
export class DataError extends Error {
  /** Always `DataError`. */
  override readonly name = 'DataError';
  /** The data file, when the problem is in one. */
  readonly file: string | undefined;
  /** The 1-based line (the header is line 1). */
  readonly line: number | undefined;
  /** The column, by name. */
  readonly column: string | undefined;

  constructor(detail: string, location: DataErrorLocation = {}) {
    super(prefix(location) + detail);
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
  }
}

function prefix(location: DataErrorLocation): string {
  const parts: string[] = [];
  if (location.file !== undefined) parts.push(location.file);
  if (location.line !== undefined) parts.push(`line ${location.line}`);
  if (location.column !== undefined) parts.push(`column "${location.column}"`);
  return parts.length === 0 ? '' : `${parts.join(', ')}: `;
}
