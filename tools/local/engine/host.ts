/**
 * The host realm's `process` and `Date`. Handler bundles are compiled by Node's own module loader, so they see
 * the globals of Node's main context. Under a test runner that runs tests in a separate context (Jest), the
 * test's `process.env` and `Date` are copies: the simulator sets the environment and the virtual clock on the
 * host's objects, which are the same objects when it runs as a plain script.
 */
import { runInThisContext } from 'node:vm';

export const hostProcess = runInThisContext('process') as NodeJS.Process;
export const hostDate = runInThisContext('Date') as DateConstructor;
