import { EmptyState } from "@/components/ui/states";
import { LinkButton } from "@/components/ui/link-button";

export default function ProjectNotFound() {
  return (
    <EmptyState title="Project not found" action={<LinkButton href="/projects">Your projects</LinkButton>}>
      There is no such project in your organization. It may have been deleted.
    </EmptyState>
  );
}
