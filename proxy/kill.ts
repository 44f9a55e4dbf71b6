// Recognises the statements that name a connection id: `KILL [QUERY | CONNECTION] <id>` (what the mariadb
// CLI sends on a second connection when you press Ctrl-C). Anything else is not ours to touch.

export interface KillStatement {
  query: boolean;
  hard: boolean | null;
  id: number;
}

const KILL = /^\s*KILL\s+(?:(HARD|SOFT)\s+)?(QUERY\s+|CONNECTION\s+)?(\d{1,10})\s*;?\s*$/i;

export function parseKill(sql: string): KillStatement | null {
  const m = KILL.exec(sql);
  if (!m) return null;
  const id = Number(m[3]);
  if (!Number.isSafeInteger(id) || id > 0xffffffff) return null;
  return { hard: m[1] ? m[1].toUpperCase() === "HARD" : null, query: Boolean(m[2] && /^QUERY/i.test(m[2])), id };
}

export function formatKill(k: KillStatement, id: number): string {
  return `KILL ${k.hard === null ? "" : k.hard ? "HARD " : "SOFT "}${k.query ? "QUERY " : ""}${id}`;
}
