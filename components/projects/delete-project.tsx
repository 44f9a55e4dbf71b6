"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { api, errorMessage } from "@/lib/api-client";
import { keys } from "../data/keys";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { useToast } from "../ui/toast";

/** Deleting a project (its compute, data and roles) asks for its name first. */
export function DeleteProject({ projectId, name }: { projectId: string; name: string }) {
  const router = useRouter();
  const client = useQueryClient();
  const toast = useToast();
  return (
    <Card id="danger" title="Delete project" className="border-red-200">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="text-sm text-slate-700">Deletes the compute, its data and every role. This cannot be undone.</p>
        <ConfirmDialog
          trigger={<Button variant="danger">Delete project</Button>}
          title={`Delete ${name}?`}
          description="The compute is stopped and its data deleted, with every role of the project. This cannot be undone."
          confirmLabel="Delete project"
          typeToConfirm={name}
          onConfirm={async () => {
            try {
              await api("DELETE", `/api/v1/projects/${projectId}`);
            } catch (e) {
              toast("Delete failed", { description: errorMessage(e), tone: "error" });
              return;
            }
            client.removeQueries({ queryKey: keys.project(projectId) });
            await client.invalidateQueries({ queryKey: keys.projects() });
            toast(`${name} deleted`);
            router.push("/projects");
            router.refresh();
          }}
        />
      </div>
    </Card>
  );
}
