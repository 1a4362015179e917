import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { roleLabel } from "./lib/format";
import { Link, useLocation } from "./lib/router";
import { useSession } from "./lib/session";
import { NAV } from "./routes";

/** Sidebar on wide screens, a top bar with a menu button on phones. Only what the role may use. */
export function Layout({ children }: { children: ComponentChildren }) {
  const { me, isAdmin, signOut } = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);

  const sections = NAV.map((section) => ({
    ...section,
    items: section.items.filter((item) => isAdmin || !item.adminOnly),
  })).filter((section) => section.items.length > 0);

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <aside class={`sidebar${menuOpen ? " sidebar-open" : ""}`}>
        <div class="sidebar-top">
          <Link href="/" class="brand">
            <span class="brand-mark" aria-hidden="true">
              H
            </span>
            <span>Herald</span>
          </Link>
          <button
            type="button"
            class="menu-button"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            {menuOpen ? "Close" : "Menu"}
          </button>
        </div>
        <nav id="main-nav" class="nav" aria-label="Main">
          {sections.map((section) => (
            <div class="nav-section" key={section.title}>
              <p class="nav-heading">{section.title}</p>
              <ul>
                {section.items.map((item) => {
                  const active = path === item.href || path.startsWith(`${item.href}/`);
                  return (
                    <li key={item.href}>
                      <Link
                        href={item.href}
                        class={`nav-link${active ? " nav-link-active" : ""}`}
                        aria-current={active ? "page" : undefined}
                      >
                        {item.label}
                      </Link>
                    </li>
                  );
                })}
              </ul>
            </div>
          ))}
          <div class="nav-section">
            <p class="nav-heading">Developers</p>
            <ul>
              <li>
                <a class="nav-link" href="/api-docs/" target="_blank" rel="noopener">
                  API reference
                </a>
              </li>
            </ul>
          </div>
          <div class="nav-user">
            <p class="nav-user-name">{me.user?.name || me.user?.email}</p>
            <p class="nav-user-meta">
              {me.account.name} · {roleLabel(me.role)}
            </p>
            <button type="button" class="btn btn-small btn-ghost-light" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </nav>
      </aside>
      <main id="main" class="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
