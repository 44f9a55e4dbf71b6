// Recognises the statements that name a connection id: `KILL [QUERY | CONNECTION] <id>` (what the mariadb
// CLI sends on a second connection when you press Ctrl-C), alone or as the first of several statements
// (`KILL 5; SELECT SLEEP(0.05)`, as pools and test suites send it with multi-statements on). Anything else
// is not ours to touch.

export interface KillStatement {
  query: boolean;
  hard: boolean | null;
  id: number;
  /** The statements after the KILL, from its `;` on, kept as the client wrote them ("" when none). */
  rest: string;
}

/** Whether a COM_QUERY payload's statement starts with a K after blanks (only then can parseKill match it). */
export function startsWithKill(payload: Buffer): boolean {
  for (let i = 1; i < payload.length; i++) {
    const c = payload[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c) continue;
    return c === 0x4b || c === 0x6b;
  }
  return false;
}

const KILL = /^\s*KILL\s+(?:(HARD|SOFT)\s+)?(QUERY\s+|CONNECTION\s+)?(\d{1,10})\s*(;[\s\S]*)?$/i;

export function parseKill(sql: string): KillStatement | null {
  const m = KILL.exec(sql);
  if (!m) return null;
  const id = Number(m[3]);
  if (!Number.isSafeInteger(id) || id > 0xffffffff) return null;
  // A lone trailing `;` is no further statement: dropped, as the compute would ignore it.
  const rest = m[4] && !/^;\s*$/.test(m[4]) ? m[4] : "";
  return { hard: m[1] ? m[1].toUpperCase() === "HARD" : null, query: Boolean(m[2] && /^QUERY/i.test(m[2])), id, rest };
}

/** The statement for the compute: the same KILL naming the compute's thread id, then the rest unchanged. */
export function formatKill(k: KillStatement, id: number): string {
  return `KILL ${k.hard === null ? "" : k.hard ? "HARD " : "SOFT "}${k.query ? "QUERY " : ""}${id}${k.rest}`;
}
