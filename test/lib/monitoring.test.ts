/**
 * Operating the app (issue 16), on every stack of a stage with every path: each alarm on an AWS metric has its
 * dimensions, the stage's alarm topic as its action, a description with its runbook section (which exists in
 * docs/operations.md); every signal the README's alarm table lists has its alarm on the paths where it applies;
 * every event source mapping turns its metrics on; each consumer log group has its four saved queries; the
 * monitoring stack has the topic (its key, TLS, the e-mail subscription of the `alarmEmail` setting) and one
 * dashboard row per path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp, type ReliableLambdaStacks } from '../../lib/app';
import { alarmTopicNameOf, INGESTION_PATHS } from '../../lib/config';
import { RUNBOOK, RUNBOOK_PAGE } from '../../lib/constructs/alarms';
import { RECORD_KEY_PLACEHOLDER } from '../../lib/constructs/consumer-function';
import { nagFindings } from '../helpers/nag';
import { testApp } from '../helpers/synth';
import { context as cdkJsonContext } from '../../cdk.json';

type Resource = { Type: string; Properties: Record<string, unknown> };

const CONSUMER_PATHS = ['sqs', 'object', 'stream', 'fifo', 'table-stream'] as const;

function build(context: Record<string, unknown> = {}): ReliableLambdaStacks {
  return buildApp(testApp({ paths: [...INGESTION_PATHS], ...context }), { nag: false });
}

function resourcesOf(stack: Stack, type: string): Resource[] {
  return Object.values(Template.fromStack(stack).findResources(type)) as Resource[];
}

/** The heading anchors of a Markdown page, as GitHub makes them. */
function anchorsOf(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} -]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('operating it: alarms, metrics, queries and the dashboard of a stage', () => {
  let stacks: ReliableLambdaStacks;
  let pathStacks: Stack[];
  let topicArn: unknown;

  beforeAll(() => {
    stacks = build();
    pathStacks = CONSUMER_PATHS.map((path) => stacks[path]!);
    topicArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':sns:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:${alarmTopicNameOf(stacks.config)}`,
        ],
      ],
    };
  });

  it('every alarm has dimensions, the stage topic as its only action, and a runbook section that exists', () => {
    const anchors = anchorsOf(readFileSync(join(__dirname, '..', '..', RUNBOOK_PAGE), 'utf8'));
    for (const anchor of Object.values(RUNBOOK)) expect(anchors).toContain(anchor);
    let count = 0;
    for (const stack of [...pathStacks, stacks.http!]) {
      for (const alarm of resourcesOf(stack, 'AWS::CloudWatch::Alarm')) {
        count += 1;
        const p = alarm.Properties;
        // A metric-math alarm (the http path's 4xx share): each metric it reads, as the others.
        const watched = p.Metrics
          ? (p.Metrics as { MetricStat?: { Metric: Record<string, unknown> } }[]).flatMap((m) =>
              m.MetricStat ? [m.MetricStat.Metric] : [],
            )
          : [p];
        expect(watched.length).toBeGreaterThan(0);
        for (const metric of watched) {
          // The http path's throttled requests come from its access logs: the stage's namespace, by ApiId.
          if (metric.MetricName !== 'ThrottledRequests') expect(String(metric.Namespace)).toMatch(/^AWS\//);
          expect((metric.Dimensions as unknown[]).length).toBeGreaterThan(0);
        }
        expect(p.AlarmActions).toEqual([topicArn]);
        expect(p.TreatMissingData).toBe('notBreaching');
        const runbook = /Runbook: docs\/operations\.md#([a-z0-9-]+)$/.exec(String(p.AlarmDescription));
        expect(runbook).not.toBeNull();
        expect(anchors).toContain(runbook![1]);
      }
    }
    // sqs, object, stream, fifo, table-stream; http: its front door's 10 and the 12 of the SQS consumer behind it.
    expect(count).toBe(12 + 18 + 17 + 12 + 18 + (10 + 12));
  });

  it.each([
    [
      'sqs',
      ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'FailedInvokeEventCount'],
    ],
    [
      'object',
      [
        'NumberOfMessagesSent',
        'AsyncEventsDropped',
        'AsyncEventAge',
        'DestinationDeliveryFailures',
        'NumberOfNotificationsFailed',
      ],
    ],
    [
      'stream',
      [
        'IteratorAge',
        'NumberOfMessagesSent',
        'DroppedEventCount',
        'OnFailureDestinationDeliveredEventCount',
        'DestinationDeliveryFailures',
        'NumberOfNotificationsFailed',
      ],
    ],
    [
      'fifo',
      ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'FailedInvokeEventCount'],
    ],
    [
      'table-stream',
      ['IteratorAge', 'NumberOfMessagesSent', 'DroppedEventCount', 'DestinationDeliveryFailures'],
    ],
    // The front door's (its 4xx share is metric math: test/lib/constructs/http-ingress.test.ts) and the consumer's.
    [
      'http',
      ['5xx', 'Latency', 'ThrottledRequests', 'ApproximateNumberOfMessagesVisible', 'FailedInvokeEventCount'],
    ],
  ] as const)('the %s path alarms on its own signals and on every shared one', (path, own) => {
    const metrics = resourcesOf(stacks[path]!, 'AWS::CloudWatch::Alarm').map((a) => a.Properties.MetricName);
    const shared = [
      'Errors',
      'Throttles',
      'Duration',
      'ConcurrentExecutions',
      'ReadThrottleEvents',
      'WriteThrottleEvents',
    ];
    for (const metric of [...shared, ...own]) expect(metrics).toContain(metric);
  });

  it('alarms on DynamoDB throttling of every table of every path', () => {
    for (const stack of pathStacks) {
      const template = Template.fromStack(stack);
      for (const id of Object.keys(template.findResources('AWS::DynamoDB::Table'))) {
        for (const metric of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
          template.hasResourceProperties('AWS::CloudWatch::Alarm', {
            Namespace: 'AWS/DynamoDB',
            MetricName: metric,
            Dimensions: [{ Name: 'TableName', Value: { Ref: id } }],
          });
        }
      }
    }
  });

  it('a source queue backlog alarms below its retention; a source dead-letter queue has no arrivals alarm', () => {
    const template = Template.fromStack(stacks.sqs!);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 3600,
      AlarmDescription: Match.stringLikeRegexp('source queue'),
    });
    // SQS does not count a redrive-policy move in the dead-letter queue's NumberOfMessagesSent.
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'NumberOfMessagesSent' }, 0);
  });

  it('turns the event source mapping metrics on for every mapping', () => {
    let mappings = 0;
    for (const stack of pathStacks) {
      for (const mapping of resourcesOf(stack, 'AWS::Lambda::EventSourceMapping')) {
        mappings += 1;
        expect(mapping.Properties.MetricsConfig).toEqual({ Metrics: ['EventCount'] });
      }
    }
    expect(mappings).toBe(4);
  });

  it('gives every consumer the stage metrics namespace and its four saved queries on its log group', () => {
    for (const stack of pathStacks) {
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: `${cdkJsonContext.appName}/sandbox` }),
        },
      });
      const queries = resourcesOf(stack, 'AWS::Logs::QueryDefinition');
      expect(queries).toHaveLength(4);
      const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0];
      const byName = Object.fromEntries(
        queries.map((q) => [String(q.Properties.Name).split('/').pop(), String(q.Properties.QueryString)]),
      );
      for (const q of queries) expect(q.Properties.LogGroupNames).toEqual([{ Ref: logGroup }]);
      expect(Object.keys(byName).sort()).toEqual([
        'failed records by error',
        'invalid payloads by reason',
        "one record's journey (replace the key)",
        'side effects per record key (a count above 1 is a duplicate)',
      ]);
      expect(byName['side effects per record key (a count above 1 is a duplicate)']).toContain(
        'filter message = "side effect done"',
      );
      expect(byName['side effects per record key (a count above 1 is a duplicate)']).toContain(
        'by recordKey',
      );
      expect(byName['invalid payloads by reason']).toContain('by message, reason');
      expect(byName['failed records by error']).toContain('by message, error.name');
      expect(byName["one record's journey (replace the key)"]).toContain(RECORD_KEY_PLACEHOLDER);
    }
  });

  it('the monitoring stack has the encrypted, TLS-only alarm topic and one dashboard row per path', () => {
    const template = Template.fromStack(stacks.monitoring);
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: alarmTopicNameOf(stacks.config),
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: Match.anyValue() }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const dashboards = resourcesOf(stacks.monitoring, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0].Properties.DashboardName).toBe(`${cdkJsonContext.appName}-sandbox`);
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const title of [
      'SQS → Lambda',
      'S3 → SNS → asynchronous Lambda',
      'Kinesis → Lambda',
      'SQS FIFO → Lambda',
      'DynamoDB Streams → Lambda',
      'HTTP → Lambda → SQS',
      'HTTP → SQS → Lambda: the queue behind the front door',
    ]) {
      expect(body).toContain(`### ${title}`);
    }
    // Five paths and the queue behind the http front door; the front door's own graphs are requests and answers.
    for (const graph of ['In', 'Processed', 'Failed', 'In the DLQ or destination', 'Age of the oldest']) {
      expect(body.split(`\\"title\\":\\"${graph}\\"`).length - 1).toBe(6);
    }
    for (const graph of ['Requests', 'Accepted (2xx)', 'Refused or failed (4xx, 429, 5xx)', 'Latency (ms)']) {
      expect(body.split(`\\"title\\":\\"${graph}\\"`).length - 1).toBe(1);
    }
    expect(body).toContain('No DLQ: failures go to the caller');
    for (const metric of [
      '\\"5xx\\"',
      '\\"4xx\\"',
      '\\"Count\\"',
      'ThrottledRequests',
      'IntegrationLatency',
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('requests - clientErrors - serverErrors');
    for (const metric of ['RecordsApplied', 'DuplicateRecords', 'InvalidPayloads', 'DeletedEventCount']) {
      expect(body).toContain(metric);
    }
    expect(nagFindings(stacks.monitoring)).toEqual([]);
  });

  it('subscribes the alarmEmail setting to the topic, and refuses an address that is not one', () => {
    const withEmail = build({ alarmEmail: 'oncall@example.com' });
    Template.fromStack(withEmail.monitoring).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    expect(() => build({ alarmEmail: 'oncall-at-example' })).toThrow(
      /"alarmEmail" must be an e-mail address/,
    );
  });

  it('a stage with one path has one dashboard row', () => {
    const one = buildApp(testApp({ paths: ['sqs'] }), { nag: false });
    const body = JSON.stringify(Template.fromStack(one.monitoring).toJSON());
    expect(body).toContain('### SQS → Lambda');
    expect(body).not.toContain('### Kinesis');
  });
});
