/**
 * Synthesizing for template tests. Bundling is skipped (`aws:cdk:bundling-stacks: []`): these tests read the
 * template, not the code, and esbuild per function per test would dominate the suite's time. Tests that
 * need a real bundle use {@link bundlingApp}.
 *
 * Every test app gets cdk.json's context (its feature flags), so a test sees the template `cdk synth` writes.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { context as cdkJsonContext } from '../../cdk.json';

/** An App with cdk.json's context whose stacks skip bundling; extra context merged in. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], ...context } });
}

/** An App with cdk.json's context that bundles (esbuild in the test process) into a fresh temporary outdir. */
export function bundlingApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext, ...context } });
}

/** A bare stack in a test app, for construct tests. */
export function testStack(context: Record<string, unknown> = {}): Stack {
  return new Stack(testApp(context), 'TestStack');
}

/** The template of a stack. */
export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}

/** The logical id of a construct's CloudFormation resource (its default child) in its stack. */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The error `build` throws (a construct refusing its props); fails the test when it throws none. */
export function errorThrownBy(build: () => unknown, what: unknown): Error {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`no error for ${JSON.stringify(what)}`);
}
