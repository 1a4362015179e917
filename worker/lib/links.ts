/** A page of the UI, as linked from notifications, emails and reports (PUBLIC_URL may end in "/"). */
export function uiLink(publicUrl: string, path: `/${string}`): string {
  return `${publicUrl.replace(/\/$/, "")}${path}`;
}
