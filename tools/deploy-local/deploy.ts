/**
 * The steps of `npm run deploy:local` against a running emulator, each usable on its own (the CLI runs them in
 * order; the emulator tests deploy with them when no deployment is handed to them): read the cloud assembly,
 * bootstrap, deploy every stack, check what the emulator created, destroy, check what is left.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INGESTION_PATHS } from '../../lib/config';
import { type Clients, readStack, type Template } from '../smoke/aws';
import { type ResolveContext, stackEnvironment, tryResolve, urlSuffixOf } from '../smoke/resolve';
import {
  compareResources,
  type CoverageFinding,
  expectedResources,
  isFailure,
  LAUNCHER_MODELS,
  retainedOnDestroy,
} from './coverage';
import { EMULATOR_ACCOUNT, EMULATOR_REGION } from './emulator';
import { lookupResource, NOTHING_TO_LOOK_UP } from './lookups';

/** A stack of the cloud assembly. */
export interface AssemblyStack {
  readonly stackName: string;
  readonly template: Template;
}

/** The stacks of a cloud assembly (manifest.json), in the manifest's order. */
export function assemblyStacks(assemblyDir: string): AssemblyStack[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const stacks: AssemblyStack[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const templateFile = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || !templateFile) continue;
    stacks.push({
      stackName: artifact.properties?.stackName ?? artifactId,
      template: JSON.parse(readFileSync(join(assemblyDir, templateFile), 'utf8')) as Template,
    });
  }
  return stacks;
}

/**
 * The stage of the path stacks `<appName>-<stage>-<path>` among these names (the stage's other stacks, such as
 * `<appName>-<stage>-monitoring`, are left aside); undefined when no name fits, or the stages differ.
 */
export function stageOf(appName: string, stackNames: readonly string[]): string | undefined {
  const stages = new Set<string>();
  for (const name of stackNames) {
    // The longest path that ends the name: `table-stream` before `stream`.
    const path = [...INGESTION_PATHS]
      .sort((a, b) => b.length - a.length)
      .find((candidate) => name.endsWith(`-${candidate}`));
    if (!path || !name.startsWith(`${appName}-`)) continue;
    stages.add(name.slice(appName.length + 1, name.length - path.length - 1));
  }
  return stages.size === 1 ? [...stages][0] : undefined;
}

export interface CommandResult {
  readonly code: number;
  readonly output: string;
  readonly seconds: number;
}

/** Runs a command; its output is kept (and streamed with `stream`). */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stream?: (text: string) => void },
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      options.stream?.(chunk.toString());
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => {
      output += `${error.message}\n`;
    });
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), output, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

/** The project's pinned CDK CLI (node_modules/.bin/cdk), never one npx would fetch. */
export function cdkBinary(projectDir: string): string {
  const binary = join(projectDir, 'node_modules', '.bin', 'cdk');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm ci first`);
  return binary;
}

export function bootstrapArgs(assemblyDir: string): string[] {
  return ['bootstrap', `aws://${EMULATOR_ACCOUNT}/${EMULATOR_REGION}`, '--app', assemblyDir, '--no-notices'];
}

export function deployArgs(assemblyDir: string, stackCount: number): string[] {
  return [
    'deploy',
    '--all',
    '--app',
    assemblyDir,
    // moto finds change sets by name only, and the CLI gives every stack's the same name: with change sets,
    // concurrent deploys would apply one another's, and the outputs would be lost.
    '--method=direct',
    '--require-approval',
    'never',
    '--concurrency',
    String(Math.max(1, stackCount)),
    '--no-notices',
    '--progress',
    'events',
  ];
}

export function destroyArgs(assemblyDir: string): string[] {
  return ['destroy', '--all', '--app', assemblyDir, '--force', '--no-notices'];
}

/** One resource after the deploy: the coverage finding and, for a created one, its lookup. */
export interface ResourceReport extends CoverageFinding {
  readonly stackName: string;
  /** The lookup's answer, or why there is none. */
  readonly lookup?: string;
  /** Whether the run fails because of it. */
  readonly failed: boolean;
  /** For the destroy check: how to look it up again, and whether the destroy keeps it. */
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly retained: boolean;
}

function emulatorContext(stackName: string): ResolveContext {
  const stackId = `arn:aws:cloudformation:${EMULATOR_REGION}:${EMULATOR_ACCOUNT}:stack/${stackName}/local`;
  const { partition, region, accountId } = stackEnvironment(stackId);
  return {
    partition,
    region,
    accountId,
    stackName,
    stackId,
    urlSuffix: urlSuffixOf(partition),
    resources: new Map(),
    parameters: {},
  };
}

/**
 * Compares every resource of every synthesized template with what CloudFormation lists for its stack, and looks
 * each created one up through its API. A stack that is not there fails all of its resources.
 */
