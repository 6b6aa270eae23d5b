import { addJob } from '@portrait/runtime';
import { DEFAULT_MODEL_SEED, MODEL_KINDS } from '@portrait/shared';
import type { Handler } from '../handler';

/**
 * The scheduled retrain: queues the training of every kind on the data as it is now. New versions are
 * stored `trained`; they are promoted only with `MODEL_AUTO_PROMOTE`, otherwise someone compares and promotes.
 */
export const modelRetrain: Handler<'modelRetrain'> = async ({ deps }) => {
  const queued: string[] = [];
  for (const kind of MODEL_KINDS) {
    const job = await addJob(deps.queues.models, 'modelTrain', {
      kind,
      seed: DEFAULT_MODEL_SEED,
      promote: deps.config.MODEL_AUTO_PROMOTE,
      parameters: {},
    });
    queued.push(`${kind}:${job.id}`);
  }
  deps.logger.info({ queued }, 'scheduled model training queued');
  return { queued };
};
