"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, errorMessage, fieldErrors } from "@/lib/api-client";
import type { Invitation, Member, MemberRoleName } from "@/lib/api-types";
import { assignableRoles, can, canAssignRole, ROLE_SUMMARIES, type MemberRole } from "@/lib/roles";
import { InvitationCreateSchema } from "@/lib/schemas";
import { keys } from "../data/keys";
import { inOrg, useInvitations, useMembers } from "../data/organizations";
import { useRole } from "../organizations/role-context";
import { CodeBlock } from "../projects/code-block";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { Dialog } from "../ui/dialog";
import { FormError, InputField, SelectField } from "../ui/field";
import { RelativeTime } from "../ui/relative-time";
import { EmptyState, ErrorState, SkeletonRows } from "../ui/states";
import { useToast } from "../ui/toast";

const roleOptions = (roles: MemberRole[]) => roles.map((r) => ({ value: r, label: `${r[0]!.toUpperCase()}${r.slice(1)}` }));
const roleHint = (r: MemberRole) => `${r[0]!.toUpperCase()}${r.slice(1)}: ${ROLE_SUMMARIES[r]}.`;

/**
 * The organization's members and open invitations. Owners and admins invite (the link is shown once, with
 * Copy: there is no mail server), revoke invitations, change roles and remove members; anyone may leave.
 * What the caller's role may not do is not offered (lib/roles.ts); the API's refusals (e.g. the 409 for
 * the last owner) are shown where the action was asked for.
 */