export async function verifyDeployment(
  clients: Clients,
  stacks: readonly AssemblyStack[],
): Promise<ResourceReport[]> {
  const reports: ResourceReport[] = [];
  for (const stack of stacks) {
    const deployed = await readStack(clients, stack.stackName);
    const expected = expectedResources(stack.template, deployed?.context ?? emulatorContext(stack.stackName));
    const failedStack =
      deployed && !/^(CREATE|UPDATE)_COMPLETE$/.test(deployed.status)
        ? `${deployed.status}${deployed.statusReason ? `: ${deployed.statusReason}` : ''}`
        : deployed
          ? undefined
          : 'not deployed';
    const findings = compareResources(expected, deployed?.resources ?? new Map(), undefined, failedStack);
    const byId = new Map(expected.map((resource) => [resource.logicalId, resource]));
    const lookups = findings.map(async (finding): Promise<ResourceReport> => {
      const resource = byId.get(finding.logicalId);
      const retained = resource ? retainedOnDestroy(resource) : false;
      const base = { ...finding, stackName: stack.stackName, retained };
      if (finding.status !== 'created' || !deployed || !resource) {
        return { ...base, failed: isFailure(finding) };
      }
      // Property by property: a lookup needs a few (a policy's roles, a permission's function), and one that
      // cannot be derived from names (a table's stream ARN) must not hide the others.
      const properties: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(resource.properties)) {
        const resolved = tryResolve(value, deployed.context);
        if ('value' in resolved) properties[name] = resolved.value;
      }
      const input = { physicalId: finding.physicalId ?? '', properties };
      try {
        const answer = await lookupResource(clients, finding.type, input);
        if (!answer)
          return {
            ...base,
            properties,
            failed: false,
            lookup: `not looked up: ${NOTHING_TO_LOOK_UP[finding.type]}`,
          };
        return { ...base, properties, failed: answer.found !== true, lookup: answer.detail };
      } catch (error) {
        return {
          ...base,
          properties,
          failed: true,
          lookup: `${(error as Error).name}: ${(error as Error).message}`,
        };
      }
    });
    reports.push(...(await Promise.all(lookups)));
  }
  return reports;
}

/** Lines about the resources: one per stack and type, every failure in full, and what the launcher models. */
export function describeResources(reports: readonly ResourceReport[]): string[] {
  const lines: string[] = [];
  const stacks = [...new Set(reports.map((report) => report.stackName))];
  for (const stackName of stacks) {
    const mine = reports.filter((report) => report.stackName === stackName);
    const types = new Map<string, ResourceReport[]>();
    for (const report of mine) types.set(report.type, [...(types.get(report.type) ?? []), report]);
    const bad = mine.filter((report) => report.failed).length;
    lines.push(
      `${bad ? 'FAIL' : 'PASS'}  ${stackName}: ${mine.length - bad} of ${mine.length} resources created and found`,
    );
    for (const [type, group] of types) {
      const failed = group.filter((report) => report.failed);
      const how = LAUNCHER_MODELS[type] ? ` [launcher model: ${LAUNCHER_MODELS[type]}]` : '';
      if (failed.length === 0) {
        const notes = [...new Set(group.map((report) => report.lookup ?? report.detail))];
        lines.push(`        ${type} x${group.length}: ${notes.length === 1 ? notes[0] : 'found'}${how}`);
      }
      for (const report of failed) {
        lines.push(
          `  FAIL  ${type} ${report.logicalId}: ${report.detail}${report.lookup ? `; ${report.lookup}` : ''}`,
        );
      }
    }
  }
  return lines;
}

/** After the destroy: every stack gone, and every resource its DeletionPolicy does not keep no longer found. */
export async function verifyDestroyed(
  clients: Clients,
  stacks: readonly AssemblyStack[],
  reports: readonly ResourceReport[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const stack of stacks) {
    const left = await readStack(clients, stack.stackName);
    if (left)
      problems.push(
        `${stack.stackName} is still there: ${left.status}${left.statusReason ? ` (${left.statusReason})` : ''}`,
      );
  }
  const checks = reports
    .filter((report) => report.status === 'created' && report.properties && !report.retained)
    .map(async (report) => {
      const answer = await lookupResource(clients, report.type, {
        physicalId: report.physicalId ?? '',
        properties: report.properties!,
      }).catch((error: Error) => ({ found: 'unknown' as const, detail: `${error.name}: ${error.message}` }));
      if (answer && answer.found !== false) {
        problems.push(
          `${report.stackName} ${report.type} ${report.logicalId} is still there after the destroy (${answer.detail})`,
        );
      }
    });
  await Promise.all(checks);
  return problems;
}
