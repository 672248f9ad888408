// `mgdarts runtime start|status|stop|keygen`: the persistent runtime a GPU box keeps warm for runs in a row.
import type { Command } from 'commander';
import { generateKeys } from '../runtime/curve-keys.js';
import { defaultBind, runtimeStatus, startRuntime, stopRuntime } from '../runtime/persistent.js';

type Positive = (value: string, flag: string) => number;

export function addRuntimeCommands(cli: Command, parsePositive: Positive): void {
  const runtime = cli.command('runtime').description('a persistent runtime shared by runs in a row (start, status, stop, keygen)');

  runtime
    .command('start')
    .description(`start a runtime in the background (default bind ${defaultBind()})`)
    .option('--bind <endpoint>', 'ipc:// or tcp:// endpoint; anything but loopback needs --keys')
    .option('--device <device>', 'cpu, cuda or cuda:N (default: CUDA when available)')
    .option('--threads <n>', 'torch threads', (v) => parsePositive(v, '--threads'))
    .option('--keys <dir>', 'CURVE key directory from `mgdarts runtime keygen`: serve only its clients')
    .option('--lease <seconds>', 'a controller silent this long loses the runtime (default 30)', (v) => parsePositive(v, '--lease'))
    .action(async (opts: { bind?: string; device?: string; threads?: number; keys?: string; lease?: number }) => {
      const { record, hello } = await startRuntime({ bind: opts.bind, device: opts.device, threads: opts.threads, keys: opts.keys, leaseSeconds: opts.lease });
      process.stdout.write(
        `runtime ready at ${record.endpoint}: pid ${record.pid}, torch ${hello.torch_version} on ${hello.device}${record.keys ? ', CURVE on' : ''}; log ${record.log}\n` +
          `use it with: mgdarts run <config> --runtime ${reachable(record.endpoint)}${record.keys ? ` --keys ${record.keys}` : ''}\n`,
      );
    });

  runtime
    .command('status')
    .description('what the runtime is doing: idle or busy, who owns it, the request in progress')
    .option('--runtime <endpoint>', 'default: the runtime started here')
    .option('--keys <dir>', 'CURVE key directory')
    .action(async (opts: { runtime?: string; keys?: string }) => {
      const { endpoint, hello, status } = await runtimeStatus(opts.runtime, opts.keys);
      const work = status.request_type ? `${status.request_type} (${status.batches_done ?? 0}/${status.batches_total ?? '?'} batches)` : 'nothing';
      const owner = status.owner ? `owned by ${status.owner.client} for ${status.owner.since_s.toFixed(0)} s` : 'free';
      process.stdout.write(
        `runtime at ${endpoint}: ${status.state}, ${owner}; running ${work}\n` +
          `  pid ${hello.pid}, torch ${hello.torch_version} on ${hello.device} (${hello.threads} thread${hello.threads === 1 ? "" : "s"}), up ${status.uptime_s.toFixed(0)} s\n`,
      );
    });

  runtime
    .command('stop')
    .description('shut the runtime down (refused while another controller owns it, unless --force)')
    .option('--runtime <endpoint>', 'default: the runtime started here')
    .option('--keys <dir>', 'CURVE key directory')
    .option('--force', 'stop it even while a run is using it')
    .action(async (opts: { runtime?: string; keys?: string; force?: boolean }) => {
      const { endpoint, pid } = await stopRuntime(opts.runtime, opts.keys, Boolean(opts.force));
      process.stdout.write(`runtime at ${endpoint} (pid ${pid}) stopped\n`);
    });

  runtime
    .command('keygen')
    .description('make CURVE keys: the runtime serves only clients holding them')
    .requiredOption('--dir <dir>', 'where to write the keys (a new directory)')
    .action((opts: { dir: string }) => {
      const { dir, files } = generateKeys(opts.dir);
      process.stdout.write(
        `CURVE keys in ${dir}: ${files.join(', ')}\n` +
          `start the runtime with --keys ${dir}; a client machine needs a copy of ${dir} without server.key_secret, passed as --keys\n`,
      );
    });
}

/** A wildcard bind is reached at one of this machine's addresses, which the bind does not name. */
function reachable(endpoint: string): string {
  return endpoint.replace(/^tcp:\/\/(\*|0\.0\.0\.0|\[::\])(?=:\d+$)/, 'tcp://<this machine\'s address>');
}
