/** Jest: TypeScript through SWC (no type-check here; `npm run lint` runs tsc), Node environment. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  snapshotSerializers: ['<rootDir>/test/helpers/cdk-snapshot-serializer.ts'],
  testTimeout: 60000,
};
