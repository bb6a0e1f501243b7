// cntscope for Node: the core API plus file paths and progress on files of any size.
export * from "../entry/node-core.js";
export { fileSource } from "./file-source.js";
export { convertFile, type ConvertFileOptions } from "./convert-file.js";
export { analyzeFile, inspectFile, type AnalyzeFileOptions } from "./analyze-file.js";
export { sampleFile, labelFile } from "./sample-files.js";
export { compareFiles, type CompareFilesOptions } from "./compare-files.js";
export { reportFiles, type ReportFilesOptions } from "./report-files.js";
export { populationFiles, populationPartials, type PopulationFilesOptions } from "./population-files.js";
export { partialsOfFiles, type PopulationInput, type PartialsOptions, type PartialsResult } from "./population-workers.js";
