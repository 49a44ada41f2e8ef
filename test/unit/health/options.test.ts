import { describe, expect, it } from 'vitest';
import { parseHex, parseStatusCodes, resolveCheckerOptions, resolveTarget, splitCommandLine, HealthConfigError } from '@lvsd/health';

describe('resolveCheckerOptions: keepalived inheritance', () => {
  const rs = { address: '192.0.2.10', port: 8080 };
  it('applies keepalived defaults per checker type', () => {
    const tcp = resolveCheckerOptions(undefined, rs, { checker: 'TCP_CHECK' });
    expect(tcp.timing).toMatchObject({ alpha: false, retry: 1, delayLoop: 60000, delayBeforeRetry: 1000, warmup: 60000, timeout: 5000, rise: 1 });
    expect(tcp.connection).toMatchObject({ ip: '192.0.2.10', port: 8080, family: 4 });
    const http = resolveCheckerOptions({ delay_loop: 10 }, rs, { checker: 'HTTP_GET', url: [{ path: '/' }] });
    expect(http.timing).toMatchObject({ retry: 1, delayBeforeRetry: 3000, delayLoop: 10000, warmup: 10000 });
    const dns = resolveCheckerOptions({ delay_loop: 7 }, rs, { checker: 'DNS_CHECK' });
    expect(dns.timing).toMatchObject({ retry: 3, delayBeforeRetry: 7000 });
    const misc = resolveCheckerOptions({ delay_loop: 7 }, rs, { checker: 'MISC_CHECK', misc_path: '/bin/true' });
    expect(misc.timing).toMatchObject({ retry: 0, timeout: 7000 });
    expect(misc.connection).toBeUndefined();
  });

  it('takes each option from checker, else real server, else virtual server', () => {
    const r = resolveCheckerOptions(
      { delay_loop: 6, retry: 4, connect_timeout: 9, warmup: 2, alpha: true, virtualhost: 'vs.example', inhibit_on_failure: true },
      { ...rs, nb_get_retry: 5, delay_before_retry: 2, virtualhost: 'rs.example' },
      { checker: 'HTTP_GET', url: [{ path: '/' }], connect_timeout: 1, connect_ip: '192.0.2.20', connect_port: 81, alpha: false },
    );
    expect(r.timing).toMatchObject({ delayLoop: 6000, retry: 5, timeout: 1000, warmup: 2000, alpha: false, delayBeforeRetry: 2000, inhibitOnFailure: true });
    expect(r.virtualhost).toBe('rs.example');
    expect(r.connection).toMatchObject({ ip: '192.0.2.20', port: 81 });
  });

  it('rejects bad options with a clear error', () => {
    const bad = (c: object) => () => resolveTarget({ id: 't', address: '192.0.2.1', port: 80, checkers: [c as never] });
    expect(bad({ checker: 'NOPE' })).toThrow(HealthConfigError);
    expect(bad({ checker: 'HTTP_GET', url: [] })).toThrow(/url/);
    expect(bad({ checker: 'HTTP_GET', url: [{ path: '/', digest: 'abc' }] })).toThrow(/digest/);
    expect(bad({ checker: 'HTTP_GET', url: [{ path: '/', status_code: ['2xx'] }] })).toThrow(/status/);
    expect(bad({ checker: 'HTTP_GET', url: [{ path: '/', regex: '(' }] })).toThrow(/regex/);
    expect(bad({ checker: 'TCP_CHECK', bindto: '::1' })).toThrow(/bindto/);
    expect(bad({ checker: 'TCP_CHECK', delay_loop: 0 })).toThrow(/delay_loop/);
    expect(bad({ checker: 'MISC_CHECK', misc_path: '' })).toThrow(/misc_path/);
    expect(bad({ checker: 'UDP_CHECK', payload: 'zz' })).toThrow(/hex/);
    expect(bad({ checker: 'DNS_CHECK', type: 'PTR' })).toThrow(/DNS_CHECK type/);
  });
});

describe('option parsers', () => {
  it('status_code: codes and ranges, default 200-299', () => {
    expect(parseStatusCodes(undefined)).toEqual([[200, 299]]);
    expect(parseStatusCodes(['200-299', '400-499', 503, [505, 505]])).toEqual([
      [200, 299],
      [400, 499],
      [503, 503],
      [505, 505],
    ]);
    expect(parseStatusCodes(200)).toEqual([[200, 200]]);
  });

  it("hex: keepalived's free format and x wildcards", () => {
    expect(parseHex('Ab12f 3 456 546443123', false).bytes.toString('hex')).toBe('ab120f034506546443120 3'.replace(/ /g, ''));
    const w = parseHex('0aXb', true);
    expect([...w.bytes]).toEqual([0x0a, 0x0b]);
    expect([...w.mask]).toEqual([0xff, 0x0f]);
  });

  it('splits a misc_path like a shell, without expansion', () => {
    expect(splitCommandLine(`/bin/sh -c 'exit 7' "a b" c\\ d $HOME`)).toEqual(['/bin/sh', '-c', 'exit 7', 'a b', 'c d', '$HOME']);
    expect(() => splitCommandLine(`/bin/echo 'x`)).toThrow(/unterminated/);
  });
});
