/**
 * Synthesizing for template tests. Bundling is skipped (`aws:cdk:bundling-stacks: []`): these tests read the
 * template, not the code, and esbuild per function per test would dominate the suite's time. Tests that
 * need a real bundle synthesize without this.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** An App whose stacks skip bundling; extra context merged in. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
}

/** A bare stack in a test app, for construct tests. */
export function testStack(context: Record<string, unknown> = {}): Stack {
  return new Stack(testApp(context), 'TestStack');
}

/** The template of a stack. */
export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}
