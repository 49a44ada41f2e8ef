// Prometheus metrics of one director, in a registry of its own (never the global
// one: two directors in one process must not collide), and an optional listener.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const STATE_VALUE: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

export class DirectorMetrics {
  readonly registry = new Registry();
  readonly vrrpState = new Gauge({
    name: 'lvsd_vrrp_state',
    help: 'VRRP instance state: 0 init, 1 backup, 2 master, 3 fault, 4 stopped',
    labelNames: ['instance'],
    registers: [this.registry],
  });
  readonly vrrpTransitions = new Counter({
    name: 'lvsd_vrrp_transitions_total',
    help: 'VRRP state transitions',
    labelNames: ['instance', 'to'],
    registers: [this.registry],
  });
  readonly realServerUp = new Gauge({
    name: 'lvsd_real_server_up',
    help: 'Real server health: 1 up, 0 down',
    labelNames: ['virtual_server', 'real_server'],
    registers: [this.registry],
  });
  readonly realServerWeight = new Gauge({
    name: 'lvsd_real_server_weight',
    help: 'Real server effective weight',
    labelNames: ['virtual_server', 'real_server'],
    registers: [this.registry],
  });
  readonly quorumUp = new Gauge({
    name: 'lvsd_quorum_up',
    help: 'Virtual server quorum: 1 up, 0 lost',
    labelNames: ['virtual_server'],
    registers: [this.registry],
  });
  readonly ipvsApplies = new Counter({ name: 'lvsd_ipvs_apply_total', help: 'IPVS table applies', registers: [this.registry] });
  readonly ipvsOps = new Counter({ name: 'lvsd_ipvs_messages_total', help: 'IPVS netlink messages sent to the kernel (one per service or real server changed)', registers: [this.registry] });
  readonly ipvsApplySeconds = new Histogram({
    name: 'lvsd_ipvs_apply_seconds',
    help: 'Time to apply a change to the IPVS table',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly errors = new Counter({ name: 'lvsd_errors_total', help: 'Errors the director survived', labelNames: ['part'], registers: [this.registry] });
  private server: Server | undefined;

  setVrrpState(instance: string, state: string): void {
    this.vrrpState.set({ instance }, STATE_VALUE[state] ?? -1);
    this.vrrpTransitions.inc({ instance, to: state });
  }

  /** Serves /metrics on host:port (loopback by default). Resolves with the bound port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', () => {}); // a later socket error must not take the director down
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    return new Promise((r) => (s ? s.close(() => r()) : r()));
  }
}
