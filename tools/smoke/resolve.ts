/**
 * Resolves a deployed template's intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, …) against what
 * CloudFormation reports for the stack: the physical id of each resource (ListStackResources), the stack's
 * parameters, account, region and partition (from its stack id). So a check compares the deployed wiring with
 * what the template asked for (the DLQ a redrive policy names, the destination of an event invoke config) by
 * value, on AWS and on the emulator alike.
 *
 * Attributes are derived from the physical id by the rules AWS documents for each type (a queue's ARN from its
 * URL, a function's from its name); one it has no rule for is {@link Unresolvable}, and a check says so rather
 * than guessing. Pure: no AWS calls.
 */

/** A resource of the stack as CloudFormation lists it. */
export interface DeployedResource {
  readonly logicalId: string;
  readonly type: string;
  /** Empty when CloudFormation (or the emulator) gives none. */
  readonly physicalId: string;
  readonly status: string;
  readonly reason?: string;
}

export interface ResolveContext {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly urlSuffix: string;
  readonly resources: ReadonlyMap<string, DeployedResource>;
  /** Parameter values (the resolved value for SSM parameters). */
  readonly parameters: Readonly<Record<string, string>>;
  /** The template's Conditions and Mappings. */
  readonly conditions?: Readonly<Record<string, unknown>>;
  readonly mappings?: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
  /**
   * Attributes read from the service where they cannot be derived from a name (a DynamoDB table's `StreamArn`
   * ends with the stream's creation time): logical id → attribute → value.
   */
  readonly attributes?: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** A value the resolver cannot compute (an attribute with no rule, an import, a missing resource). */
export class Unresolvable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Unresolvable';
  }
}

/** Stands for `AWS::NoValue`: the property is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

/** Account, region and partition of a stack, from its id (`arn:<partition>:cloudformation:<region>:<account>:stack/…`). */
export function stackEnvironment(stackId: string): { partition: string; region: string; accountId: string } {
  const parts = stackId.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || parts[2] !== 'cloudformation') {
    throw new Error(`Not a CloudFormation stack id: ${stackId}`);
  }
  return { partition: parts[1], region: parts[3], accountId: parts[4] };
}

