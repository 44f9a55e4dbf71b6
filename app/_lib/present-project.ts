import { presentComputeWithActivity } from "@/server/compute/present-with-activity";
import type { getProject } from "@/server/projects/projects";

type Project = Awaited<ReturnType<typeof getProject>>;

/** A project with its compute as the API shows it (state, activity, storage); the REST reply and the console page share it. */
export async function presentProject({ compute, ...project }: Project) {
  return { ...project, compute: compute ? await presentComputeWithActivity(compute) : null };
}
