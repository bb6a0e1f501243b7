import { serveApp } from "../node/app-server.js";
import { writeLine } from "./output.js";

/** `cntscope app [--port N]`: serve the offline app on localhost until Ctrl-C. */
export async function runApp(port: number | undefined, signal: AbortSignal): Promise<number> {
  const app = await serveApp({ port });
  await writeLine(process.stdout, `cntscope app: open ${app.url} (files you drop are read in the page; nothing is uploaded). Ctrl-C stops it.`);
  await new Promise<void>((ok) => signal.addEventListener("abort", () => ok(), { once: true }));
  await app.close();
  return 0;
}
