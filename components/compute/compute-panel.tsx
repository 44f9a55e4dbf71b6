"use client";

import { useMutation } from "@tanstack/react-query";
import { api, errorMessage } from "@/lib/api-client";
import type { Compute, Operation } from "@/lib/api-types";
import { canResume, canSuspend, COMPUTE_STATE_DISPLAY, isTransitional } from "@/lib/compute-states";
import { actorLabel, bytes, seconds } from "@/lib/format";
import { poolingSummary } from "@/lib/pooling-summary";
import { sessionsSummary } from "@/lib/sessions-summary";
import { useInvalidateProject } from "../data/projects";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { useCan } from "../organizations/role-context";
import { RelativeTime } from "../ui/relative-time";
import { useToast } from "../ui/toast";
import { StateBadge } from "./state-badge";

/** When an idle compute will pause and go cold if nothing happens (the scheduler's rule, DESIGN.md). */
function forecast(c: Compute): { pauseAt: Date | null; coldAt: Date | null; awake: string | null } {
  const changed = new Date(c.stateChangedAt).getTime();
  const lastActive = c.lastActiveAt ? new Date(c.lastActiveAt).getTime() : 0;
  if (c.state === "running") {
    if (c.activeConnections > 0) {
      // Pinned sessions are idle but cannot park: say so, since that is what a person can change.
      const pinnedOnly = c.sessions && c.sessions.pinned === c.activeConnections;
      const what = pinnedOnly ? "pinned session" : "open connection";
      return { pauseAt: null, coldAt: null, awake: `${c.activeConnections} ${what}${c.activeConnections === 1 ? " keeps" : "s keep"} it running` };
    }
    if (c.suspendTimeoutSeconds === 0) return { pauseAt: null, coldAt: null, awake: "Never pauses (suspend timeout 0)" };
    const pauseAt = Math.max(changed, lastActive) + c.suspendTimeoutSeconds * 1000;
    return { pauseAt: new Date(pauseAt), coldAt: c.coldAfterSeconds === 0 ? null : new Date(pauseAt + c.coldAfterSeconds * 1000), awake: null };
  }
  if (c.state === "paused" && c.coldAfterSeconds > 0) return { pauseAt: null, coldAt: new Date(changed + c.coldAfterSeconds * 1000), awake: null };
  return { pauseAt: null, coldAt: null, awake: null };
}

/** "park idle sessions after 5 min", or that it does not. */
function parkRule(c: Compute): string {
  const after = c.parkAfterSeconds ?? c.suspendTimeoutSeconds;
  return c.parkIdleSessions && after > 0 ? `park idle sessions after ${seconds(after)}` : "idle sessions not parked";
}

