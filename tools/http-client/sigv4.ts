/**
 * AWS Signature Version 4 for the http path's API, whose route is IAM-authorized (API Gateway answers `403` to an
 * unsigned request): a {@link RequestSigner} for client.ts, signing each attempt for the `execute-api` service with
 * the caller's credentials (the SDK's default chain: environment, profile, SSO, instance or container role).
 * Uses the AWS SDK's own signer (`@smithy/signature-v4`) with SHA-256 from `node:crypto`.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { RequestSigner } from './client';

/** SHA-256 (or HMAC-SHA-256 with a secret) as the signer wants it. */
class Sha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }

  update(data: Uint8Array | string): void {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.create();
  }

  private create(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? this.secret
        : ArrayBuffer.isView(this.secret)
          ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
}

export interface SigV4Options {
  /** The API's region (`eu-west-1`). @default read from an execute-api URL's host */
  readonly region?: string;
  /** @default the SDK's default credential chain */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** The region in an `https://<id>.execute-api.<region>.amazonaws.com` URL, if it is one. */
export function regionOfExecuteApiUrl(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

/** Signs each request for `execute-api` in the API's region. */
export function sigV4Signer(options: SigV4Options = {}): RequestSigner {
  const credentials = options.credentials ?? defaultProvider();
  const signers = new Map<string, SignatureV4>();
  return async (request) => {
    const region = options.region ?? regionOfExecuteApiUrl(request.url);
    if (!region) {
      throw new Error(`cannot tell the region of ${request.url.origin}: pass --region (or AWS_REGION)`);
    }
    let signer = signers.get(region);
    if (!signer) {
      signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
      signers.set(region, signer);
    }
    const signed = await signer.sign({
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port && { port: Number(request.url.port) }),
      path: request.url.pathname,
      query: Object.fromEntries(request.url.searchParams),
      headers: { ...request.headers, host: request.url.host },
      body: request.body,
    });
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
}
