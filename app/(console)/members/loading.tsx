import { Skeleton, SkeletonRows } from "@/components/ui/states";

export default function Loading() {
  return (
    <div>
      <Skeleton className="mb-6 h-8 w-48" />
      <SkeletonRows rows={4} label="Loading" />
    </div>
  );
}
