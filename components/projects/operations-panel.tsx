"use client";

import { errorMessage } from "@/lib/api-client";
import type { Operation } from "@/lib/api-types";
import { actorLabel, duration, operationKindLabel } from "@/lib/format";
import { useOperations } from "../data/projects";
import { Card } from "../ui/card";
import { CursorPager, useCursorPages } from "../ui/cursor-pager";
import { cn } from "../ui/cn";
import { RelativeTime } from "../ui/relative-time";
import { EmptyState, ErrorState, SkeletonRows } from "../ui/states";

const STATUS_TONE: Record<string, string> = {
  succeeded: "text-emerald-800",
  failed: "text-red-800",
  running: "text-sky-800",
  pending: "text-sky-800",
};

/** The operations log: kind, status, who, why, how long, when; newest first, paged by cursor. */
export function OperationsPanel({ projectId, initial, userId }: { projectId: string; initial: { operations: Operation[]; nextCursor: string | null }; userId: string }) {
  const pages = useCursorPages();
  const { cursor } = pages;
  const { data, error, isPending, refetch } = useOperations(projectId, cursor, initial);

  return (
    <Card id="operations" title="Operations" description="Who or what created, woke, paused or suspended the compute, and why.">
      {isPending ? (
        <SkeletonRows label="Loading operations" />
      ) : error && !data ? (
        <ErrorState message={`Could not load the operations: ${errorMessage(error)}`} onRetry={() => void refetch()} />
      ) : !data?.operations.length ? (
        <EmptyState title="No operations yet">Creating, waking and suspending the compute are recorded here.</EmptyState>
      ) : (
        <>
          <div className="-mx-4 overflow-x-auto sm:mx-0">
            <table className="w-full min-w-[40rem] text-left text-sm">
              <thead className="text-xs tracking-wide text-slate-600 uppercase">
                <tr>
                  <th scope="col" className="px-4 py-2 font-medium sm:pl-0">Kind</th>
                  <th scope="col" className="px-2 py-2 font-medium">Status</th>
                  <th scope="col" className="px-2 py-2 font-medium">Who</th>
                  <th scope="col" className="px-2 py-2 font-medium">Why</th>
                  <th scope="col" className="px-2 py-2 font-medium">Took</th>
                  <th scope="col" className="px-2 py-2 font-medium">When</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {data.operations.map((op) => (
                  <tr key={op.id} data-testid="operation-row" data-kind={op.kind}>
                    <td className="px-4 py-2 font-medium whitespace-nowrap sm:pl-0">{operationKindLabel(op.kind)}</td>
                    <td className={cn("px-2 py-2 whitespace-nowrap", STATUS_TONE[op.status] ?? "text-slate-800")}>{op.status}</td>
                    <td className="px-2 py-2 whitespace-nowrap">{actorLabel(op.actor, { userId })}</td>
                    <td className="px-2 py-2 text-slate-700">
                      {op.reason ?? "—"}
                      {op.error ? <span className="block text-red-800">{op.error}</span> : null}
                    </td>
                    <td className="px-2 py-2 whitespace-nowrap tabular-nums">{op.durationMs === null ? "…" : duration(op.durationMs)}</td>
                    <td className="px-2 py-2 whitespace-nowrap">
                      <RelativeTime at={op.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <CursorPager pages={pages} nextCursor={data.nextCursor} />
        </>
      )}
    </Card>
  );
}
