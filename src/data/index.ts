/** The labelled-data layer's public surface: readers, label maps, splits and statistics. */
export { type Dataset, type Example, type FormatName, type ReadOptions, ExampleStream, SkipLog, collect, resolveSplit } from './dataset.js';
export { type OpenOptions, FORMAT_ALIASES, detectFile, openDataset, parseFormat } from './open.js';
export { type Column } from './delimited.js';
export { OOS_LABEL } from './clinc.js';
export { LabelMap, type LabelMapJson, type UnseenLabelReport, UnseenLabelCheck, unseenLabels, unseenWarning } from './labelMap.js';
export { type DevSplitOptions, type TrainDev, loadTrainDev, splitDev } from './split.js';
export { type DatasetStats, type SplitStats, type StatsReport, datasetStats, wordCount } from './stats.js';
export { type Line, type TextEncoding, readLines, readTextChunks } from './lines.js';
