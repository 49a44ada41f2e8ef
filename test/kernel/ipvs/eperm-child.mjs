// Run as an unprivileged user by errors.test.ts: tries to add a service and prints the error.
import { IpvsClient } from '@lvsd/ipvs';
const c = await IpvsClient.open();
try {
  await c.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80 });
  console.log(JSON.stringify({ code: 'no error' }));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, errno: e.errno, errnoName: e.errnoName, object: { service: { address: e.object?.service?.address } } }));
} finally {
  c.close();
}
