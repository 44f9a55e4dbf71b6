"use client";

import * as Menu from "@radix-ui/react-dropdown-menu";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { useState } from "react";
import { api, errorMessage, fieldErrors } from "@/lib/api-client";
import type { Organization } from "@/lib/api-types";
import { OrganizationCreateSchema } from "@/lib/schemas";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { InputField } from "../ui/field";
import { useToast } from "../ui/toast";

/**
 * The organization the console acts in, in the header: a menu of the user's organizations (with their role
 * in each) and "New organization". Switching sets the session's current organization
 * (PATCH /api/v1/organizations/current) and reloads what the pages show.
 */
export function OrganizationSwitcher({ organizations }: { organizations: Organization[] }) {
  const router = useRouter();
  const pathname = usePathname();
  const client = useQueryClient();
  const toast = useToast();
  const [creating, setCreating] = useState(false);
  const current = organizations.find((o) => o.current);

  /** After a switch: a page of one project belongs to the old organization, so go to the list. */
  const reload = async () => {
    if (/^\/projects\/.+/.test(pathname)) router.push("/projects");
    router.refresh();
    await client.invalidateQueries();
  };

  const change = useMutation({
    mutationFn: (org: Organization) => api("PATCH", "/api/v1/organizations/current", { organizationId: org.id }),
    onSuccess: async (_, org) => {
      await reload();
      toast(`Switched to ${org.name}`, { description: `Your role there: ${org.role}.` });
    },
    onError: (e) => toast("Could not switch organization", { description: errorMessage(e), tone: "error" }),
  });

  return (
    <>
      <Menu.Root>
        <Menu.Trigger asChild>
          <Button variant="secondary" size="sm" className="max-w-[9.5rem] min-w-0 sm:max-w-xs" loading={change.isPending} data-testid="org-switcher">
            <span className="sr-only">Organization: </span>
            <span className="truncate">{current?.name ?? "No organization"}</span>
            <span aria-hidden="true" className="text-slate-500">
              ▾
            </span>
          </Button>
        </Menu.Trigger>
        <Menu.Portal>
          <Menu.Content align="start" sideOffset={4} className="z-50 max-h-[70vh] w-72 max-w-[calc(100vw-1rem)] overflow-y-auto rounded-md border border-slate-200 bg-white p-1 shadow-lg">
            <Menu.Label className="px-2 py-1.5 text-xs font-medium text-slate-600">Organizations</Menu.Label>
            <Menu.RadioGroup value={current?.id ?? ""}>
              {organizations.map((org) => (
                <Menu.RadioItem
                  key={org.id}
                  value={org.id}
                  onSelect={() => {
                    if (!org.current) change.mutate(org);
                  }}
                  className="flex cursor-pointer items-center justify-between gap-2 rounded px-2 py-2 text-sm text-slate-800 outline-none data-[highlighted]:bg-indigo-50"
                >
                  <span className="flex min-w-0 items-center gap-2">
                    <span aria-hidden="true" className="w-3 text-indigo-700">
                      <Menu.ItemIndicator>✓</Menu.ItemIndicator>
                    </span>
                    <span className="truncate">{org.name}</span>
                  </span>
                  <span className="shrink-0 text-xs text-slate-600">{org.role}</span>
                </Menu.RadioItem>
              ))}
            </Menu.RadioGroup>
            <Menu.Separator className="my-1 h-px bg-slate-100" />
            <Menu.Item
              onSelect={() => setCreating(true)}
              className="cursor-pointer rounded px-2 py-2 text-sm font-medium text-indigo-700 outline-none data-[highlighted]:bg-indigo-50"
            >
              + New organization
            </Menu.Item>
          </Menu.Content>
        </Menu.Portal>
      </Menu.Root>
      <NewOrganizationDialog open={creating} onOpenChange={setCreating} onCreated={reload} />
    </>
  );
}

function NewOrganizationDialog({ open, onOpenChange, onCreated }: { open: boolean; onOpenChange: (open: boolean) => void; onCreated: () => Promise<void> }) {
  const toast = useToast();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (value: string) => api<{ organization: Organization }>("POST", "/api/v1/organizations", { name: value }),
    onSuccess: async ({ organization }) => {
      setName("");
      onOpenChange(false);
      await onCreated();
      toast(`Organization ${organization.name} created`, { description: "You are its owner; it is now the one the console shows." });
    },
    onError: (e) => setError(fieldErrors(e).name ? `Name ${fieldErrors(e).name}.` : errorMessage(e)),
  });
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    const parsed = OrganizationCreateSchema.safeParse({ name });
    if (!parsed.success) return setError(`Name ${parsed.error.issues[0]?.message ?? "is not valid"}.`);
    create.mutate(parsed.data.name);
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="New organization" description="A separate set of projects, members, API keys and billing. You will be its owner.">
      <form onSubmit={submit} noValidate className="space-y-4" aria-label="New organization">
        <InputField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={error} autoComplete="organization" placeholder="e.g. Acme staging" />
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create organization
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
