// undici's Client module on its own. The package index also loads fetch, WebSocket,
// EventSource, the mock agent and caches: over 100 files, about 8 s of CPU in the lab
// kernel before the first HTTP check could run, against 19 files for the Client.
declare module 'undici/lib/dispatcher/client.js' {
  import type { Client } from 'undici';
  const ClientClass: typeof Client;
  export default ClientClass;
}
