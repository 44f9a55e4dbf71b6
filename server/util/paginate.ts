import type { Pagination } from "@/lib/schemas";

// Keyset pagination by id cursor: ask for one row more than the limit to know whether another page exists.
export const page = {
  query(p: Pagination) {
    return { take: p.limit + 1, ...(p.cursor ? { cursor: { id: p.cursor }, skip: 1 } : {}) };
  },
  result<T extends { id: string }>(rows: T[], p: Pagination): { items: T[]; nextCursor: string | null } {
    const items = rows.slice(0, p.limit);
    return { items, nextCursor: rows.length > p.limit ? (items[items.length - 1]?.id ?? null) : null };
  },
};
