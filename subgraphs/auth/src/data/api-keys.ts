import type { ApiKeyState } from "../domain/api-keys.js";
import type { AuthModels } from "./models.js";

/** OPS's list of API keys (every key is otherwise read by `_id` through its log). */
export interface ApiKeyReads {
  /** Every key, as its projection keeps it, in no particular order. */
  all(): Promise<ApiKeyState[]>;
}

export function apiKeyReads({ apiKeys }: Pick<AuthModels, "apiKeys">): ApiKeyReads {
  return {
    async all() {
      const docs = await apiKeys.find({}).lean();
      return docs.map(({ _id: _ignored, _causes: _c, ...state }) => state);
    },
  };
}
