import { asJson, consoleCaller } from "@/app/_lib/console";
import { ProjectList } from "@/components/projects/project-list";
import { LinkButton } from "@/components/ui/link-button";
import { PageHeader } from "@/components/ui/page-header";
import { can } from "@/lib/roles";
import type { ProjectListItem } from "@/lib/api-types";
import { listProjects } from "@/server/projects/list-projects";

export const metadata = { title: "Projects · MariaDB Serverless" };

export default async function ProjectsPage() {
  const caller = await consoleCaller();
  const { items } = await listProjects({ organizationIds: caller.organizationId ? [caller.organizationId] : [], pagination: { limit: 100 } });
  return (
    <>
      <PageHeader title="Projects" description="Each project is a MariaDB database with a compute that suspends when idle." actions={can(caller.role, "projects.write") ? <LinkButton href="/projects/new">New project</LinkButton> : undefined} />
      <ProjectList initial={asJson<ProjectListItem[]>(items)} />
    </>
  );
}
