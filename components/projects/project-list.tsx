"use client";

import Link from "next/link";
import type { ProjectListItem } from "@/lib/api-types";
import { errorMessage } from "@/lib/api-client";
import { useProjects } from "../data/projects";
import { useCan } from "../organizations/role-context";
import { StateBadge } from "../compute/state-badge";
import { LinkButton } from "../ui/link-button";
import { RelativeTime } from "../ui/relative-time";
import { EmptyState, ErrorState, SkeletonRows } from "../ui/states";

/** The organization's projects, each with its compute's state, kept current by polling. */
export function ProjectList({ initial }: { initial: ProjectListItem[] }) {
  const { data, error, isPending, refetch } = useProjects(initial);
  const canCreate = useCan("projects.write");
  if (isPending) return <SkeletonRows label="Loading projects" />;
  if (error && !data) return <ErrorState message={`Could not load your projects: ${errorMessage(error)}`} onRetry={() => void refetch()} />;
  if (!data?.length) {
    return (
      <EmptyState
        title="No projects yet"
        action={canCreate ? <LinkButton href="/projects/new">New project</LinkButton> : undefined}
      >
        {canCreate
          ? "A project is a MariaDB database with its own compute. Create one to get a connection string; it suspends when idle and wakes on the next connection."
          : "This organization has no projects yet. Your role (viewer) can read them but not create one."}
      </EmptyState>
    );
  }
  return (
    <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white shadow-sm" aria-label="Projects">
      {data.map((p) => (
        <li key={p.id} className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3 sm:px-5">
          <div className="min-w-0">
            <Link href={`/projects/${p.id}`} className="font-medium text-indigo-700 hover:underline">
              {p.name}
            </Link>
            <p className="truncate font-mono text-xs text-slate-600">{p.slug}</p>
          </div>
          <div className="flex items-center gap-4 text-sm text-slate-600">
            <span className="hidden sm:inline">
              created <RelativeTime at={p.createdAt} />
            </span>
            <StateBadge state={p.compute?.state ?? null} />
          </div>
        </li>
      ))}
    </ul>
  );
}
