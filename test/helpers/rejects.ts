import * as assert from "uvu/assert";
import { CntError } from "../../src/errors.js";

/** Run `run`, expect a CntError with `code` whose message contains `phrase`; return it. */
export async function rejects(run: () => Promise<unknown>, code: string, phrase: string): Promise<CntError> {
  try {
    await run();
  } catch (error) {
    assert.instance(error, CntError, String(error));
    const e = error as CntError;
    assert.is(e.code, code, e.message);
    assert.ok(e.message.includes(phrase), `message lacks ${JSON.stringify(phrase)}: ${e.message}`);
    return e;
  }
  throw new assert.Assertion({ message: `expected ${code}, got no error`, generated: false, operator: "rejects" } as never);
}
