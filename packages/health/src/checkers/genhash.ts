import { createHash } from 'node:crypto';

/** MD5 of a body as keepalived's genhash prints it (lower-case hex). */
export function genhash(body: Buffer | string): string {
  return createHash('md5').update(body).digest('hex');
}