export function MembersView({
  organizationId,
  organizationName,
  initialMembers,
  initialInvitations,
}: {
  organizationId: string;
  organizationName: string;
  initialMembers: Member[];
  initialInvitations: Invitation[];
}) {
  const role = useRole();
  const manage = can(role, "members.manage");
  const members = useMembers(organizationId, initialMembers);
  const invitations = useInvitations(organizationId, initialInvitations);
  const owners = members.data?.filter((m) => m.role === "owner").length ?? 0;

  return (
    <div className="space-y-6">
      {manage ? <InviteCard organizationId={organizationId} /> : null}

      <Card title="Members" description={`Everyone who can use ${organizationName}, with their role.`}>
        {members.isPending ? (
          <SkeletonRows label="Loading members" />
        ) : members.error && !members.data ? (
          <ErrorState message={`Could not load the members: ${errorMessage(members.error)}`} onRetry={() => void members.refetch()} />
        ) : (
          <ul className="divide-y divide-slate-100" aria-label="Members">
            {members.data?.map((m) => (
              <MemberRow key={m.id} member={m} organizationId={organizationId} organizationName={organizationName} callerRole={role} lastOwner={m.role === "owner" && owners <= 1} />
            ))}
          </ul>
        )}
      </Card>

      <Card title="Pending invitations" description="Links not used yet. Each works once, for 7 days, for the email it was sent to.">
        {invitations.isPending ? (
          <SkeletonRows rows={2} label="Loading invitations" />
        ) : invitations.error && !invitations.data ? (
          <ErrorState message={`Could not load the invitations: ${errorMessage(invitations.error)}`} onRetry={() => void invitations.refetch()} />
        ) : !invitations.data?.length ? (
          <EmptyState title="No pending invitations">{manage ? "Invite someone above; they join when they open the link." : "Owners and admins invite new members."}</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100" aria-label="Pending invitations">
            {invitations.data.map((inv) => (
              <InvitationRow key={inv.id} invitation={inv} organizationId={organizationId} canRevoke={manage && canAssignRole(role, inv.role)} />
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

function RoleBadge({ role }: { role: MemberRoleName }) {
  const tone = role === "owner" ? "bg-indigo-100 text-indigo-800" : role === "admin" ? "bg-sky-100 text-sky-800" : role === "viewer" ? "bg-slate-100 text-slate-700" : "bg-emerald-100 text-emerald-800";
  return (
    <span className={`inline-flex rounded px-2 py-0.5 text-xs font-medium ${tone}`} data-testid="member-role">
      {role}
    </span>
  );
}

function InviteCard({ organizationId }: { organizationId: string }) {
  const role = useRole();
  const client = useQueryClient();
  const roles = assignableRoles(role);
  const [email, setEmail] = useState("");
  const [inviteRole, setInviteRole] = useState<MemberRole>(roles.includes("member") ? "member" : roles[roles.length - 1]!);
  const [errors, setErrors] = useState<{ email?: string; role?: string; form?: string }>({});
  const [link, setLink] = useState<{ email: string; role: string; url: string } | null>(null);

  const invite = useMutation({
    mutationFn: (input: { email: string; role: MemberRole }) =>
      api<{ invitation: Invitation; url: string }>("POST", inOrg("/api/v1/invitations", organizationId), input),
    onSuccess: ({ invitation, url }) => {
      setEmail("");
      setLink({ email: invitation.email, role: invitation.role, url });
    },
    onError: (e) => {
      const f = fieldErrors(e);
      if (f.email || f.role) setErrors({ email: f.email && `Email ${f.email}.`, role: f.role && `Role ${f.role}.` });
      else setErrors({ form: capitalize(errorMessage(e)) });
    },
    onSettled: () => client.invalidateQueries({ queryKey: keys.invitations(organizationId) }),
  });

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    const parsed = InvitationCreateSchema.safeParse({ email, role: inviteRole });
    if (!parsed.success) return setErrors({ email: `Email ${parsed.error.issues[0]?.message ?? "is not valid"}.` });
    invite.mutate(parsed.data);
  };

  return (
    <Card title="Invite a member" description="There is no mail server: you get a link to pass on yourself. It works once, for 7 days.">
      <form onSubmit={submit} noValidate aria-label="Invite a member" className="space-y-3">
        <FormError>{errors.form}</FormError>
        <div className="flex flex-wrap items-start gap-2">
          <div className="min-w-0 flex-1 basis-56">
            <InputField label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} placeholder="ana@example.com" autoComplete="off" />
          </div>
          <div className="min-w-0 flex-1 basis-56">
            <SelectField label="Role" value={inviteRole} onChange={(e) => setInviteRole(e.target.value as MemberRole)} options={roleOptions(roles)} error={errors.role} hint={roleHint(inviteRole)} />
          </div>
          <Button type="submit" loading={invite.isPending} className="mt-6">
            Create invitation
          </Button>
        </div>
      </form>
      {link ? (
        <div className="mt-4 space-y-2 rounded-md border border-indigo-200 bg-indigo-50 p-3" data-testid="invitation-link-panel">
          <p className="text-sm text-slate-800">
            Invitation link for <strong>{link.email}</strong> ({link.role}). Copy it now and send it to them: it is not shown again.
          </p>
          <CodeBlock code={link.url} label="invitation link" testId="invitation-link" wrap />
          <div className="flex justify-end">
            <Button size="sm" variant="ghost" onClick={() => setLink(null)}>
              Done
            </Button>
          </div>
        </div>
      ) : null}
    </Card>
  );
}

function MemberRow({
  member,
  organizationId,
  organizationName,
  callerRole,
  lastOwner,
}: {
  member: Member;
  organizationId: string;
  organizationName: string;
  callerRole: MemberRole;
  lastOwner: boolean;
}) {
  const client = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const [changing, setChanging] = useState(false);
  // Someone else: the caller must be allowed to manage the member's current role.
  const manageable = !member.you && canAssignRole(callerRole, member.role);
  const changeable = canAssignRole(callerRole, member.role) && assignableRoles(callerRole).length > 1;
  const invalidate = () => client.invalidateQueries({ queryKey: keys.members(organizationId) });

  const remove = useMutation({
    mutationFn: () => api<{ member: { revokedApiKeys: number } }>("DELETE", inOrg(`/api/v1/members/${member.userId}`, organizationId)),
    onSuccess: async ({ member: removed }) => {
      if (member.you) {
        toast(`You left ${organizationName}`);
        router.push("/projects");
        router.refresh();
        await client.invalidateQueries();
        return;
      }
      const revoked = removed.revokedApiKeys;
      toast(`${member.email} removed`, { description: `Their access ended at once${revoked ? `; ${revoked} API ${revoked === 1 ? "key" : "keys"} revoked` : ""}.` });
    },
    onSettled: invalidate,
  });

  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-3" data-testid="member-row">
      <div className="min-w-0">
        <p className="flex flex-wrap items-center gap-2 font-medium break-all">
          {member.email}
          {member.you ? <span className="rounded bg-slate-100 px-1.5 text-xs font-normal text-slate-700">you</span> : null}
        </p>
        <p className="text-xs text-slate-600">
          {member.name ? `${member.name} · ` : ""}joined <RelativeTime at={member.createdAt} />
        </p>
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <RoleBadge role={member.role} />
        {changeable ? (
          <Button size="sm" variant="secondary" onClick={() => setChanging(true)} aria-label={`Change role of ${member.email}`}>
            Change role
          </Button>
        ) : null}
        {manageable ? (
          <ConfirmDialog
            trigger={
              <Button size="sm" variant="ghost" className="text-red-700" aria-label={`Remove ${member.email}`}>
                Remove
              </Button>
            }
            title={`Remove ${member.email}?`}
            description={`Their access to ${organizationName} ends at once, and the API keys they made here are revoked. You can invite them again later.`}
            confirmLabel="Remove member"
            onConfirm={() => remove.mutateAsync()}
          />
        ) : null}
        {member.you ? (
          <ConfirmDialog
            trigger={
              <Button size="sm" variant="ghost" className="text-red-700">
                Leave
              </Button>
            }
            title={`Leave ${organizationName}?`}
            description={
              lastOwner
                ? "You are its last owner, and an organization always keeps one: make another member an owner first."
                : "You lose access at once and the API keys you made here are revoked. An owner or admin can invite you again."
            }
            confirmLabel="Leave organization"
            onConfirm={() => remove.mutateAsync()}
          />
        ) : null}
      </div>
      {changeable ? <ChangeRoleDialog member={member} organizationId={organizationId} open={changing} onOpenChange={setChanging} callerRole={callerRole} lastOwner={lastOwner} /> : null}
    </li>
  );
}

function ChangeRoleDialog({
  member,
  organizationId,
  open,
  onOpenChange,
  callerRole,
  lastOwner,
}: {
  member: Member;
  organizationId: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  callerRole: MemberRole;
  lastOwner: boolean;
}) {
  const client = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const [role, setRole] = useState<MemberRole>(member.role);
  const [error, setError] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: (next: MemberRole) => api<{ member: Member }>("PATCH", inOrg(`/api/v1/members/${member.userId}`, organizationId), { role: next }),
    onSuccess: async (_, next) => {
      onOpenChange(false);
      toast(`${member.email} is now ${next}`, { description: member.you ? "Your own rights changed with it." : "Their rights changed at once." });
      // One's own role changed: what the console offers changes too.
      if (member.you) router.refresh();
    },
    onError: (e) => setError(capitalize(errorMessage(e))),
    onSettled: () => client.invalidateQueries({ queryKey: keys.members(organizationId) }),
  });
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setError(null);
        setRole(member.role);
        onOpenChange(next);
      }}
      title={`Change the role of ${member.email}`}
      description="The change applies at once, to their console session and to the API keys they made."
    >
      <form
        noValidate
        className="space-y-4"
        aria-label="Change role"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          change.mutate(role);
        }}
      >
        <FormError>{error}</FormError>
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as MemberRole)} options={roleOptions(assignableRoles(callerRole))} hint={roleHint(role)} />
        {lastOwner && role !== "owner" ? <p className="text-sm text-amber-800">This is the organization&apos;s last owner; it always keeps one, so this will be refused until another member is an owner.</p> : null}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" loading={change.isPending} disabled={role === member.role}>
            Save role
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function InvitationRow({ invitation, organizationId, canRevoke }: { invitation: Invitation; organizationId: string; canRevoke: boolean }) {
  const client = useQueryClient();
  const toast = useToast();
  const revoke = useMutation({
    mutationFn: () => api("DELETE", inOrg(`/api/v1/invitations/${invitation.id}`, organizationId)),
    onSuccess: () => toast(`Invitation of ${invitation.email} revoked`, { description: "Its link no longer works." }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.invitations(organizationId) }),
  });
  const expired = invitation.status === "expired";
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-3" data-testid="invitation-row">
      <div className="min-w-0">
        <p className="font-medium break-all">{invitation.email}</p>
        <p className="text-xs text-slate-600">
          {invitation.role} · {expired ? <span className="font-medium text-amber-800">expired</span> : "expires"} <RelativeTime at={invitation.expiresAt} />
          {invitation.invitedBy ? ` · invited by ${invitation.invitedBy.email}` : ""}
        </p>
      </div>
      {canRevoke ? (
        <ConfirmDialog
          trigger={
            <Button size="sm" variant="ghost" className="text-red-700" aria-label={`Revoke invitation of ${invitation.email}`}>
              Revoke
            </Button>
          }
          title={`Revoke the invitation of ${invitation.email}?`}
          description="Its link stops working at once. You can invite them again."
          confirmLabel="Revoke invitation"
          onConfirm={() => revoke.mutateAsync()}
        />
      ) : null}
    </li>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
