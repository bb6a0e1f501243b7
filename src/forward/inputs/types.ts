/**
 * Input samples for the forward pass, read a batch at a time: memory is bounded by the batch,
 * never the dataset (issue: --inputs batch.npy, .npz with named inputs, typed arrays in the API).
 */

/** One named input of the samples: N samples of `sampleShape`. */
export interface SampleInput {
  name: string;
  /** The shape of one sample (the file's shape without its first axis). */
  sampleShape: number[];
  /** "float" for real values, "int" for token ids and other integers (read as exact f32 integers below 2^24). */
  kind: "float" | "int";
}

export interface SampleSource {
  /** Samples in the source (the first axis of every input). */
  readonly count: number;
  readonly inputs: SampleInput[];
  /**
   * Samples [first, first + count) of input `name`, widened to f32, into `into` (count x the
   * sample's elements, row-major). Rejects with a CntError naming the file and the input.
   */
  read(name: string, first: number, count: number, into: Float32Array): Promise<void>;
  close?(): Promise<void>;
}

/** Labels for the accuracy of the predictions: one class index per sample. */
export interface LabelSource {
  readonly count: number;
  read(first: number, count: number, into: Int32Array): Promise<void>;
  close?(): Promise<void>;
}
