// The CLI's reporter for the runtime's numerical and memory faults: exit code 4, the runtime's message
// (which names where it happened), the fix, and the code; the traceback only with --verbose.
import { describe, expect, it } from 'vitest';
import { RuntimeRequestError } from '../../src/errors.js';
import { reportError } from '../../src/cli/report-error.js';

function report(error: unknown, verbose = false): { code: number; text: string } {
  let text = '';
  const code = reportError(error, verbose, (t) => (text += t));
  return { code, text };
}

describe('reportError for runtime faults', () => {
  it('runtime.nan_loss: exit 4, the message naming stage and epoch, the fix naming the learning rates and events.jsonl', () => {
    const message = "the loss is nan in stage 'stage2' (search), epoch 3 (counting from 0), batch 2 of 9";
    const { code, text } = report(new RuntimeRequestError('runtime.nan_loss', message, 'train_epoch', 'NanLoss', null));
    expect(code).toBe(4);
    expect(text.split('\n')).toEqual([
      `mgdarts: train_epoch: ${message}`,
      expect.stringMatching(/^ {2}fix: lower the learning rates \(search\.lr\.\*, retrain\.lr\).*grad_clip.*events\.jsonl\)$/),
      '  (code runtime.nan_loss)',
      '',
    ]);
  });

  it('runtime.oom: exit 4 and the batch-size fix; a traceback is shown with --verbose only', () => {
    const message = 'out of memory in stage x with batch size 96';
    const error = new RuntimeRequestError('runtime.oom', message, 'train_epoch', 'OutOfMemory', 'Traceback: here');
    const quiet = report(error);
    expect(quiet.code).toBe(4);
    expect(quiet.text).toContain('with batch size 96\n  fix: lower search.batch_size / retrain.batch_size');
    expect(quiet.text).not.toContain('Traceback');
    expect(report(error, true).text).toContain('--- runtime traceback ---\nTraceback: here');
  });
});
