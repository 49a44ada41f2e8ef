import { describe, expect, it } from 'vitest';
import { evaluateQuorum, initialQuorumUp, type QuorumServer } from '@lvsd/health';

const rs = (id: string, alive: boolean, weight = 1, inhibit?: boolean): QuorumServer => ({ id, alive, weight, inhibit_on_failure: inhibit });

describe('evaluateQuorum (keepalived update_quorum_state)', () => {
  it('defaults to quorum 1: up while any live weight remains', () => {
    expect(initialQuorumUp({}, [rs('a', true)])).toBe(true);
    const d = evaluateQuorum({}, true, [rs('a', false), rs('b', false)]);
    expect(d).toMatchObject({ up: false, transition: 'quorum_down', weightSum: 0, destinations: [] });
  });

  it('hysteresis: gain needs quorum + h, loss needs < quorum - h', () => {
    const cfg = { quorum: 4, hysteresis: 1 };
    const servers = (n: number) => Array.from({ length: 6 }, (_, i) => rs(`r${i}`, i < n));
    expect(initialQuorumUp(cfg, servers(4))).toBe(false);
    expect(evaluateQuorum(cfg, false, servers(4))).toMatchObject({ up: false, threshold: 5 });
    expect(evaluateQuorum(cfg, false, servers(5))).toMatchObject({ up: true, transition: 'quorum_up' });
    // once up, 3 is still enough (threshold 4 - 1), 2 is not
    expect(evaluateQuorum(cfg, true, servers(3))).toMatchObject({ up: true, transition: undefined, threshold: 3 });
    expect(evaluateQuorum(cfg, true, servers(2))).toMatchObject({ up: false, transition: 'quorum_down' });
    // flapping between 3 and 4 live servers never changes the state
    let up = true;
    for (let i = 0; i < 20; i++) {
      const d = evaluateQuorum(cfg, up, servers(3 + (i % 2)));
      expect(d.transition).toBeUndefined();
      up = d.up;
    }
  });

  it('uses effective weights; a live server with weight 0 counts nothing', () => {
    const d = evaluateQuorum({ quorum: 10 }, false, [rs('a', true, 4), rs('b', true, 6), rs('c', true, 0)]);
    expect(d).toMatchObject({ up: true, weightSum: 10 });
    expect(d.destinations).toEqual([
      { id: 'a', weight: 4 },
      { id: 'b', weight: 6 },
      { id: 'c', weight: 0 },
    ]);
  });

  it('inhibit_on_failure keeps failed servers at weight 0', () => {
    const d = evaluateQuorum({ inhibit_on_failure: true }, true, [rs('a', true, 3), rs('b', false, 3), rs('c', false, 3, false)]);
    expect(d.destinations).toEqual([
      { id: 'a', weight: 3 },
      { id: 'b', weight: 0 },
    ]);
  });

  it('sorry_server replaces the pool while quorum is lost, and leaves when it is back', () => {
    const cfg = { quorum: 2, sorry_server: { address: '10.0.0.9', port: 80 } };
    const lost = evaluateQuorum(cfg, true, [rs('a', true), rs('b', false)]);
    expect(lost).toMatchObject({ up: false, transition: 'quorum_down', sorryActive: true, destinations: [{ id: 'sorry_server', weight: 1 }] });
    const back = evaluateQuorum(cfg, false, [rs('a', true), rs('b', true)]);
    expect(back).toMatchObject({ up: true, transition: 'quorum_up', sorryActive: false });
    expect(back.destinations.map((d) => d.id)).toEqual(['a', 'b']);
    // at start with quorum down, the sorry server is installed (a quorum_down transition)
    expect(evaluateQuorum(cfg, false, [rs('a', false)], { init: true })).toMatchObject({ transition: 'quorum_down', sorryActive: true });
    // inhibited servers stay at weight 0 next to the sorry server
    const inh = evaluateQuorum({ ...cfg, inhibit_on_failure: true }, false, [rs('a', true), rs('b', false)]);
    expect(inh.destinations).toEqual([
      { id: 'a', weight: 0 },
      { id: 'b', weight: 0 },
      { id: 'sorry_server', weight: 1 },
    ]);
  });

  it('sorry_server_inhibit keeps the sorry server at weight 0 while quorum holds', () => {
    const d = evaluateQuorum({ sorry_server: { address: '10.0.0.9' }, sorry_server_inhibit: true }, true, [rs('a', true)]);
    expect(d.destinations).toEqual([
      { id: 'a', weight: 1 },
      { id: 'sorry_server', weight: 0 },
    ]);
  });
});
