// Structured JSON logs, one object per line, so Workers Logs / Logpush can index the fields.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /**
   * Adds fields to the line that ends this logger's scope (a request's `request` line, requestLog), instead of
   * a line of their own: one line per request. Shared with the logger's children.
   */
  annotate(fields: LogFields): void;
  /** What annotate() has collected in this scope. */
  readonly annotations: Readonly<LogFields>;
}

export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { error: redactQueryParams(error.message), errorName: error.name, stack: error.stack && redactQueryParams(error.stack) };
  return { error: String(error) };
}

/**
 * drizzle's query errors end their message with `params: <every bound value>`: user ids, emails, token and
 * key hashes. The query text says what failed; the values are personal data and credentials, kept out of logs.
 */
export function redactQueryParams(text: string): string {
  return text.replace(/\nparams: [\s\S]*?(?=\n\s+at |$)/g, '\nparams: [redacted]');
}

export function createLogger(base: LogFields = {}, sink: (line: string) => void = console.log, annotations: LogFields = {}): Logger {
  const write = (level: LogLevel, msg: string, fields?: LogFields) =>
    sink(JSON.stringify({ level, time: new Date().toISOString(), msg, ...base, ...fields }));
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger({ ...base, ...fields }, sink, annotations),
    annotate: (fields) => void Object.assign(annotations, fields),
    annotations,
  };
}
