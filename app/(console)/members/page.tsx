import { asJson, consoleCaller } from "@/app/_lib/console";
import { MembersView } from "@/components/members/members-view";
import { PageHeader } from "@/components/ui/page-header";
import { NoOrganization } from "@/components/organizations/no-organization";
import type { Invitation, Member } from "@/lib/api-types";
import { listInvitations } from "@/server/invitations/list-invitations";
import { listMembers } from "@/server/members/list-members";
import { listOrganizations } from "@/server/organizations/list-organizations";

export const metadata = { title: "Members · MariaDB Serverless" };

export default async function MembersPage() {
  const caller = await consoleCaller();
  if (!caller.organizationId) return <NoOrganization />;
  const [members, invitations, organizations] = await Promise.all([
    listMembers({ caller, pagination: { limit: 100 } }),
    listInvitations({ caller, pagination: { limit: 100 } }),
    listOrganizations({ caller }),
  ]);
  const name = organizations.find((o) => o.id === caller.organizationId)?.name ?? "this organization";
  return (
    <>
      <PageHeader title="Members" description={<>Who can use {name}, and with which role. Your role: <strong>{caller.role}</strong>.</>} />
      <MembersView
        key={caller.organizationId}
        organizationId={caller.organizationId}
        organizationName={name}
        initialMembers={asJson<Member[]>(members.items)}
        initialInvitations={asJson<Invitation[]>(invitations.items)}
      />
    </>
  );
}