function Fact({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium tracking-wide text-slate-600 uppercase">{label}</dt>
      <dd className="mt-0.5 text-sm text-slate-900" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

/** The compute's state, live, with Resume and Suspend; what keeps it awake and what woke it last. */
export function ComputePanel({ compute, operations, userId }: { compute: Compute; operations: Operation[]; userId: string }) {
  const toast = useToast();
  const invalidate = useInvalidateProject(compute.projectId);
  // A viewer sees the compute but gets no Suspend or Resume (the API would answer 403).
  const canWrite = useCan("projects.write");
  const resume = useMutation({
    mutationFn: () => api("POST", `/api/v1/compute/${compute.id}/resume`),
    onSuccess: () => toast("Compute running", { description: "It accepts connections again." }),
    onError: (e) => toast("Resume failed", { description: errorMessage(e), tone: "error" }),
    onSettled: () => invalidate(),
  });
  const suspend = useMutation({
    mutationFn: () => api("POST", `/api/v1/compute/${compute.id}/suspend`),
    onSuccess: () => toast("Compute suspended", { description: "The next connection wakes it." }),
    onError: (e) => toast("Suspend failed", { description: errorMessage(e), tone: "error" }),
    onSettled: () => invalidate(),
  });
  const busy = resume.isPending || suspend.isPending || isTransitional(compute.state);
  const { pauseAt, coldAt, awake } = forecast(compute);
  const sessionsLine = compute.sessions ? sessionsSummary(compute.sessions) : null;
  const [poolLine, queueLine] = compute.pooling ? poolingSummary(compute.pooling) : [];
  const lastWake = operations.find((op) => op.kind === "resume_compute" || op.kind === "create_compute" || op.kind === "restart_compute");

  const suspendButton = (
    <Button variant="secondary" loading={suspend.isPending} disabled={busy || !canSuspend(compute.state)} onClick={compute.activeConnections > 0 ? undefined : () => suspend.mutate()}>
      {suspend.isPending ? "Suspending…" : "Suspend"}
    </Button>
  );

  return (
    <Card
      id="compute"
      title="Compute"
      actions={
        canWrite ? (
        <>
          <Button variant="secondary" loading={resume.isPending} disabled={busy || !canResume(compute.state)} onClick={() => resume.mutate()}>
            {resume.isPending ? "Resuming…" : "Resume"}
          </Button>
          {compute.activeConnections > 0 ? (
            <ConfirmDialog
              trigger={suspendButton}
              title="Suspend the compute?"
              description={`${compute.activeConnections} open ${compute.activeConnections === 1 ? "connection" : "connections"} will be closed.${
                compute.sessions?.parked ? ` ${compute.sessions.parked} parked ${compute.sessions.parked === 1 ? "session stays" : "sessions stay"} connected.` : ""
              } The next connection wakes the compute.`}
              confirmLabel="Suspend"
              onConfirm={() => suspend.mutateAsync().catch(() => undefined)}
            />
          ) : (
            suspendButton
          )}
        </>
        ) : undefined
      }
    >
      <div className="flex flex-wrap items-center gap-3">
        <StateBadge state={compute.state} />
        <p className="text-sm text-slate-700" aria-live="polite">
          {COMPUTE_STATE_DISPLAY[compute.state].description}
        </p>
      </div>
      {compute.state === "failed" && compute.failureReason ? (
        <p className="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{compute.failureReason}</p>
      ) : null}
      <dl className="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
        <Fact label="Size">{compute.size} CU</Fact>
        <Fact label="Connections" testId="active-connections">
          {compute.activeConnections}
        </Fact>
        <Fact label="Last activity">{compute.lastActiveAt ? <RelativeTime at={compute.lastActiveAt} /> : "none yet"}</Fact>
        <Fact label="In this state since">
          <RelativeTime at={compute.stateChangedAt} />
        </Fact>
        {compute.storage ? (
          <Fact label="Storage">
            {compute.storage.usedBytes === null ? "unknown" : bytes(compute.storage.usedBytes)} of {bytes(compute.storage.limitBytes)}
          </Fact>
        ) : null}
        <Fact label="Idle rules">
          pause after {compute.suspendTimeoutSeconds ? seconds(compute.suspendTimeoutSeconds) : "never"}, cold after{" "}
          {compute.coldAfterSeconds ? seconds(compute.coldAfterSeconds) : "never"}, {parkRule(compute)}
        </Fact>
      </dl>
      <div className="mt-4 space-y-1 border-t border-slate-100 pt-3 text-sm text-slate-700">
        {sessionsLine ? <p data-testid="compute-sessions">{sessionsLine}.</p> : null}
        {poolLine ? <p data-testid="compute-pooling">{poolLine}.</p> : null}
        {queueLine ? <p data-testid="compute-pool-queue">{queueLine}.</p> : null}
        {awake ? <p>{awake}.</p> : null}
        {pauseAt ? (
          <p>
            If nothing connects, it pauses <RelativeTime at={pauseAt} />
            {coldAt ? (
              <>
                {" "}
                and goes cold about <RelativeTime at={coldAt} />
              </>
            ) : null}
            .
          </p>
        ) : coldAt ? (
          <p>
            If nothing connects, it goes cold about <RelativeTime at={coldAt} /> (the scheduler adapts this to how often it wakes).
          </p>
        ) : null}
        {lastWake ? (
          <p data-testid="last-wake">
            Last woken <RelativeTime at={lastWake.createdAt} /> by {actorLabel(lastWake.actor, { userId })}
            {lastWake.reason ? `: ${lastWake.reason}` : ""}.
          </p>
        ) : null}
      </div>
    </Card>
  );
}
