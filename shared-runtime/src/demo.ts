/**
 * The demo catalog's sellers: tickets lists their demo tickets and auth keeps their accounts, so
 * that a listing's `seller { displayName }` resolves like any other. Nobody can sign in as them.
 */
export const DEMO_SELLERS = [
  { id: "demo-seller-1", displayName: "Mara (demo)" },
  { id: "demo-seller-2", displayName: "Theo (demo)" },
  { id: "demo-seller-3", displayName: "Ines (demo)" },
] as const;
