/**
 * The workerd processes that wrangler started in one process group, read from /proc: the CPU and
 * memory figures of the triggers and soak benchmarks are theirs alone, whatever else runs.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Each workerd process of `processGroup`: its pid and the fields of its stat after `(comm)`. */
function workerdProcesses(processGroup: number): { pid: string; fields: string[] }[] {
  const found: { pid: string; fields: string[] }[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // pid (comm) state ppid pgrp …: comm may hold spaces, so split after its closing parenthesis.
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === processGroup && comm.startsWith("workerd")) found.push({ pid, fields });
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

/** CPU seconds used so far by the group's workerd processes (user + system). */
export function workerdCpuSeconds(processGroup: number): number {
  let ticks = 0;
  for (const { fields } of workerdProcesses(processGroup)) ticks += Number(fields[11]) + Number(fields[12]);
  return ticks / TICKS_PER_SECOND;
}

/**
 * Resident size of the group's workerd processes, in bytes, and its anonymous part (RssAnon: heaps
 * and allocator pages, where a leak would show); the rest is file pages (SQLite files, the binary)
 * that the kernel can reclaim.
 */
export function workerdMemory(processGroup: number): { total: number; anon: number } {
  let total = 0;
  let anon = 0;
  for (const { pid } of workerdProcesses(processGroup)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      anon += Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return { total, anon };
}
