// One controller per run directory: `run.lock` holds the pid of the CLI writing it. A second `run`/`resume` on the
// same directory is refused; a lock whose process is gone (killed, machine rebooted) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

const LOCK_FILE = 'run.lock';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface RunLock {
  release(): void;
}

export function lockRunDir(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n');
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
    } catch {
      // unreadable: a lock cut short by a crash; taken over below
    }
    const sameHost = !holder.host || holder.host === hostname();
    if (typeof holder.pid === 'number' && (!sameHost || alive(holder.pid))) {
      throw new UsageError(
        `the run in ${dir} is in use by another mgdarts (pid ${holder.pid}${sameHost ? '' : ` on ${holder.host}`})`,
        `wait for it to end, or stop it (Ctrl-C checkpoints); remove ${path} only if that process is gone`,
      );
    }
    rmSync(path, { force: true }); // its process is gone
  }
  throw new UsageError(`cannot lock ${path}`, 'check that the run directory is writable');
}
