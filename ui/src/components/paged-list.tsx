import { useState } from "preact/hooks";
import { type Resource, useResource } from "../lib/use-resource";

export interface PagedList<Page, Item> {
  /** The first page, reloaded when `deps` change (and by `first.reload`). */
  first: Resource<Page>;
  /** The first page's items, then the older pages' (without those the first page shows again). */
  items: Item[];
  /** Where the next older page starts; null when there is none. */
  nextCursor: string | null;
  /** A failed "show older" request. */
  moreError: unknown;
  loadMore: () => Promise<void>;
  /** Forgets the older pages (a filter changed). */
  reset: () => void;
}

/**
 * A newest-first list read a page at a time by cursor: the first page as a resource, older pages
 * appended on demand. Older pages belong to `resetKey`; when it changes they are dropped.
 */
export function usePagedList<Page extends { next_cursor: string | null }, Item extends { id: string }>(
  load: (cursor?: string) => Promise<Page>,
  itemsOf: (page: Page) => Item[],
  deps: unknown[],
  resetKey = "",
): PagedList<Page, Item> {
  const first = useResource(() => load(), deps);
  const [older, setOlder] = useState<{ key: string; items: Item[]; cursor: string | null }>({
    key: resetKey,
    items: [],
    cursor: null,
  });
  const [moreError, setMoreError] = useState<unknown>(null);
  const extra = older.key === resetKey ? older : { key: resetKey, items: [], cursor: null };
  const firstItems = first.data ? itemsOf(first.data) : [];
  const nextCursor = extra.items.length ? extra.cursor : (first.data?.next_cursor ?? null);

  return {
    first,
    items: [...firstItems, ...extra.items.filter((o) => !firstItems.some((i) => i.id === o.id))],
    nextCursor,
    moreError,
    loadMore: async () => {
      if (!nextCursor) return;
      setMoreError(null);
      try {
        const page = await load(nextCursor);
        setOlder({ key: resetKey, items: [...extra.items, ...itemsOf(page)], cursor: page.next_cursor });
      } catch (e) {
        setMoreError(e);
      }
    },
    reset: () => setOlder({ key: resetKey, items: [], cursor: null }),
  };
}

/** The "show older" button under a paged list, while there is an older page. */
export function LoadMore({
  list,
  label,
}: {
  list: Pick<PagedList<unknown, unknown>, "nextCursor" | "loadMore">;
  label: string;
}) {
  if (!list.nextCursor) return null;
  return (
    <div class="pager">
      <button type="button" class="btn" onClick={() => void list.loadMore()}>
        {label}
      </button>
    </div>
  );
}
