describe('lambda/stream-consumer/index.ts', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.resetModules();
  });

  it('builds the handler from the environment ConsumerFunction sets', () => {
    process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency';
    process.env.EFFECT_TABLE_NAME = 'effects';
    process.env.IDEMPOTENCY_EXPIRY_SECONDS = '86400';
    process.env.IDEMPOTENCY_SCHEME = 'read-then-complete';
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { handler } = require('../../../lambda/stream-consumer/index');
      expect(typeof handler).toBe('function');
    });
  });

  it('fails at cold start, clearly, without its table', () => {
    delete process.env.IDEMPOTENCY_TABLE_NAME;
    process.env.EFFECT_TABLE_NAME = 'effects';
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect(() => require('../../../lambda/stream-consumer/index')).toThrow(
        /IDEMPOTENCY_TABLE_NAME is not set/,
      );
    });
  });

  it('fails at cold start, clearly, without its effect table', () => {
    process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency';
    delete process.env.EFFECT_TABLE_NAME;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect(() => require('../../../lambda/stream-consumer/index')).toThrow(/EFFECT_TABLE_NAME is not set/);
    });
  });
});
