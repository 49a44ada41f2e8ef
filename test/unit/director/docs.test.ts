// docs/keepalived.md lists every keyword the parser knows, with the parser's status.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keywordTables } from '@lvsd/director';

const doc = readFileSync(new URL('../../../docs/keepalived.md', import.meta.url), 'utf8');

describe('docs/keepalived.md', () => {
  const tables = keywordTables();
  it.each(Object.keys(tables))('lists the %s keywords with their status', (block) => {
    const section = doc.split(`\n### ${block}\n`)[1]?.split('\n### ')[0];
    expect(section, `section ### ${block}`).toBeDefined();
    for (const [kw, { status }] of Object.entries(tables[block]!)) {
      expect(section, kw).toContain(`| \`${kw}\` | ${status} |`);
    }
  });
});
