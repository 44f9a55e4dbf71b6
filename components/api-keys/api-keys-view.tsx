"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, errorMessage, fieldErrors } from "@/lib/api-client";
import type { ApiKey } from "@/lib/api-types";
import { apiKeyRoles, can, ROLE_SUMMARIES, type MemberRole } from "@/lib/roles";
import { ApiKeyCreateSchema } from "@/lib/schemas";
import { useRole } from "../organizations/role-context";
import { keys } from "../data/keys";
import { CodeBlock } from "../projects/code-block";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { Dialog } from "../ui/dialog";
import { InputField, SelectField } from "../ui/field";
import { RelativeTime } from "../ui/relative-time";
import { EmptyState, ErrorState, SkeletonRows } from "../ui/states";
import { useToast } from "../ui/toast";

/**
 * API keys of the organization: create (the secret shown once, with Copy), list with prefix and last use,
 * revoke. A key acts with a role no higher than its creator's (the form offers only those, defaulting to
 * one's own); viewers make no keys, members revoke their own, owners and admins anyone's.
 */
export function ApiKeysView({ initial, userId }: { initial: ApiKey[]; userId: string }) {
  const myRole = useRole();
  const canCreate = can(myRole, "api_keys.write");
  const canRevokeAny = can(myRole, "api_keys.revoke_any");
  const [role, setRole] = useState<MemberRole>(myRole);
  const client = useQueryClient();
  const toast = useToast();
  const { data, error, isPending, refetch } = useQuery({
    queryKey: keys.apiKeys(),
    queryFn: async () => (await api<{ apiKeys: ApiKey[] }>("GET", "/api/v1/api-keys?limit=100")).apiKeys,
    initialData: initial,
    refetchInterval: 30_000,
  });
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const invalidate = () => client.invalidateQueries({ queryKey: keys.apiKeys() });

  const create = useMutation({
    mutationFn: (input: { name: string; role: MemberRole }) => api<{ apiKey: ApiKey; key: string }>("POST", "/api/v1/api-keys", input),
    onSuccess: ({ apiKey, key }) => {
      setName("");
      setSecret({ name: apiKey.name, key });
    },
    onError: (e) => setNameError(fieldErrors(e).name ? `Name ${fieldErrors(e).name}.` : errorMessage(e)),
    onSettled: invalidate,
  });
  const revoke = useMutation({
    mutationFn: (key: ApiKey) => api("DELETE", `/api/v1/api-keys/${key.id}`),
    onSuccess: (_, key) => toast(`API key ${key.name} revoked`, { description: "It stopped working at once." }),
    onError: (e) => toast("Revoke failed", { description: errorMessage(e), tone: "error" }),
    onSettled: invalidate,
  });

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setNameError(null);
    const parsed = ApiKeyCreateSchema.safeParse({ name, role });
    if (!parsed.success) return setNameError(`Name ${parsed.error.issues[0]?.message ?? "is not valid"}.`);
    create.mutate({ name: parsed.data.name, role });
  };

  return (
    <div className="space-y-6">
      {canCreate ? (
      <Card
        title="Create an API key"
        description={
          <>
            Send it as <code className="font-mono text-xs">Authorization: Bearer &lt;key&gt;</code> to the REST API under{" "}
            <code className="font-mono text-xs">/api/v1</code>.
          </>
        }
      >
        <form onSubmit={submit} className="flex flex-wrap items-start gap-2" noValidate aria-label="New API key">
          <div className="min-w-0 flex-1 basis-56">
            <InputField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={nameError} placeholder="e.g. ci-deploy" autoComplete="off" hint="What or who uses it, so you can tell keys apart." />
          </div>
          <div className="min-w-0 flex-1 basis-56">
            <SelectField
              label="Role"
              value={role}
              onChange={(e) => setRole(e.target.value as MemberRole)}
              options={apiKeyRoles(myRole).map((r) => ({ value: r, label: `${r[0]!.toUpperCase()}${r.slice(1)}` }))}
              hint={`${role[0]!.toUpperCase()}${role.slice(1)}: ${ROLE_SUMMARIES[role]}. At most your own role; lowering yours lowers the key's.`}
            />
          </div>
          <Button type="submit" loading={create.isPending} className="mt-6">
            Create API key
          </Button>
        </form>
      </Card>
      ) : (
        <Card title="Create an API key">
          <p className="text-sm text-slate-700">Your role (viewer) can see the organization&apos;s keys but not create them. Ask an owner or admin for the member role.</p>
        </Card>
      )}

      <Card title="Active keys">
        {isPending ? (
          <SkeletonRows label="Loading API keys" />
        ) : error && !data ? (
          <ErrorState message={`Could not load the API keys: ${errorMessage(error)}`} onRetry={() => void refetch()} />
        ) : !data?.length ? (
          <EmptyState title="No API keys">{canCreate ? "Create one above to use the REST API from scripts and CI." : "Nobody in this organization has made one yet."}</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100" aria-label="API keys">
            {data.map((k) => (
              <li key={k.id} data-testid="api-key-row" className="flex flex-wrap items-center justify-between gap-2 py-3">
                <div className="min-w-0">
                  <p className="font-medium">{k.name}</p>
                  <p className="text-xs text-slate-600">
                    <code className="font-mono">{k.prefix}…</code> · <span data-testid="api-key-role">{k.role}</span> · created <RelativeTime at={k.createdAt} /> ·{" "}
                    {k.lastUsedAt ? (
                      <>
                        last used <RelativeTime at={k.lastUsedAt} />
                      </>
                    ) : (
                      "never used"
                    )}
                  </p>
                </div>
                {canRevokeAny || (canCreate && k.createdById === userId) ? (
                <ConfirmDialog
                  trigger={
                    <Button size="sm" variant="ghost" className="text-red-700" aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </Button>
                  }
                  title={`Revoke ${k.name}?`}
                  description="Calls made with it are refused at once. This cannot be undone."
                  confirmLabel="Revoke key"
                  onConfirm={() => revoke.mutateAsync(k).catch(() => undefined)}
                />
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Card>

      <Dialog open={secret !== null} onOpenChange={(open) => !open && setSecret(null)} title={`API key ${secret?.name ?? ""}`} description="Copy the key now: it is not shown again.">
        {secret ? (
          <div className="space-y-3">
            <CodeBlock code={secret.key} label="API key" testId="api-key-secret" wrap />
            <div className="flex justify-end">
              <Button onClick={() => setSecret(null)}>Done</Button>
            </div>
          </div>
        ) : null}
      </Dialog>
    </div>
  );
}
