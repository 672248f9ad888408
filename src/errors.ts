// Every error a user can meet, each with a stable code; the CLI's reporter maps families to exit codes.

export class MgdartsError extends Error {
  override name = 'MgdartsError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options?.hint;
  }
  readonly hint: string | undefined;
}

export interface ConfigIssue {
  path: string;
  message: string;
}

/** A config file that fails validation; lists every failing path. */
export class ConfigError extends MgdartsError {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super('config.invalid', `${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'));
  }
}

export class UsageError extends MgdartsError {
  override name = 'UsageError';
  constructor(message: string, hint?: string) {
    super('cli.usage', message, { hint });
  }
}

export class DatasetNotFoundError extends MgdartsError {
  override name = 'DatasetNotFoundError';
  constructor(dataset: string, searched: string[], hint?: string) {
    super('config.dataset_not_found', `dataset "${dataset}" not found; looked in: ${searched.join(', ') || '(nowhere)'}`, {
      hint: hint ?? 'pass --data-dir <dir>, set MGDARTS_DATA, or install the Debian package dataset-fashion-mnist',
    });
  }
}

export class PythonEnvError extends MgdartsError {
  override name = 'PythonEnvError';
  constructor(message: string, hint: string, cause?: unknown) {
    super('python.unavailable', message, { hint, cause });
  }
}

/** Nothing answered at the endpoint in time. */
export class RuntimeUnreachableError extends MgdartsError {
  override name = 'RuntimeUnreachableError';
  constructor(endpoint: string, seconds: number) {
    super('runtime.unreachable', `runtime not reachable at ${endpoint} (no answer to hello within ${seconds} s)`, {
      hint: 'start one with `mgdarts runtime start --bind <endpoint>` (a runtime with CURVE keys also needs --keys), or drop --runtime to let mgdarts start a private one',
    });
  }
}

/** The runtime turned the connection away in the handshake: CURVE keys it does not accept, or CURVE on one side only. */
export class RuntimeRefusedError extends MgdartsError {
  override name = 'RuntimeRefusedError';
  constructor(endpoint: string, reason: string, withKeys: boolean) {
    super('runtime.refused', `the runtime at ${endpoint} refused this client (${reason})`, {
      hint: withKeys
        ? "these keys are not among the runtime's clients: use the key directory made for it by `mgdarts runtime keygen`"
        : 'the runtime serves CURVE clients only: pass --keys <dir> (or MGDARTS_KEYS) with the keys made by `mgdarts runtime keygen`',
    });
  }
}

/** The runtime process ended, or the connection dropped, while requests were pending. */
export class RuntimeLostError extends MgdartsError {
  override name = 'RuntimeLostError';
  constructor(
    message: string,
    readonly lostRequests: string[],
    /** The runtime's last stderr output; the reporter prints it whole with --verbose. */
    readonly stderrTail = '',
    hint = 'run `npx mgdarts doctor` to check the Python environment; --verbose shows the runtime log',
  ) {
    // Its last line names the cause only when it is not the start-up banner.
    const lastLine = stderrTail.trim().split('\n').pop() ?? '';
    const said = lastLine && !/runtime listening on /.test(lastLine) ? `\n  runtime said: ${lastLine}` : '';
    super('runtime.exited', message + (lostRequests.length ? `; lost request(s): ${lostRequests.join(', ')}` : '') + said, { hint });
  }
}

export class ProtocolMismatchError extends MgdartsError {
  override name = 'ProtocolMismatchError';
  constructor(message: string) {
    super('protocol.version_mismatch', message, { hint: 'the runtime and the CLI come from different mgdarts versions; use one package for both' });
  }
}

/** An error reply from the runtime; `code` is the runtime's (runtime.nan_loss, runtime.bad_params, ...). */
export class RuntimeRequestError extends MgdartsError {
  override name = 'RuntimeRequestError';
  constructor(
    code: string,
    message: string,
    readonly requestType: string,
    readonly ename: string,
    readonly traceback: string | null,
  ) {
    super(code, `${requestType}: ${message}`);
  }
}

export class InterruptedError extends MgdartsError {
  override name = 'InterruptedError';
  constructor(signal: string, hint?: string) {
    super('run.interrupted', `interrupted by ${signal}`, { hint });
  }
}

/** Exit code per error family; one table, used by the CLI's reporter. */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof MgdartsError)) return 1;
  const family = error.code.split('.')[0];
  if (error.code === 'run.interrupted') return 130;
  switch (family) {
    case 'config':
    case 'cli':
      return 2;
    case 'python':
    case 'protocol':
      return 3;
    case 'runtime':
      // A busy runtime is unavailable, like an unreachable one; other replies report a failed request.
      return error instanceof RuntimeRequestError && error.code !== 'runtime.busy' ? 4 : 3;
    default:
      return 1;
  }
}

/** A request bigger than the runtime accepts; sent, ZeroMQ would drop the connection and no reply would come. */
export class MessageTooLargeError extends MgdartsError {
  override name = 'MessageTooLargeError';
  constructor(bytes: number, limit: number) {
    super('protocol.message_too_large', `a message of ${bytes} bytes exceeds the maximum of ${limit} bytes`, {
      hint: 'send less per request, or raise MGDARTS_MAX_MESSAGE_BYTES for both the CLI and the runtime',
    });
  }
}
