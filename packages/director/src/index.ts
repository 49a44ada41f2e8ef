// @lvsd/director: the Director (VRRP + IPVS + health checks), keepalived.conf, the lvsd CLI.
export * from './config/index.js';
