// Which values of a node layer the forward pass measures as z and a (src/forward/targets.ts),
// on PyTorch ONNX exports whose architecture says what the answer must be.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { walkedTargets } from "../helpers/walked-graph.js";

const dir = "test/fixtures/graph/onnx";
const pairs = async (file: string) => new Map((await walkedTargets(`${dir}/${file}`)).map(({ layer, targets }) => [layer.after, targets && [targets.z, targets.a]]));

test("conv -> relu: z is the conv's output, a the relu's; the residual add -> relu: z is the sum", async () => {
  const t = await pairs("res-block.onnx");
  assert.equal(t.get("input"), undefined, "no z or a on the input layer");
  assert.equal(t.get("/c0/Conv"), ["/c0/Conv_output_0", "/Relu_output_0"]);
  assert.equal(t.get("/c2/Conv"), ["/Add_output_0", "/Relu_2_output_0"]);
  assert.equal(t.get("/fc/Gemm"), ["output", "output"], "logits: no activation, z = a");
});

test("a GELU spelled out in Div/Erf/Add/Mul: z is the dense output it starts from", async () => {
  const t = await pairs("tiny-gpt.onnx");
  assert.equal(t.get("/fc1/MatMul"), ["/fc1/Add_output_0", "/Mul_1_output_0"]);
});

test("a LayerNorm spelled out (scaling by the std from outside the layer) is linear; split pieces are never z or a", async () => {
  const t = await pairs("tiny-gpt.onnx");
  assert.equal(t.get("/wte/Gather"), ["/ln1/Add_1_output_0", "/ln1/Add_1_output_0"]);
  assert.equal(t.get("/qkv/MatMul"), ["/qkv/Add_output_0", "/qkv/Add_output_0"]);
});

test("an LSTM: z is the cell's own (<Y>#z), a its output over every step", async () => {
  const t = await pairs("lstm-clf.onnx");
  assert.equal(t.get("/rnn/LSTM"), ["/rnn/LSTM_output_0#z", "/rnn/LSTM_output_0"]);
});

test("MobileNetV2: conv -> relu6 (Clip) and the linear bottleneck's residual add", async () => {
  const t = await pairs("mobilenet_v2.onnx");
  assert.equal(t.get("/features/features.1/conv/conv.0/conv.0.0/Conv"), ["/features/features.1/conv/conv.0/conv.0.0/Conv_output_0", "/features/features.1/conv/conv.0/conv.0.2/Clip_output_0"]);
  assert.equal(t.get("/features/features.3/conv/conv.2/Conv"), ["/features/features.3/Add_output_0", "/features/features.3/Add_output_0"]);
});

test.run();
