/**
 * Function code written in TypeScript for the simulator itself (tests, the seeds' walk-through): a plain
 * function of the event that reports which records it performed a side effect for. No bundle, no DynamoDB.
 */
import type { FunctionCode, FunctionInvocation, FunctionResult } from './lambda';

export type ScriptedHandler = (
  invocation: FunctionInvocation,
) =>
  | { readonly returns?: unknown; readonly sideEffects?: readonly string[] }
  | { readonly throws: Error; readonly sideEffects?: readonly string[] };

/** Function code from a synchronous script: return a value, or throw an error, and name the side effects. */
export function scriptedFunction(
  handler: ScriptedHandler,
): FunctionCode & { readonly calls: FunctionInvocation[] } {
  const calls: FunctionInvocation[] = [];
  return {
    calls,
    async invoke(invocation: FunctionInvocation): Promise<FunctionResult> {
      calls.push(invocation);
      const result = handler(invocation);
      const sideEffects = result.sideEffects ?? [];
      if ('throws' in result) {
        return {
          outcome: { kind: 'threw', errorType: result.throws.name, errorMessage: result.throws.message },
          sideEffects,
        };
      }
      return { outcome: { kind: 'returned', payload: result.returns }, sideEffects };
    },
  };
}
