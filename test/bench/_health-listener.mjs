// The real servers of the health benchmark: one wildcard listener answers every
// loopback address (127.0.0.0/8 is all local), TCP (accept and close) or HTTP
// (200 "ok", connection closed). Counts what it served; the parent asks over IPC.
import http from 'node:http';
import net from 'node:net';

const [kind, port] = [process.argv[2], Number(process.argv[3])];
let served = 0;
let server;
if (kind === 'http') {
  server = http.createServer({ keepAlive: false }, (req, res) => {
    served++;
    res.setHeader('connection', 'close');
    res.end('ok\n');
  });
} else {
  server = net.createServer({ pauseOnConnect: true }, (s) => {
    served++;
    s.destroy();
  });
}
server.on('error', (e) => {
  console.error('listener:', e.message);
  process.exit(1);
});
server.listen({ port, host: '0.0.0.0', backlog: 8192 }, () => process.send({ ready: true }));
process.on('message', (m) => {
  if (m === 'count') process.send({ served });
  if (m === 'exit') process.exit(0);
});
