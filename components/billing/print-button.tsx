"use client";

import { Button } from "../ui/button";

/** Opens the browser's print dialog (the invoice page's print styles leave only the invoice). */
export function PrintButton() {
  return (
    <Button variant="secondary" onClick={() => window.print()} className="print:hidden">
      Print
    </Button>
  );
}
