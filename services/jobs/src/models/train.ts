import { UnrecoverableError } from 'bullmq';
import { promoteAndRescore, type ModelDraft, type Promotion } from '@portrait/runtime';
import {
  parseOrThrow,
  TRAIN_PARAMETERS,
  ValidationError,
  type ModelDoc,
  type ModelKind,
  type ModelTrainJob,
  type ModelTrainProgress,
  type TrainParameters,
} from '@portrait/shared';
import type { JobsDeps } from '../handler';
import type { Trainer } from './context';
import { trainClustersModel } from './train-clusters';
import { trainCollaborative } from './train-collaborative';
import { trainContent } from './train-content';
import { trainPropensity } from './train-propensity';
import { trainRfm } from './train-rfm';
import { trainRisk } from './train-risk';
import { trainRules } from './train-rules';

const TRAINERS: { [K in ModelKind]: Trainer<K> } = {
  rfm: trainRfm,
  clusters: trainClustersModel,
  purchase: trainPropensity('purchase'),
  churn: trainPropensity('churn'),
  risk: trainRisk,
  rules: trainRules,
  content: trainContent,
  collaborative: trainCollaborative,
};

export interface TrainResult {
  model: Pick<ModelDoc, 'modelId' | 'kind' | 'version' | 'status' | 'quality' | 'training'>;
  promotion?: Promotion & { rescoreJobId?: string };
}

/**
 * One training run: the kind's parameters checked (defaults filled in), its trainer run over the data as of
 * now, the result stored as the kind's next version, and promoted when asked. What can never succeed on a
 * retry (bad parameters, nothing to train on) fails for good with the reason.
 */
export async function runTraining(
  request: ModelTrainJob,
  deps: JobsDeps,
  progress: (p: ModelTrainProgress) => Promise<void>,
): Promise<TrainResult> {
  const started = deps.now();
  const startedReal = Date.now();
  try {
    const parameters = parseOrThrow(TRAIN_PARAMETERS[request.kind], request.parameters, `${request.kind} training parameters`, [
      'parameters',
    ]) as TrainParameters<ModelKind>;
    const trainer = TRAINERS[request.kind] as Trainer<ModelKind>;
    const trained = await trainer({ deps, parameters, seed: request.seed, nowMs: started, progress });
    await progress({ phase: 'storing', rows: trained.training.rows });
    const draft: ModelDraft = {
      ...trained,
      kind: request.kind,
      parameters: { ...parameters, seed: request.seed },
      training: { ...trained.training, seed: request.seed, asOf: new Date(started).toISOString(), durationMs: Date.now() - startedReal },
    };
    const doc = await deps.models.save(draft, deps.now());
    deps.logger.info({ modelId: doc.modelId, rows: doc.training.rows, ms: doc.training.durationMs }, 'model trained');
    const promotion = request.promote
      ? await promoteAndRescore(deps.models, deps.queues.models, doc.kind, doc.version, deps.now())
      : undefined;
    await progress({ phase: 'done', rows: trained.training.rows });
    const { modelId, kind, version, quality, training } = doc;
    return { model: { modelId, kind, version, status: promotion ? 'active' : doc.status, quality, training }, promotion };
  } catch (error) {
    if (error instanceof ValidationError) {
      const detail = error.issues.map((i) => `${i.path}: ${i.reason}`).join('; ');
      throw new UnrecoverableError(`${request.kind} training refused: ${error.message}${detail ? ` (${detail})` : ''}`);
    }
    throw error;
  }
}
