import Link from "next/link";
import type { ReactNode } from "react";
import { auth, signOut } from "@/app/_lib/auth";
import { AcceptInvitation } from "@/components/auth/accept-invitation";
import { AuthCard } from "@/components/auth/auth-card";
import { Button } from "@/components/ui/button";
import { exactTime } from "@/lib/format";
import { callerFromUser } from "@/server/tenancy/authenticate";
import { previewInvitation } from "@/server/invitations/preview-invitation";

export const dynamic = "force-dynamic";
export const metadata = { title: "Invitation · MariaDB Serverless" };

const linkClass = "font-medium text-indigo-700 underline";
const buttonLink =
  "inline-flex min-h-10 w-full items-center text-center py-2 justify-center rounded-md px-4 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600";

/**
 * The page of an invitation link (`/invite?token=...`): who invites whom with which role, then the way to
 * accept it. A signed-out visitor signs up (with the invited email) or signs in and comes back here; a
 * link that expired, was used or revoked, or belongs to someone else says so plainly.
 */
export default async function InvitePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = (await searchParams).token;
  const token = (Array.isArray(raw) ? raw[0] : raw) ?? "";
  const here = `/invite?token=${encodeURIComponent(token)}`;
  const [invitation, session] = await Promise.all([previewInvitation({ token }), auth()]);
  const userId = session?.user?.id ?? null;
  const email = session?.user?.email ?? null;
  const home = userId ? (
    <Link href="/projects" className={linkClass}>
      Go to your projects
    </Link>
  ) : (
    <Link href="/" className={linkClass}>
      Home
    </Link>
  );

  if (!invitation) {
    return (
      <Refused title="This invitation link is not valid" footer={home}>
        The link may be incomplete (copy all of it) or not one of ours. Ask the person who invited you for a new one.
      </Refused>
    );
  }
  const org = invitation.organization.name;
  if (invitation.status === "expired") {
    return (
      <Refused title="This invitation has expired" footer={home}>
        The invitation to join <strong>{org}</strong> expired on {exactTime(invitation.expiresAt)}. Invitations last 7 days; ask an owner or admin of {org} for a
        new one.
      </Refused>
    );
  }
  if (invitation.status === "revoked") {
    return (
      <Refused title="This invitation was revoked" footer={home}>
        An owner or admin of <strong>{org}</strong> withdrew it, so the link no longer works. Ask them for a new one if you should still join.
      </Refused>
    );
  }

  const member = userId ? Boolean((await callerFromUser(userId).catch(() => null))?.roles[invitation.organization.id]) : false;
  if (invitation.status === "accepted") {
    return (
      <Refused title={member ? `You are a member of ${org}` : "This invitation was already used"} footer={home}>
        {member ? "This link was used to join it; each link works once." : <>Each link works once, and this one was accepted already. Ask an owner or admin of <strong>{org}</strong> for a new one.</>}
      </Refused>
    );
  }

  const intro = (
    <p className="text-sm text-slate-700">
      You are invited to join <strong>{org}</strong> as <strong>{invitation.role}</strong>. The invitation is for <strong className="break-all">{invitation.email}</strong> and
      works once, until {exactTime(invitation.expiresAt)}.
    </p>
  );

  if (!userId) {
    const next = encodeURIComponent(here);
    return (
      <AuthCard title={`Join ${org}`} footer={<>Not you? You can close this page.</>}>
        <div className="space-y-4">
          {intro}
          <Link href={`/signup?email=${encodeURIComponent(invitation.email)}&callbackUrl=${next}`} className={`${buttonLink} bg-indigo-600 text-white hover:bg-indigo-700`}>
            Sign up to accept
          </Link>
          <Link href={`/login?callbackUrl=${next}`} className={`${buttonLink} border border-slate-300 bg-white text-slate-800 hover:bg-slate-50`}>
            I have an account: sign in
          </Link>
        </div>
      </AuthCard>
    );
  }

  if (member) {
    return (
      <Refused title={`You are already a member of ${org}`} footer={home}>
        Nothing to accept: pick {org} in the organization menu of the console.
      </Refused>
    );
  }

  if (email?.toLowerCase() !== invitation.email) {
    return (
      <Refused title="This invitation is for someone else" footer={home}>
        <span className="block">
          It was sent to <strong className="break-all">{invitation.email}</strong>, and you are signed in as <strong className="break-all">{email}</strong>. Sign out, then
          open the link again and sign in (or sign up) as {invitation.email}.
        </span>
        <form
          className="mt-4"
          action={async () => {
            "use server";
            await signOut({ redirectTo: here });
          }}
        >
          <Button type="submit" variant="secondary" className="w-full">
            Sign out
          </Button>
        </form>
      </Refused>
    );
  }

  return (
    <AuthCard title={`Join ${org}`} footer={home}>
      <div className="space-y-4">
        {intro}
        <AcceptInvitation token={token} organizationName={org} />
      </div>
    </AuthCard>
  );
}

function Refused({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  return (
    <AuthCard title={title} footer={footer}>
      <div className="text-sm text-slate-700" data-testid="invite-refused">
        {children}
      </div>
    </AuthCard>
  );
}
