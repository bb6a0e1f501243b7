import { Worker } from "node:worker_threads";

/**
 * A worker thread running the module at `url`. From sources (tests run TypeScript through tsx)
 * the thread registers tsx first. Workers inherit the process's flags, but --input-type (from
 * `node -e`) is refused for a file.
 */
export function startThread(url: URL, workerData: unknown): Worker {
  const execArgv = process.execArgv.filter((a) => !a.startsWith("--input-type"));
  return url.pathname.endsWith(".ts")
    ? new Worker(`import("tsx/esm/api").then((tsx) => tsx.register()).then(() => import(${JSON.stringify(url.href)}))`, { eval: true, workerData, execArgv })
    : new Worker(url, { workerData, execArgv });
}
