/**
 * SigV4 for the IAM-authorized route: each attempt is signed for `execute-api` in the API's region, over the
 * headers the client sends (the Idempotency-Key included), and the server receives exactly what was signed.
 */
import { submit } from '../../../tools/http-client/client';
import { regionOfExecuteApiUrl, sigV4Signer } from '../../../tools/http-client/sigv4';
import { type ScriptedServer, scriptedServer } from './scripted-server';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.stop();
});

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'token',
};

describe('sigV4Signer', () => {
  it('signs every attempt for execute-api, with the Idempotency-Key among the signed headers', async () => {
    server = await scriptedServer([{ status: 503 }, { status: 202, body: {} }]);
    const result = await submit(
      { orderId: 'o-1' },
      {
        url: server.url,
        sign: sigV4Signer({ region: 'eu-west-1', credentials: CREDENTIALS }),
        policy: { baseDelayMs: 1 },
      },
    );
    expect(result.ok).toBe(true);
    for (const { headers } of server.seen) {
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host;idempotency-key[^,]*, Signature=[0-9a-f]{64}$/,
      );
      expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(headers['x-amz-security-token']).toBe('token');
      expect(headers['idempotency-key']).toBe(`"${result.idempotencyKey}"`);
    }
  });

  it('reads the region off an execute-api URL, and says so when it cannot', async () => {
    expect(regionOfExecuteApiUrl(new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/orders'))).toBe(
      'eu-west-1',
    );
    expect(regionOfExecuteApiUrl(new URL('http://127.0.0.1:8080/orders'))).toBeUndefined();
    const sign = sigV4Signer({ credentials: CREDENTIALS });
    await expect(
      sign({ method: 'POST', url: new URL('http://127.0.0.1:1/orders'), headers: {}, body: '' }),
    ).rejects.toThrow(/cannot tell the region/);
  });
});
