/**
 * The object path's handler: S3 → SNS → Lambda, invoked asynchronously. Lambda retries a failed invocation
 * (0–2 times) and then sends it to the on-failure destination, so this handler's contract is simple: return
 * when every object version of the event is done (now or earlier), throw otherwise.
 *
 * Every object version is applied exactly once (lambda/shared/apply-record.ts), keyed on the version
 * (the domain's key, domain.ts: `CreatedObject.objectVersionKey`, from `objectVersionKeyOf` in `object.ts`): its effect on the prefix's totals
 * commits in one transaction with its idempotency record, so a duplicate notification, a second SNS message about
 * the same object, or Lambda's retry of a partly done invocation never applies it twice.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { countInvalidPayload, createRecordApplier } from '../shared/apply-record';
import type { Plan } from '../shared/exactly-once';
import { InvalidPayloadError } from '../shared/parsing';
import type { IdempotencyDependencies, RecordMetrics } from '../shared/powertools';
import type { ResponseOf } from '../shared/domain';
import { domain } from './domain';

type Response = ResponseOf<typeof domain>;
import {
  type CreatedObject,
  type ObjectNotification,
  parseObjectNotification,
  parseSnsEvent,
  type SnsEvent,
  toCreatedObject,
} from './object';

export interface ObjectConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** What processing one object version does. @default domain.plan (domain.ts) */
  readonly plan?: (object: CreatedObject) => Plan<Response> | Promise<Plan<Response>>;
}

/** The handler's event is validated, not trusted, so it is typed as unknown. */
export type ObjectConsumerHandler = (event: unknown, context: Context) => Promise<void>;

/**
 * Builds the handler. Call once per execution environment (cold start): the idempotent wrapper and its
 * persistence layer are reused by every invocation.
 */
export function createObjectConsumerHandler(deps: ObjectConsumerDependencies): ObjectConsumerHandler {
  const { logger, idempotencyConfig } = deps;
  const applyObject = createRecordApplier({
    ...deps,
    path: 'object',
    keyPrefix: domain.keyPrefix,
    plan: deps.plan ?? domain.plan,
  });

  return async (event, context) => {
    logger.addContext(context);
    // The in-progress record expires with this invocation, so a retry after a timeout is not blocked.
    idempotencyConfig.registerLambdaContext(context);

    let snsEvent: SnsEvent;
    try {
      snsEvent = parseSnsEvent(event);
    } catch (error) {
      logInvalid(logger, deps.metrics, 'invalid SNS event', error as Error);
      throw error;
    }

    // Keep going past a failure: what succeeds now is recorded as done, so Lambda's retry of this invocation
    // redoes only what failed. Throw at the end so the retry (and the on-failure destination) happen.
    // One object after the other, not in parallel: SNS delivers one notification per invocation to Lambda and
    // S3 puts one object in a notification, so there is nothing to overlap in production, and in order keeps
    // a duplicate of an object version within one event an idempotent replay (in parallel it would find its
    // twin in progress and fail the invocation) and the side effects of a multi-record event in event order.
    const failures: Error[] = [];
    let processed = 0;
    for (const record of snsEvent.Records) {
      const snsMessageId = record.Sns.MessageId;
      let notification: ObjectNotification;
      try {
        notification = parseObjectNotification(record.Sns.Message);
      } catch (error) {
        logInvalid(logger, deps.metrics, 'invalid object notification', error as Error, { snsMessageId });
        failures.push(error as Error);
        continue;
      }
      if (notification.kind === 'test') {
        logger.info('S3 test event ignored', { snsMessageId, bucket: notification.event.Bucket });
        continue;
      }
      for (const s3Record of notification.records) {
        let object: CreatedObject;
        try {
          object = toCreatedObject(s3Record);
        } catch (error) {
          logInvalid(logger, deps.metrics, 'invalid object notification', error as Error, { snsMessageId });
          failures.push(error as Error);
          continue;
        }
        try {
          // The applier logs the outcome (and a failure with its cause chain).
          await applyObject(
            {
              idempotencyKey: domain.idempotencyKey(object),
              input: object,
              logKeys: { snsMessageId, objectVersionKey: object.objectVersionKey },
            },
            () => context.getRemainingTimeInMillis(),
          );
          processed += 1;
        } catch (error) {
          failures.push(error as Error);
        }
      }
    }

    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new AggregateError(
        failures,
        `${failures.length} object records failed (${processed} done): ${failures
          .map((failure) => `${failure.name}: ${failure.message}`)
          .join(' | ')}`,
      );
    }
  };
}

/**
 * The one structured ERROR line for input that needs a person: what was wrong, and every schema issue; counted as an
 * invalid payload in the business metrics.
 */
function logInvalid(
  logger: Logger,
  metrics: RecordMetrics | undefined,
  message: string,
  error: Error,
  keys: Record<string, unknown> = {},
): void {
  countInvalidPayload(metrics, error);
  logger.error(message, {
    ...keys,
    reason: error.message,
    ...(error instanceof InvalidPayloadError && error.issues.length > 0 && { issues: error.issues }),
  });
}