/** The URL suffix of a partition (`amazonaws.com`, `amazonaws.com.cn`). */
export function urlSuffixOf(partition: string): string {
  return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** The last segment of a queue URL: the queue's name. */
export function queueNameOfUrl(url: string): string {
  return url.replace(/\/+$/, '').slice(url.replace(/\/+$/, '').lastIndexOf('/') + 1);
}

/** `Fn::GetAtt` of a deployed resource, by the documented shape of the type's attributes. */
export function attributeOf(resource: DeployedResource, attribute: string, ctx: ResolveContext): string {
  const { partition, region, accountId, urlSuffix } = ctx;
  const known = ctx.attributes?.get(resource.logicalId)?.[attribute];
  if (known !== undefined) return known;
  const id = resource.physicalId;
  if (!id) throw new Unresolvable(`${resource.logicalId} has no physical id`);
  const rules: Record<string, Record<string, () => string>> = {
    'AWS::SQS::Queue': {
      Arn: () => `arn:${partition}:sqs:${region}:${accountId}:${queueNameOfUrl(id)}`,
      QueueName: () => queueNameOfUrl(id),
      QueueUrl: () => id,
    },
    'AWS::SNS::Topic': { TopicArn: () => id, TopicName: () => id.slice(id.lastIndexOf(':') + 1) },
    'AWS::Lambda::Function': { Arn: () => `arn:${partition}:lambda:${region}:${accountId}:function:${id}` },
    'AWS::Kinesis::Stream': { Arn: () => `arn:${partition}:kinesis:${region}:${accountId}:stream/${id}` },
    'AWS::DynamoDB::Table': { Arn: () => `arn:${partition}:dynamodb:${region}:${accountId}:table/${id}` },
    'AWS::S3::Bucket': {
      Arn: () => `arn:${partition}:s3:::${id}`,
      DomainName: () => `${id}.s3.${urlSuffix}`,
      RegionalDomainName: () => `${id}.s3.${region}.${urlSuffix}`,
    },
    'AWS::IAM::Role': { Arn: () => `arn:${partition}:iam::${accountId}:role/${id}`, RoleId: unknown },
    'AWS::KMS::Key': { Arn: () => `arn:${partition}:kms:${region}:${accountId}:key/${id}`, KeyId: () => id },
    'AWS::Logs::LogGroup': { Arn: () => `arn:${partition}:logs:${region}:${accountId}:log-group:${id}:*` },
    'AWS::CloudWatch::Alarm': { Arn: () => `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${id}` },
    'AWS::ApiGatewayV2::Api': {
      ApiId: () => id,
      ApiEndpoint: () => `https://${id}.execute-api.${region}.${urlSuffix}`,
    },
  };
  const rule = rules[resource.type]?.[attribute];
  if (!rule)
    throw new Unresolvable(`no rule for Fn::GetAtt ${resource.logicalId}.${attribute} (${resource.type})`);
  return rule();

  function unknown(): string {
    throw new Unresolvable(`Fn::GetAtt ${resource.logicalId}.${attribute} is not derivable from its name`);
  }
}

function refOf(name: string, ctx: ResolveContext): unknown {
  const pseudo: Record<string, unknown> = {
    'AWS::AccountId': ctx.accountId,
    'AWS::Region': ctx.region,
    'AWS::Partition': ctx.partition,
    'AWS::URLSuffix': ctx.urlSuffix,
    'AWS::StackName': ctx.stackName,
    'AWS::StackId': ctx.stackId,
    'AWS::NoValue': NO_VALUE,
  };
  if (name in pseudo) return pseudo[name];
  if (name in ctx.parameters) return ctx.parameters[name];
  const resource = ctx.resources.get(name);
  if (!resource) throw new Unresolvable(`Ref ${name}: no such resource or parameter in the deployed stack`);
  if (!resource.physicalId) throw new Unresolvable(`Ref ${name}: ${resource.type} has no physical id`);
  return resource.physicalId;
}

function getAtt(logicalId: string, attribute: string, ctx: ResolveContext): string {
  const resource = ctx.resources.get(logicalId);
  if (!resource) throw new Unresolvable(`Fn::GetAtt ${logicalId}: no such resource in the deployed stack`);
  return attributeOf(resource, attribute, ctx);
}

function asString(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Unresolvable(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

/** Whether a template condition holds in this deployment. */
export function evaluateCondition(name: string, ctx: ResolveContext): boolean {
  const condition = ctx.conditions?.[name];
  if (condition === undefined) throw new Unresolvable(`Condition ${name} is not in the template`);
  return Boolean(resolve(condition, ctx));
}

/** Resolves every intrinsic function in `value`; throws {@link Unresolvable} for what it cannot compute. */
export function resolve(value: unknown, ctx: ResolveContext): unknown {
  const result = resolveValue(value, ctx);
  return result === NO_VALUE ? undefined : result;
}

function resolveValue(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveValue(item, ctx)).filter((item) => item !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [[key, argument]] = entries;
    const intrinsic = resolveIntrinsic(key, argument, ctx);
    if (intrinsic.handled) return intrinsic.value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const resolved = resolveValue(item, ctx);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function resolveIntrinsic(
  key: string,
  argument: unknown,
  ctx: ResolveContext,
): { handled: true; value: unknown } | { handled: false } {
  const done = (value: unknown) => ({ handled: true as const, value });
  switch (key) {
    case 'Ref':
      return done(refOf(asString(argument, 'Ref'), ctx));
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(argument)
        ? [asString(argument[0], 'Fn::GetAtt'), asString(resolveValue(argument[1], ctx), 'Fn::GetAtt')]
        : (() => {
            const text = asString(argument, 'Fn::GetAtt');
            const dot = text.indexOf('.');
            return [text.slice(0, dot), text.slice(dot + 1)];
          })();
      return done(getAtt(logicalId, attribute, ctx));
    }
    case 'Fn::Join': {
      const [separator, items] = argument as [string, unknown];
      const list = resolveValue(items, ctx);
      if (!Array.isArray(list)) throw new Unresolvable('Fn::Join: the second argument is not a list');
      return done(list.map((item) => asString(item, 'Fn::Join')).join(separator));
    }
    case 'Fn::Sub': {
      const [template, variables] = Array.isArray(argument)
        ? [asString(argument[0], 'Fn::Sub'), (argument[1] ?? {}) as Record<string, unknown>]
        : [asString(argument, 'Fn::Sub'), {}];
      return done(
        template.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
          if (name in variables) return asString(resolveValue(variables[name], ctx), `Fn::Sub \${${name}}`);
          if (name.includes('.')) {
            const dot = name.indexOf('.');
            return getAtt(name.slice(0, dot), name.slice(dot + 1), ctx);
          }
          return asString(refOf(name, ctx), `Fn::Sub \${${name}}`);
        }),
      );
    }
    case 'Fn::Select': {
      const [index, items] = argument as [unknown, unknown];
      const list = resolveValue(items, ctx);
      const position = Number(resolveValue(index, ctx));
      if (!Array.isArray(list) || !(position >= 0 && position < list.length)) {
        throw new Unresolvable(`Fn::Select ${position} out of range`);
      }
      return done(list[position]);
    }
    case 'Fn::Split': {
      const [separator, text] = argument as [string, unknown];
      return done(asString(resolveValue(text, ctx), 'Fn::Split').split(separator));
    }
    case 'Fn::FindInMap': {
      const [map, top, second] = (argument as unknown[]).map((part) =>
        asString(resolveValue(part, ctx), 'Fn::FindInMap'),
      );
      const found = ctx.mappings?.[map]?.[top]?.[second];
      if (found === undefined)
        throw new Unresolvable(`Fn::FindInMap ${map}.${top}.${second} is not in the template`);
      return done(found);
    }
    case 'Fn::If': {
      const [condition, whenTrue, whenFalse] = argument as [string, unknown, unknown];
      return done(resolveValue(evaluateCondition(condition, ctx) ? whenTrue : whenFalse, ctx));
    }
    case 'Fn::Equals': {
      const [left, right] = (argument as unknown[]).map((part) => resolveValue(part, ctx));
      return done(JSON.stringify(left) === JSON.stringify(right));
    }
    case 'Fn::And':
      return done((argument as unknown[]).every((part) => Boolean(resolveValue(part, ctx))));
    case 'Fn::Or':
      return done((argument as unknown[]).some((part) => Boolean(resolveValue(part, ctx))));
    case 'Fn::Not':
      return done(!resolveValue((argument as unknown[])[0], ctx));
    case 'Condition':
      return typeof argument === 'string' ? done(evaluateCondition(argument, ctx)) : { handled: false };
    case 'Fn::ImportValue':
      throw new Unresolvable('Fn::ImportValue is not resolved here');
    case 'Fn::Base64':
      return done(Buffer.from(asString(resolveValue(argument, ctx), 'Fn::Base64')).toString('base64'));
    default:
      return { handled: false };
  }
}

/** Resolves, or returns the reason it could not. */
export function tryResolve(
  value: unknown,
  ctx: ResolveContext,
): { value: unknown } | { unresolvable: string } {
  try {
    return { value: resolve(value, ctx) };
  } catch (error) {
    if (error instanceof Unresolvable) return { unresolvable: error.message };
    throw error;
  }
}
