import type { Handler } from '../handler';
import { runTraining } from '../models/train';

/** Trains one kind of model into its next version (queued by the API, the CLI and the scheduled retrain). */
export const modelTrain: Handler<'modelTrain'> = async ({ data, job, deps }) => {
  const result = await runTraining(data, deps, (p) => job.updateProgress({ ...p }));
  deps.metrics.modelsTrained.inc({ kind: data.kind });
  return result;
};
