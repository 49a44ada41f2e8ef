// keepalived's real_server checkers as @lvsd/health targets. The config model has
// already resolved inheritance (checker <- real server <- virtual server), so each
// checker carries its full options.
import type { CheckerOptions, HealthTarget } from '@lvsd/health';
import type { Checker, CheckerConnection, RealServer, TrackFileDef, VirtualServer } from '../config/model.js';

function common(c: Checker) {
  return {
    delay_loop: c.delayLoop,
    retry: c.retry,
    delay_before_retry: c.delayBeforeRetry,
    warmup: c.warmup,
    alpha: c.alpha,
  };
}

function connection(c: CheckerConnection) {
  const o: Record<string, unknown> = {
    connect_ip: c.connectIp,
    connect_port: c.connectPort,
    connect_timeout: c.connectTimeout,
  };
  if (c.bindto !== undefined) o.bindto = c.bindto;
  if (c.bindPort !== undefined) o.bind_port = c.bindPort;
  if (c.bindIf !== undefined) o.bind_if = c.bindIf;
  if (c.fwmark !== undefined) o.fwmark = c.fwmark;
  return o;
}

export function checkerOptions(c: Checker, trackFiles: readonly TrackFileDef[], netns?: string): CheckerOptions {
  const ns = netns ? { netns } : {};
  switch (c.type) {
    case 'TCP_CHECK':
      return { checker: 'TCP_CHECK', ...common(c), ...connection(c), ...ns };
    case 'PING_CHECK':
      return { checker: 'PING_CHECK', ...common(c), ...connection(c), ...ns };
    case 'HTTP_GET':
    case 'SSL_GET':
      return {
        checker: c.type,
        ...common(c),
        ...connection(c),
        ...ns,
        url: c.urls.map((u) => ({
          path: u.path,
          digest: u.digest,
          status_code: u.statusCode,
          virtualhost: u.virtualhost,
          regex: u.regex,
          regex_no_match: u.regexNoMatch,
          regex_options: u.regexOptions,
          regex_min_offset: u.regexMinOffset,
          regex_max_offset: u.regexMaxOffset,
        })),
        http_protocol: c.httpProtocol,
        virtualhost: c.virtualhost,
        enable_sni: c.enableSni,
        fast_recovery: c.fastRecovery,
      };
    case 'UDP_CHECK':
      return {
        checker: 'UDP_CHECK',
        ...common(c),
        ...connection(c),
        ...ns,
        payload: c.payload,
        require_reply: c.replyData ?? c.requireReply,
        min_reply_length: c.minReplyLength,
        max_reply_length: c.maxReplyLength,
      };
    case 'DNS_CHECK':
      return { checker: 'DNS_CHECK', ...common(c), ...connection(c), ...ns, type: c.queryType, name: c.name };
    case 'SMTP_CHECK':
      return { checker: 'SMTP_CHECK', ...common(c), ...connection(c), ...ns, helo_name: c.heloName };
    case 'MISC_CHECK': {
      const user = c.script.user !== undefined ? { user: c.script.user, group: c.script.group } : undefined;
      return {
        checker: 'MISC_CHECK',
        ...common(c),
        misc_path: c.script.argv,
        misc_timeout: c.timeout,
        misc_dynamic: c.dynamic,
        ...(user ? { user } : {}),
      };
    }
    case 'FILE_CHECK': {
      const def = trackFiles.find((f) => f.name === c.trackFile);
      return { checker: 'FILE_CHECK', track_file: c.trackFile, file: def?.file ?? c.trackFile, weight: c.weight, reverse: c.weightReverse };
    }
  }
}

/** The health target of a real server; undefined when it has no checkers (always alive). */
export function healthTarget(
  id: string,
  vs: VirtualServer,
  rs: RealServer,
  trackFiles: readonly TrackFileDef[],
  netns?: string,
): HealthTarget | undefined {
  if (rs.checkers.length === 0) return undefined;
  return {
    id,
    address: rs.address,
    port: rs.port,
    weight: rs.weight,
    virtualServer: { omega: vs.omega, alpha: vs.alpha, inhibit_on_failure: vs.inhibitOnFailure },
    realServer: { alpha: rs.alpha, inhibit_on_failure: rs.inhibitOnFailure },
    checkers: rs.checkers.map((c) => checkerOptions(c, trackFiles, netns)),
  };
}
