"use client";

import { useState } from "react";
import { Button } from "./button";

// Paging through a list the API returns a page at a time with `nextCursor`: the cursors of the pages seen
// so far are kept, so "Newer" goes back without refetching from the start.

export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    cursor: cursors[cursors.length - 1] ?? null,
    isFirst: cursors.length === 1,
    newer: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    older: (next: string) => setCursors((c) => [...c, next]),
  };
}

export function CursorPager({ pages, nextCursor }: { pages: ReturnType<typeof useCursorPages>; nextCursor: string | null | undefined }) {
  return (
    <div className="mt-3 flex justify-end gap-2">
      <Button size="sm" variant="secondary" disabled={pages.isFirst} onClick={pages.newer}>
        Newer
      </Button>
      <Button size="sm" variant="secondary" disabled={!nextCursor} onClick={() => nextCursor && pages.older(nextCursor)}>
        Older
      </Button>
    </div>
  );
}
