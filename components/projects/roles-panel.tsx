"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, errorMessage, fieldErrors } from "@/lib/api-client";
import type { Connection, Role } from "@/lib/api-types";
import { RoleCreateSchema } from "@/lib/schemas";
import { keys } from "../data/keys";
import { useRoles } from "../data/projects";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { useCan } from "../organizations/role-context";
import { Dialog } from "../ui/dialog";
import { InputField } from "../ui/field";
import { RelativeTime } from "../ui/relative-time";
import { EmptyState, ErrorState, SkeletonRows } from "../ui/states";
import { useToast } from "../ui/toast";
import { CodeBlock } from "./code-block";

/** The project's MariaDB roles: list, create, reset a password, delete. Passwords are shown once, in a dialog. */
export function RolesPanel({ projectId, initial, slug }: { projectId: string; initial: Role[]; slug: string }) {
  const client = useQueryClient();
  const toast = useToast();
  const { data, error, isPending, refetch } = useRoles(projectId, initial);
  const canWrite = useCan("projects.write");
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const [shown, setShown] = useState<Connection | null>(null);
  const invalidate = () => client.invalidateQueries({ queryKey: keys.roles(projectId) });

  const create = useMutation({
    mutationFn: (roleName: string) => api<{ connection: Connection }>("POST", `/api/v1/projects/${projectId}/roles`, { name: roleName }),
    onSuccess: ({ connection }) => {
      setName("");
      setShown(connection);
      toast("Role created");
    },
    onError: (e) => setNameError(fieldErrors(e).name ? `Name ${fieldErrors(e).name}.` : errorMessage(e)),
    onSettled: invalidate,
  });
  const reset = useMutation({
    mutationFn: (roleName: string) => api<{ connection: Connection }>("POST", `/api/v1/projects/${projectId}/roles/${roleName}/reset-password`),
    onSuccess: ({ connection }) => {
      setShown(connection);
      toast("Password reset");
    },
    onError: (e) => toast("Reset failed", { description: errorMessage(e), tone: "error" }),
  });
  const remove = useMutation({
    mutationFn: (roleName: string) => api("DELETE", `/api/v1/projects/${projectId}/roles/${roleName}`),
    onSuccess: (_, roleName) => toast(`Role ${roleName} deleted`),
    onError: (e) => toast("Delete failed", { description: errorMessage(e), tone: "error" }),
    onSettled: invalidate,
  });

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setNameError(null);
    const parsed = RoleCreateSchema.safeParse({ name });
    if (!parsed.success) return setNameError(`Name ${parsed.error.issues[0]?.message ?? "is not valid"}.`);
    create.mutate(parsed.data.name);
  };

  return (
    <Card id="roles" title="Roles" description={`MariaDB accounts of this project; clients log in as ${slug}.<role>.`}>
      {isPending ? (
        <SkeletonRows rows={2} label="Loading roles" />
      ) : error && !data ? (
        <ErrorState message={`Could not load the roles: ${errorMessage(error)}`} onRetry={() => void refetch()} />
      ) : !data?.length ? (
        <EmptyState title="No roles">{canWrite ? "Create a role below to connect to this project." : "This project has no database roles yet."}</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100" aria-label="Roles">
          {data.map((role) => (
            <li key={role.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <div className="min-w-0">
                <p className="font-mono text-sm font-medium">{role.name}</p>
                <p className="text-xs text-slate-600">
                  created <RelativeTime at={role.createdAt} />
                </p>
              </div>
              {canWrite ? (
              <div className="flex gap-2">
                <ConfirmDialog
                  trigger={
                    <Button size="sm" variant="secondary" aria-label={`Reset password of ${role.name}`}>
                      Reset password
                    </Button>
                  }
                  title={`Reset the password of ${role.name}?`}
                  description="A new password is made and shown once. Clients using the old one can no longer connect."
                  confirmLabel="Reset password"
                  onConfirm={() => reset.mutateAsync(role.name).catch(() => undefined)}
                />
                <ConfirmDialog
                  trigger={
                    <Button size="sm" variant="ghost" className="text-red-700" aria-label={`Delete role ${role.name}`}>
                      Delete
                    </Button>
                  }
                  title={`Delete the role ${role.name}?`}
                  description="Its MariaDB account is dropped; clients logged in as it can no longer connect."
                  confirmLabel="Delete role"
                  onConfirm={() => remove.mutateAsync(role.name).catch(() => undefined)}
                />
              </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {canWrite ? (
      <form onSubmit={submit} className="mt-4 flex flex-wrap items-start gap-2 border-t border-slate-100 pt-4" noValidate aria-label="New role">
        <div className="min-w-0 flex-1 basis-48">
          <InputField label="New role name" value={name} onChange={(e) => setName(e.target.value)} error={nameError} placeholder="e.g. reporting" autoComplete="off" />
        </div>
        <Button type="submit" loading={create.isPending} className="mt-6">
          Create role
        </Button>
      </form>
      ) : null}
      <Dialog open={shown !== null} onOpenChange={(open) => !open && setShown(null)} title={`Password for ${shown?.user ?? ""}`} description="Copy it now: it is not shown again.">
        {shown ? (
          <div className="space-y-3">
            <CodeBlock code={shown.password ?? ""} label="password" wrap />
            <CodeBlock code={shown.uri} label="connection URI" wrap />
            <div className="flex justify-end">
              <Button onClick={() => setShown(null)}>Done</Button>
            </div>
          </div>
        ) : null}
      </Dialog>
    </Card>
  );
}
