// lvsd's side of the health benchmark: a HealthChecker with N targets on
// loopback addresses, delay_loop 1, the same options as keepalived's config.
import { HealthChecker } from '../../packages/health/dist/index.js';

const [kind, n, port] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const hc = new HealthChecker({ concurrency: 4096 });
let downs = 0;
hc.on('down', () => downs++);
for (let i = 0; i < n; i++) {
  const address = `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  const checker = kind === 'http' ? { checker: 'HTTP_GET', url: [{ path: '/', status_code: [200] }] } : { checker: 'TCP_CHECK' };
  hc.add({ id: `rs${i}`, address, port, virtualServer: { delay_loop: 1, connect_timeout: 3 }, checkers: [checker] });
}
hc.start();
process.on('message', (m) => {
  if (m === 'stats') process.send({ attempts: hc.attempts, downs, inFlight: hc.inFlight });
  if (m === 'exit') {
    hc.stop();
    process.exit(0);
  }
});
process.send?.({ ready: true });
