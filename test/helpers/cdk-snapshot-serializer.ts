/**
 * Jest snapshot serializer for CloudFormation templates: masks what changes when only handler code (or the
 * aws-cdk-lib version) changes, so a snapshot diff in review means an infrastructure change.
 *
 * Masked: 64-hex asset hashes (S3 keys `<hash>.zip`, also inside Fn::Join / Fn::Sub strings), and the
 * bootstrap-version rule's parameter. Logical ids are not derived from code hashes here (no `currentVersion`).
 */
const ASSET_HASH = /[0-9a-f]{64}/g;
const MASKED = '[ASSET-HASH]';

/** A copy of `value` with every asset hash replaced by `[ASSET-HASH]` (also used directly by tests). */
export function maskAssetHashes(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(ASSET_HASH, MASKED);
  if (Array.isArray(value)) return value.map(maskAssetHashes);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key.replace(ASSET_HASH, MASKED), maskAssetHashes(child)]),
    );
  }
  return value;
}

const MARKER = Symbol.for('cdk-snapshot-serializer.masked');

// The serializer jest.config.js registers (`test` and `serialize` as module exports).
export function test(value: unknown): boolean {
  return (
    !!value &&
    typeof value === 'object' &&
    'Resources' in (value as object) &&
    !(value as Record<symbol, unknown>)[MARKER]
  );
}

export function serialize(
  value: unknown,
  config: unknown,
  indentation: string,
  depth: number,
  refs: unknown,
  printer: (value: unknown, config: unknown, indentation: string, depth: number, refs: unknown) => string,
): string {
  const masked = maskAssetHashes(value) as Record<string | symbol, unknown>;
  Object.defineProperty(masked, MARKER, { value: true, enumerable: false });
  return printer(masked, config, indentation, depth, refs);
}
