import Link from "next/link";
import { NewProjectForm } from "@/components/projects/new-project-form";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "New project · MariaDB Serverless" };

export default function NewProjectPage() {
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/projects" className="text-indigo-700 hover:underline">
          ← Projects
        </Link>
      </p>
      <PageHeader title="New project" description="A MariaDB database with its own compute; it starts at once and suspends when idle." />
      <Card>
        <NewProjectForm />
      </Card>
    </>
  );
}
