import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const addon = fileURLToPath(new URL('../../../native/build/Release/lvsd_native.node', import.meta.url));

// A child process: the throw has to reach process 'uncaughtException', which
// vitest would otherwise take as its own failure.
const script = `
const n = require(${JSON.stringify(addon)});
const fd = n.socket(2, 2, 0);
const a = Buffer.alloc(16); a.writeUInt16LE(2, 0); a.writeUInt32BE(0x7f000001, 4);
n.bind(fd, a);
process.on('uncaughtException', (e) => { console.log('uncaught: ' + e.message); process.exit(0); });
const p = new n.Poller(fd, () => { throw new Error('listener threw'); });
p.start();
n.sendmsg(fd, Buffer.from('x'), n.getsockname(fd));
setTimeout(() => { console.log('no event'); process.exit(3); }, 2000);
`;

describe('Poller', () => {
  it('hands a callback that throws to uncaughtException instead of aborting the process', () => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(r.signal).toBeNull();
    expect(r.stdout).toContain('uncaught: listener threw');
    expect(r.status).toBe(0);
  });
});
