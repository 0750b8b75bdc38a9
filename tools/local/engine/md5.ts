/**
 * MD5 as hex, for the digests AWS puts in events (SQS `md5OfBody`, S3 `eTag`) and Kinesis partition-key hashing.
 * The one-shot `crypto.hash` (Node.js 20.12+) is several times cheaper per call than `createHash().update()
 * .digest()`, which the simulator calls for every record; older Node.js versions fall back to it.
 */
import * as crypto from 'node:crypto';

const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export const md5Hex: (text: string) => string = oneShot
  ? (text) => oneShot('md5', text, 'hex')
  : (text) => crypto.createHash('md5').update(text, 'utf8').digest('hex');
