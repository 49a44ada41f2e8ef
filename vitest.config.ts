// Three projects: `unit` (pure logic, anywhere), `netns` (host network namespaces,
// root: VRRP and health checks against real peers), `kernel` (runs inside the
// user-mode Linux lab: IPVS and anything else the host kernel lacks).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// The subpath first: the first entry that matches a prefix wins.
const alias = {
  '@lvsd/native/errors': src('./native/lib/errors.ts'),
  '@lvsd/native': src('./native/lib/index.ts'),
  '@lvsd/ipvs': src('./packages/ipvs/src/index.ts'),
  '@lvsd/vrrp': src('./packages/vrrp/src/index.ts'),
  '@lvsd/health': src('./packages/health/src/index.ts'),
  '@lvsd/director': src('./packages/director/src/index.ts'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      { resolve: { alias }, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        resolve: { alias },
        test: { name: 'netns', include: ['test/netns/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        resolve: { alias },
        test: {
          name: 'kernel',
          include: ['test/kernel/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
