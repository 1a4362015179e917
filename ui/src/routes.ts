import type { ComponentType } from "preact";
import { ApiTokensPage } from "./pages/api-tokens";
import { AuditPage } from "./pages/audit";
import { EventPage, EventsPage } from "./pages/events";
import { IntegrationDetailPage } from "./pages/integrations/detail";
import { IntegrationEditPage, IntegrationNewPage } from "./pages/integrations/form-page";
import { IntegrationsPage } from "./pages/integrations/overview";
import { NodesPage } from "./pages/nodes";
import { ProfilePage } from "./pages/profile";
import { ReportPage, ReportsPage } from "./pages/reports";
import { SecurityIssuesPage } from "./pages/security-issues";
import { SilenceEditPage, SilenceNewPage } from "./pages/silence-form";
import { SilencePage, SilencesPage } from "./pages/silences";
import { TriggerEditPage, TriggerNewPage } from "./pages/trigger-form";
import { TriggerPage, TriggersPage } from "./pages/triggers";
import { UsersPage } from "./pages/users";

export interface RouteDef {
  pattern: string;
  page: ComponentType<any>;
  adminOnly?: boolean;
}

/** Admin pages match docs/api.md#roles: only admins view or change integrations, nodes, users. */
export const ROUTES: RouteDef[] = [
  { pattern: "/integrations", page: IntegrationsPage, adminOnly: true },
  { pattern: "/integrations/new", page: IntegrationNewPage, adminOnly: true },
  { pattern: "/integrations/:id", page: IntegrationDetailPage, adminOnly: true },
  { pattern: "/integrations/:id/edit", page: IntegrationEditPage, adminOnly: true },
  // Every role reads triggers and silences; only admins create or change them.
  { pattern: "/triggers", page: TriggersPage },
  { pattern: "/triggers/new", page: TriggerNewPage, adminOnly: true },
  { pattern: "/triggers/:id", page: TriggerPage },
  { pattern: "/triggers/:id/edit", page: TriggerEditPage, adminOnly: true },
  { pattern: "/silences", page: SilencesPage },
  { pattern: "/silences/new", page: SilenceNewPage, adminOnly: true },
  { pattern: "/silences/:id", page: SilencePage },
  { pattern: "/silences/:id/edit", page: SilenceEditPage, adminOnly: true },
  { pattern: "/events", page: EventsPage },
  { pattern: "/events/:id", page: EventPage },
  { pattern: "/security-issues", page: SecurityIssuesPage },
  { pattern: "/reports", page: ReportsPage },
  { pattern: "/reports/:id", page: ReportPage },
  { pattern: "/nodes", page: NodesPage, adminOnly: true },
  { pattern: "/users", page: UsersPage, adminOnly: true },
  { pattern: "/tokens", page: ApiTokensPage, adminOnly: true },
  { pattern: "/audit", page: AuditPage, adminOnly: true },
  { pattern: "/profile", page: ProfilePage },
];

export interface NavItem {
  href: string;
  label: string;
  adminOnly?: boolean;
}

export const NAV: { title: string; items: NavItem[] }[] = [
  {
    title: "Monitoring",
    items: [
      { href: "/events", label: "Events" },
      { href: "/security-issues", label: "Security issues" },
      { href: "/reports", label: "Reports" },
    ],
  },
  {
    title: "Settings",
    items: [
      { href: "/integrations", label: "Integrations", adminOnly: true },
      { href: "/triggers", label: "Triggers" },
      { href: "/silences", label: "Silences" },
      { href: "/nodes", label: "Nodes", adminOnly: true },
      { href: "/users", label: "Users", adminOnly: true },
      { href: "/tokens", label: "API tokens", adminOnly: true },
      { href: "/audit", label: "Audit log", adminOnly: true },
      { href: "/profile", label: "Profile" },
    ],
  },
];
