import Link from "next/link";
import { consoleCaller } from "@/app/_lib/console";
import { EmptyState } from "@/components/ui/states";
import { can } from "@/lib/roles";
import { NewProjectForm } from "@/components/projects/new-project-form";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "New project · MariaDB Serverless" };

export default async function NewProjectPage() {
  const caller = await consoleCaller();
  const allowed = Boolean(caller.organizationId) && can(caller.role, "projects.write");
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/projects" className="text-indigo-700 hover:underline">
          ← Projects
        </Link>
      </p>
      <PageHeader title="New project" description="A MariaDB database with its own compute; it starts at once and suspends when idle." />
      {allowed ? (
        <Card>
          <NewProjectForm />
        </Card>
      ) : (
        <EmptyState title="Your role cannot create projects">
          Your role in this organization is {caller.role || "none"}: it can read projects but not create them. Ask an owner or admin for the member role.
        </EmptyState>
      )}
    </>
  );
}
