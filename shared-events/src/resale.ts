// A verified resale listing is a ticket whose id names the pass and the issue it resells
// (docs/adr/0007-passes.md): its creation is the one listing of that issue (the ticket's first
// append is the unique insert), and passes learns which pass a sale re-issues from the id alone.

const PREFIX = "resale-";

/** The ticket id of the verified listing of a pass's issue. */
export function resaleListingId(passId: string, issue: number): string {
  return `${PREFIX}${passId}-${issue}`;
}

/** The pass and issue a verified listing resells; null for any other ticket id. */
export function parseResaleListingId(ticketId: string): { passId: string; issue: number } | null {
  const match = /^resale-(.+)-([1-9][0-9]{0,8})$/.exec(ticketId);
  if (!match) return null;
  return { passId: match[1]!, issue: Number(match[2]) };
}
