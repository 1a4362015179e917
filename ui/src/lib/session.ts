import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { call, client, type OkBody } from "./api";

export type Me = OkBody<Awaited<ReturnType<typeof client.api.me.$get>>>;
export type Role = Me["role"];

export interface Session {
  me: Me;
  isAdmin: boolean;
  /** Reloads /api/me (after a password change clears must_change_password). */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in layout");
  return session;
}

export const fetchMe = () => call(client.api.me.$get());
