import type { ModelDraft } from '@portrait/runtime';
import type { ModelKind, ModelTrainProgress, TrainParameters } from '@portrait/shared';
import type { JobsDeps } from '../handler';

/** What a trainer is given: the process's clients, the run's parameters, and a way to report progress. */
export interface TrainContext<K extends ModelKind> {
  deps: JobsDeps;
  parameters: TrainParameters<K>;
  seed: number;
  /** The instant the training reads its data as of. */
  nowMs: number;
  progress: (progress: ModelTrainProgress) => Promise<void>;
}

/** A fitted model, everything but the identity and timing the training job adds. */
export type Trained = Omit<ModelDraft, 'kind' | 'parameters' | 'training'> & {
  training: Omit<ModelDraft['training'], 'seed' | 'durationMs' | 'asOf'>;
};

export type Trainer<K extends ModelKind> = (context: TrainContext<K>) => Promise<Trained>;
