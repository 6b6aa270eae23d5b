import { z } from 'zod';
import { ValidationError } from '../errors';

/**
 * Feature rows for the models: one Float64Array, row-major (row `i`, column `j` is `values[i * cols + j]`),
 * filled once by the caller and never copied whole; and the standardizer every model stores with itself.
 */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly values: Float64Array;
}

/** Packs rows of equal length into a matrix (convenient for small sets; large ones fill `values` directly). */
export function featureMatrix(rows: readonly ArrayLike<number>[], cols = rows[0]?.length ?? 0): FeatureMatrix {
  const values = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => {
    if (row.length !== cols) throw new ValidationError(`row ${i} has ${row.length} features, expected ${cols}`, []);
    for (let j = 0; j < cols; j++) values[i * cols + j] = row[j]!;
  });
  return { rows: rows.length, cols, values };
}

/**
 * Fills a matrix a row at a time when the row count is not known in advance (a page walk over an index):
 * one Float64Array that doubles as it fills, so memory stays within twice rows x cols x 8 bytes.
 */
export class MatrixBuilder {
  private values: Float64Array;
  private count = 0;

  constructor(
    readonly cols: number,
    capacity = 1024,
  ) {
    this.values = new Float64Array(Math.max(1, capacity) * cols);
  }

  get rows(): number {
    return this.count;
  }

  push(row: ArrayLike<number>): void {
    if (row.length !== this.cols) throw new ValidationError(`row ${this.count} has ${row.length} features, expected ${this.cols}`, []);
    if ((this.count + 1) * this.cols > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values.set(row, this.count * this.cols);
    this.count++;
  }

  /** The rows so far (a view: later pushes do not change it once the builder has grown past it). */
  build(): FeatureMatrix {
    return { rows: this.count, cols: this.cols, values: this.values.subarray(0, this.count * this.cols) };
  }
}

/** The given rows, in the given order, as a new matrix. */
export function selectRows(x: FeatureMatrix, indices: ArrayLike<number>): FeatureMatrix {
  const values = new Float64Array(indices.length * x.cols);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i]!;
    values.set(x.values.subarray(row * x.cols, (row + 1) * x.cols), i * x.cols);
  }
  return { rows: indices.length, cols: x.cols, values };
}

/** The given columns, in the given order, as a new matrix. */
export function selectColumns(x: FeatureMatrix, columns: readonly number[]): FeatureMatrix {
  const values = new Float64Array(x.rows * columns.length);
  for (let i = 0; i < x.rows; i++) {
    for (let k = 0; k < columns.length; k++) values[i * columns.length + k] = x.values[i * x.cols + columns[k]!]!;
  }
  return { rows: x.rows, cols: columns.length, values };
}

/** Column means and population standard deviations; a deviation of 0 marks a constant column. */
export const StandardizerSchema = z.object({ means: z.array(z.number()), deviations: z.array(z.number().min(0)) });
export type Standardizer = z.infer<typeof StandardizerSchema>;

/** Refuses a matrix whose shape is off or that holds NaN or an infinity, naming the feature and row. */
export function assertFinite(matrix: FeatureMatrix, features?: readonly string[]): void {
  const { values, cols } = matrix;
  if (values.length !== matrix.rows * cols)
    throw new ValidationError(`matrix holds ${values.length} numbers, not ${matrix.rows} x ${cols}`, []);
  if (features !== undefined && features.length !== cols)
    throw new ValidationError(`${features.length} feature names for ${cols} columns`, [{ path: 'features', reason: 'length mismatch' }]);
  for (let p = 0; p < values.length; p++) {
    if (!Number.isFinite(values[p]!)) {
      const row = Math.floor(p / cols);
      const feature = features?.[p % cols] ?? `column ${p % cols}`;
      throw new ValidationError(
        `feature "${feature}" of row ${row} is ${values[p]}: models need finite numbers (impute or drop missing values first)`,
        [{ path: `rows.${row}.${feature}`, reason: 'not a finite number' }],
      );
    }
  }
}

/** Fits the standardizer in one pass (Welford), refusing non-finite values and an empty matrix. */
export function fitStandardizer(matrix: FeatureMatrix, features?: readonly string[]): Standardizer {
  assertFinite(matrix, features);
  const { rows, cols, values } = matrix;
  if (rows === 0) throw new ValidationError('cannot fit a standardizer on no rows', []);
  const means = new Float64Array(cols);
  const m2 = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const x = values[base + j]!;
      const delta = x - means[j]!;
      means[j]! += delta / (i + 1);
      m2[j]! += delta * (x - means[j]!);
    }
  }
  const deviations = Array.from(m2, (s, j) => {
    const sd = Math.sqrt(s / rows);
    // Rounding leaves a tiny spread on a constant column: treat anything below 1e-12 of the scale as none.
    return sd <= 1e-12 * Math.max(1, Math.abs(means[j]!)) ? 0 : sd;
  });
  return { means: Array.from(means), deviations };
}

/** Standardizes `vector` into `out` (a new array when not given); a constant column maps to 0. */
export function standardize<T extends number[] | Float64Array = number[]>(
  scaler: Standardizer,
  vector: ArrayLike<number>,
  out: T = new Array<number>(scaler.means.length) as T,
): T {
  for (let j = 0; j < scaler.means.length; j++) {
    const deviation = scaler.deviations[j]!;
    out[j] = deviation > 0 ? (vector[j]! - scaler.means[j]!) / deviation : 0;
  }
  return out;
}

/** Back to original units. */
export function unstandardize(scaler: Standardizer, z: ArrayLike<number>): number[] {
  return scaler.means.map((mean, j) => mean + z[j]! * scaler.deviations[j]!);
}
