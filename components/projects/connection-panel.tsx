"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, errorMessage } from "@/lib/api-client";
import type { Connection } from "@/lib/api-types";
import { CONNECTION_SNIPPETS, SNIPPET_CLIENTS, type ConnectionInfo } from "@/lib/connection-snippets";
import { keys } from "../data/keys";
import { useSecret } from "../data/projects";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { useCan } from "../organizations/role-context";
import { CopyButton } from "../ui/copy-button";
import { Tabs } from "../ui/tabs";
import { useToast } from "../ui/toast";
import { CodeBlock } from "./code-block";

function Value({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium tracking-wide text-slate-600 uppercase">{label}</dt>
      <dd className="mt-0.5 flex items-center gap-2">
        <code data-testid={testId} className="min-w-0 truncate rounded bg-slate-100 px-1.5 py-0.5 font-mono text-sm">
          {value}
        </code>
      </dd>
    </div>
  );
}

/**
 * How to connect: host, port, user `<slug>.<role>`, database, and one snippet per client (the table in
 * lib/connection-snippets.ts), each with a Copy button. The password appears only right after creation or
 * a reset (it is never stored); otherwise "Reset password" makes a new one.
 */
export function ConnectionPanel({ projectId, role, base }: { projectId: string; role: string; base: Omit<ConnectionInfo, "password"> }) {
  const client = useQueryClient();
  const toast = useToast();
  const { data: secret } = useSecret(projectId);
  const canWrite = useCan("projects.write");
  const password = secret && secret.user === base.user ? secret.password : null;
  const info: ConnectionInfo = { ...base, password };
  const reset = useMutation({
    mutationFn: () => api<{ connection: Connection }>("POST", `/api/v1/projects/${projectId}/roles/${role}/reset-password`),
    onSuccess: ({ connection }) => {
      client.setQueryData(keys.secret(projectId), connection);
      toast("Password reset", { description: `The old password of ${base.user} no longer works.` });
    },
    onError: (e) => toast("Reset failed", { description: errorMessage(e), tone: "error" }),
  });

  return (
    <Card id="connection" title="Connection" description="Connect through the proxy with any MariaDB or MySQL client.">
      <dl className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <Value label="Host" value={info.host} testId="conn-host" />
        <Value label="Port" value={String(info.port)} testId="conn-port" />
        <Value label="User" value={info.user} testId="conn-user" />
        <Value label="Database" value={info.database} testId="conn-database" />
      </dl>

      <div className="mt-4">
        {password ? (
          <div className="rounded-md border border-amber-300 bg-amber-50 p-3" role="status">
            <p className="text-sm font-medium text-amber-900">Password for {info.user}: copy it now. It is not shown again.</p>
            <div className="mt-2 flex items-center gap-2">
              <code data-testid="conn-password" className="min-w-0 flex-1 rounded bg-white px-2 py-1 font-mono text-sm break-all">
                {password}
              </code>
              <CopyButton value={password} label="password" />
              <Button size="sm" variant="ghost" onClick={() => client.setQueryData(keys.secret(projectId), null)}>
                Hide
              </Button>
            </div>
          </div>
        ) : !canWrite ? (
          <p className="rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-700">The password was shown once, to whoever made it. Members and above can reset it.</p>
        ) : (
          <div className="flex flex-wrap items-center justify-between gap-3 rounded-md bg-slate-50 px-3 py-2">
            <p className="text-sm text-slate-700">The password was shown once, when it was made. Lost it? Make a new one.</p>
            <ConfirmDialog
              trigger={
                <Button size="sm" variant="secondary" loading={reset.isPending}>
                  Reset password
                </Button>
              }
              title={`Reset the password of ${info.user}?`}
              description="A new password is made and shown once. Clients using the old one can no longer connect."
              confirmLabel="Reset password"
              onConfirm={() => reset.mutateAsync().catch(() => undefined)}
            />
          </div>
        )}
      </div>

      <div className="mt-4">
        <Tabs
          label="Connection snippets"
          items={SNIPPET_CLIENTS.map((key) => {
            const snippet = CONNECTION_SNIPPETS[key];
            return {
              value: key,
              label: snippet.label,
              content: <CodeBlock code={snippet.render(info)} label={`${snippet.label} snippet`} testId={`snippet-${key}`} />,
            };
          })}
        />
      </div>
    </Card>
  );
}
