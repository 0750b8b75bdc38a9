/**
 * Where failed (or, for `OnSuccess`, successful) work ends up: dead-letter queues and destinations. The
 * simulator does not consume them; it keeps every message, as AWS would write it, in the trace.
 */
import type { IngestionPath } from './config';
import type { Scheduler } from './scheduler';
import type { SinkKind, Trace } from './trace';

export interface SinkMessage {
  readonly path: IngestionPath;
  readonly kind: SinkKind;
  readonly recordIds: readonly string[];
  readonly message: unknown;
  readonly condition?: string;
}

export class Sinks {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly trace: Trace,
  ) {}

  send(targetArn: string, message: SinkMessage): void {
    this.trace.sink({ at: this.scheduler.now, targetArn, ...message });
  }
}
