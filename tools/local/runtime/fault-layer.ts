/**
 * The fault layer between the handlers and dynalite: while an invocation runs, it knows which records the
 * invocation carries and when (virtual time) it runs, and fails DynamoDB requests as the fault plan says:
 * every request during a DynamoDB outage (at the request's virtual time), and the idempotency claim of a record while its transient failures
 * last. The claim is the request that comes before the business action: Powertools' conditional `PutItem` of an
 * `INPROGRESS` record, or the `GetItem` of the `read-then-complete` scheme (lambda/shared/serial-key-persistence.ts).
 * Powertools turns either into a failed record (`IdempotencyPersistenceLayerError`).
 */
import { virtualWaitedMs } from '../engine/wall-clock';
import type { FaultPlan } from '../faults';
import { candidateHashes, hashOfKey, type KeyHint } from './idempotency-keys';
import type { DynamoDbFault, RequestInterceptor } from '../../shared/dynamodb-faults';

interface RunningInvocation {
  readonly seq: number;
  readonly at: number;
  readonly recordIds: readonly string[];
  readonly eventRecords: readonly unknown[];
  readonly hint?: KeyHint;
  hashes?: Set<string>[];
}

export class FaultLayer {
  private current?: RunningInvocation;
  private readonly recordOfKey = new Map<string, string>();
  /** Claims the layer could not tie to a record (per-record transient faults cannot apply to them). */
  unattributedClaims = 0;

  constructor(private readonly faults: FaultPlan) {}

  enter(invocation: Omit<RunningInvocation, 'hashes'>): void {
    this.current = { ...invocation };
  }

  leave(): void {
    this.current = undefined;
  }

  /** The layer as an interceptor of the local DynamoDB (runtime/local-dynamodb.ts). */
  intercept: RequestInterceptor = ({ operation, body }) => {
    const fault = this.decide(operation, body);
    return fault && { action: 'fail', fault, applied: false };
  };

  decide = (operation: string, body: Record<string, unknown>): DynamoDbFault | undefined => {
    const current = this.current;
    if (!current) return undefined;
    // The request's virtual time: the invocation's start, plus what the handler waited on the virtual clock
    // (its in-invocation retries), so an outage can end while an invocation waits it out.
    if (this.faults.dynamoDbUnavailable(current.at + virtualWaitedMs())) {
      return {
        status: 500,
        code: 'InternalServerError',
        message: 'Internal server error (simulated DynamoDB outage)',
      };
    }
    const key = claimedKey(operation, body);
    if (key === undefined) return undefined;
    const recordId = this.recordOf(current, hashOfKey(key));
    if (recordId === undefined) {
      this.unattributedClaims += 1;
      return undefined;
    }
    if (this.faults.failsTransiently(recordId, current.seq)) {
      return {
        status: 500,
        code: 'InternalServerError',
        message: `Internal server error (simulated transient failure for ${recordId})`,
      };
    }
    return undefined;
  };

  private recordOf(current: RunningInvocation, hash: string): string | undefined {
    const known = this.recordOfKey.get(hash);
    if (known) return known;
    current.hashes ??= current.eventRecords.map((record) => candidateHashes(record, current.hint));
    const index = current.hashes.findIndex((hashes) => hashes.has(hash));
    let recordId: string | undefined = index >= 0 ? current.recordIds[index] : undefined;
    if (recordId === undefined && new Set(current.recordIds).size === 1) recordId = current.recordIds[0];
    if (recordId !== undefined) this.recordOfKey.set(hash, recordId);
    return recordId;
  }
}

/** The idempotency key a request claims, or undefined when the request is not a claim. */
function claimedKey(operation: string, body: Record<string, unknown>): string | undefined {
  type Item = Record<string, { S?: string }> | undefined;
  if (operation === 'PutItem') {
    const item = body.Item as Item;
    return item?.status?.S === 'INPROGRESS' ? (item.id?.S ?? '') : undefined;
  }
  if (operation === 'GetItem') return (body.Key as Item)?.id?.S ?? '';
  return undefined;
}
