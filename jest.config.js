/** Jest: TypeScript through SWC (no type-check here; `npm run lint` runs tsc), Node environment. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The heavier suites (real bundles through the simulator, tens of seconds each) are `npm run test:heavy`, which CI
  // runs after `npm test`: the crash-point enumeration (`npm run test:crash-points`), the stream under outages
  // (`npm run test:outages`), the stream's two idempotency schemes compared, the property-based runs (10,000
  // records per path), the named poison scenarios of the FIFO and DynamoDB Streams paths, and the real bundles run
  // by the simulator and by `npm run invoke` (real-handlers, invoke; the http path's: http-bundle), and CDK's
  // built-in CloudFormation validation of the whole app (a 9 MB WebAssembly rule engine, ≈5 s of CPU; `npm run synth` runs the same validation and
  // fails on a finding, since cdk.json sets `@aws-cdk/core:validateAgainstDefaultRules`).
  testPathIgnorePatterns: [
    '/node_modules/',
    '/test/tools/local/(crash-points|stream-outages|idempotency-schemes|properties|poison-scenarios|real-handlers|invoke|http-bundle)\\.test\\.ts$',
    '/test/lib/cloudformation-validation\\.test\\.ts$',
    '/test/bench/init-parts\\.test\\.ts$',
    '/test/tools/deploy-local/.*\\.emulator\\.test\\.ts$',
    '/test/tools/redrive/.*\\.emulator\\.test\\.ts$',
    // The HTML timeline in a real headless Chromium (Debian's package): `npm run test:browser`, which CI runs.
    '\\.browser\\.test\\.ts$',
  ],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  snapshotSerializers: ['<rootDir>/test/helpers/cdk-snapshot-serializer.ts'],
  // Skips CDK's built-in CloudFormation validation in template tests (seconds per test file); one test runs it.
  setupFiles: ['<rootDir>/test/helpers/jest-setup.ts'],
  // A directory the files of a run share, e.g. for the one bundled cloud assembly (test/helpers/cloud-assembly.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // One and a half workers per core (3 on a 2-core machine): some tests wait on real time (a hung SDK call's request
  // timeout, a loopback server's slow answer, a child process), and a third worker keeps the cores busy meanwhile
  // (2 workers: 40.8 s, 3: 35.2-37.2 s, measured 2026-12-01). jest reads a percentage string above 100 % as a
  // plain worker count, hence the arithmetic.
  // Capped: every worker synthesizes CDK apps (hundreds of MB each), and a large CI runner would start dozens.
  maxWorkers: Math.min(8, Math.max(2, Math.round(require('node:os').availableParallelism() * 1.5))),
  testTimeout: 60000,
};
