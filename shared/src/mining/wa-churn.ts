/**
 * The `wa_churn` table (infra/data/wa_churn.csv, 7,043 telecom customers, IBM Watson sample) as typed rows,
 * and the adapter that turns a row into the numeric features the mining code takes. The table is not an event
 * stream: the adapter plays the part that profile features play for live profiles, so clustering and
 * propensity models are trained and evaluated with the same code on both.
 */

import { featureMatrix } from './matrix';
import type { LabelledRows } from './propensity';

export type YesNoNone = 'yes' | 'no' | 'none';
export type WaChurnInternet = 'dsl' | 'fiber' | 'none';
export type WaChurnContract = 'month-to-month' | 'one-year' | 'two-year';
export type WaChurnPayment = 'electronic-check' | 'mailed-check' | 'bank-transfer' | 'credit-card';

export interface WaChurnRow {
  churn: boolean;
  female: boolean;
  seniorCitizen: boolean;
  partner: boolean;
  dependents: boolean;
  /** Months as a customer. */
  tenure: number;
  phoneService: boolean;
  /** `none`: no phone service. */
  multipleLines: YesNoNone;
  internetService: WaChurnInternet;
  /** For the six internet add-ons, `none`: no internet service. */
  onlineSecurity: YesNoNone;
  onlineBackup: YesNoNone;
  deviceProtection: YesNoNone;
  techSupport: YesNoNone;
  streamingTv: YesNoNone;
  streamingMovies: YesNoNone;
  contract: WaChurnContract;
  paperlessBilling: boolean;
  paymentMethod: WaChurnPayment;
  monthlyCharges: number;
  /** `null` where the table says NA: the 11 customers of tenure 0, not billed yet. */
  totalCharges: number | null;
}

const COLUMNS = [
  'churn',
  'female',
  'senior_citizen',
  'partner',
  'dependents',
  'tenure',
  'phone_service',
  'multiple_lines',
  'internet_service',
  'online_security',
  'online_backup',
  'device_protection',
  'tech_support',
  'streaming_tv',
  'streaming_movies',
  'contract',
  'paperless_billing',
  'payment_method',
  'monthly_charges',
  'total_charges',
] as const;
type Column = (typeof COLUMNS)[number];

const YES_NO_NONE: Record<string, YesNoNone> = { Yes: 'yes', No: 'no', 'No phone service': 'none', 'No internet service': 'none' };
const INTERNET: Record<string, WaChurnInternet> = { DSL: 'dsl', 'Fiber optic': 'fiber', No: 'none' };
const CONTRACT: Record<string, WaChurnContract> = { 'Month-to-month': 'month-to-month', 'One year': 'one-year', 'Two year': 'two-year' };
const PAYMENT: Record<string, WaChurnPayment> = {
  'Electronic check': 'electronic-check',
  'Mailed check': 'mailed-check',
  'Bank transfer (automatic)': 'bank-transfer',
  'Credit card (automatic)': 'credit-card',
};

/**
 * Splits CSV text into records of fields: comma-separated, fields optionally in double quotes (a doubled quote
 * inside stands for one), LF or CRLF line ends, blank lines skipped. Enough for the R exports in infra/data.
 */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(field);
    if (record.length > 1 || record[0] !== '') records.push(record);
    record = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n') endRecord();
    else if (ch !== '\r') field += ch;
    i++;
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (field !== '' || record.length > 0) endRecord();
  return records;
}

/** Parses the wa_churn CSV (header line first) into typed rows; an unknown value is refused with its line and column. */
export function parseWaChurn(csvText: string): WaChurnRow[] {
  const [header, ...records] = parseCsvRecords(csvText);
  if (header === undefined) throw new Error('wa_churn: empty file');
  const at = new Map<Column, number>();
  for (const column of COLUMNS) {
    const index = header.indexOf(column);
    if (index < 0) throw new Error(`wa_churn: column "${column}" is missing from the header`);
    at.set(column, index);
  }
  return records.map((record, r) => {
    const line = r + 2;
    const get = (column: Column): string => {
      const value = record[at.get(column)!];
      if (value === undefined) throw new Error(`wa_churn line ${line}: no value for "${column}"`);
      return value;
    };
    const fail = (column: Column): never => {
      throw new Error(`wa_churn line ${line}: "${get(column)}" is not a valid ${column}`);
    };
    const oneOf = <T>(column: Column, table: Record<string, T>): T =>
      Object.hasOwn(table, get(column)) ? table[get(column)]! : fail(column);
    const flag = (column: Column): boolean => (get(column) === '1' ? true : get(column) === '0' ? false : fail(column));
    const number = (column: Column): number => {
      const value = Number(get(column));
      return get(column) !== '' && Number.isFinite(value) ? value : fail(column);
    };
    const churn = get('churn') === 'Yes' ? true : get('churn') === 'No' ? false : fail('churn');
    return {
      churn,
      female: flag('female'),
      seniorCitizen: flag('senior_citizen'),
      partner: flag('partner'),
      dependents: flag('dependents'),
      tenure: number('tenure'),
      phoneService: flag('phone_service'),
      multipleLines: oneOf('multiple_lines', YES_NO_NONE),
      internetService: oneOf('internet_service', INTERNET),
      onlineSecurity: oneOf('online_security', YES_NO_NONE),
      onlineBackup: oneOf('online_backup', YES_NO_NONE),
      deviceProtection: oneOf('device_protection', YES_NO_NONE),
      techSupport: oneOf('tech_support', YES_NO_NONE),
      streamingTv: oneOf('streaming_tv', YES_NO_NONE),
      streamingMovies: oneOf('streaming_movies', YES_NO_NONE),
      contract: oneOf('contract', CONTRACT),
      paperlessBilling: flag('paperless_billing'),
      paymentMethod: oneOf('payment_method', PAYMENT),
      monthlyCharges: number('monthly_charges'),
      totalCharges: get('total_charges') === 'NA' ? null : number('total_charges'),
    };
  });
}

/**
 * The numeric features of a wa_churn customer, in this order (the names are the model's feature list):
 * - `tenure`: months as a customer;
 * - `monthly_charges`, `total_charges`: in dollars; NA total charges (tenure 0, not billed yet) count as 0;
 * - `contract`: ordinal commitment, month-to-month 0, one year 1, two years 2;
 * - `services`: how many of the nine services the customer takes (phone, multiple lines, internet and its six add-ons);
 * - `fiber`: 1 for fiber-optic internet;
 * - `paperless_billing`, `senior_citizen`, `partner`, `dependents`: 0/1;
 * - `automatic_payment`: 1 for bank transfer or credit card (automatic), 0 for checks;
 * - `pay_electronic_check`, `pay_mailed_check`, `pay_bank_transfer`, `pay_credit_card`: the payment method one-hot.
 */
export const WA_CHURN_FEATURES = [
  'tenure',
  'monthly_charges',
  'total_charges',
  'contract',
  'services',
  'fiber',
  'paperless_billing',
  'senior_citizen',
  'partner',
  'dependents',
  'automatic_payment',
  'pay_electronic_check',
  'pay_mailed_check',
  'pay_bank_transfer',
  'pay_credit_card',
] as const;
export type WaChurnFeature = (typeof WA_CHURN_FEATURES)[number];

const CONTRACT_ORDINAL: Record<WaChurnContract, number> = { 'month-to-month': 0, 'one-year': 1, 'two-year': 2 };

function featureValue(row: WaChurnRow, feature: WaChurnFeature): number {
  switch (feature) {
    case 'tenure':
      return row.tenure;
    case 'monthly_charges':
      return row.monthlyCharges;
    case 'total_charges':
      return row.totalCharges ?? 0;
    case 'contract':
      return CONTRACT_ORDINAL[row.contract];
    case 'services': {
      const addOns = [row.onlineSecurity, row.onlineBackup, row.deviceProtection, row.techSupport, row.streamingTv, row.streamingMovies];
      return (
        Number(row.phoneService) +
        Number(row.multipleLines === 'yes') +
        Number(row.internetService !== 'none') +
        addOns.filter((a) => a === 'yes').length
      );
    }
    case 'fiber':
      return Number(row.internetService === 'fiber');
    case 'paperless_billing':
      return Number(row.paperlessBilling);
    case 'senior_citizen':
      return Number(row.seniorCitizen);
    case 'partner':
      return Number(row.partner);
    case 'dependents':
      return Number(row.dependents);
    case 'automatic_payment':
      return Number(row.paymentMethod === 'bank-transfer' || row.paymentMethod === 'credit-card');
    case 'pay_electronic_check':
      return Number(row.paymentMethod === 'electronic-check');
    case 'pay_mailed_check':
      return Number(row.paymentMethod === 'mailed-check');
    case 'pay_bank_transfer':
      return Number(row.paymentMethod === 'bank-transfer');
    case 'pay_credit_card':
      return Number(row.paymentMethod === 'credit-card');
  }
}

/** The row's features, in the order of `features` (all of `WA_CHURN_FEATURES` unless a subset is asked for). */
export function waChurnFeatures(row: WaChurnRow, features: readonly WaChurnFeature[] = WA_CHURN_FEATURES): number[] {
  return features.map((feature) => featureValue(row, feature));
}

/**
 * The features the wa_churn cluster model uses: spend, loyalty and what the customer takes. Demographics and
 * payment flags are left to the propensity model; with them, binary columns dominate the distances and the
 * silhouette runs to the top of the k range without better separating churners.
 */
export const WA_CHURN_CLUSTER_FEATURES: readonly WaChurnFeature[] = [
  'tenure',
  'monthly_charges',
  'total_charges',
  'contract',
  'services',
  'fiber',
];

/** How cluster names speak of the wa_churn features. */
export const WA_CHURN_PHRASES: readonly { feature: WaChurnFeature; high: string; low: string }[] = [
  { feature: 'tenure', high: 'long-standing', low: 'new' },
  { feature: 'monthly_charges', high: 'high-paying', low: 'low-paying' },
  { feature: 'total_charges', high: 'high-lifetime-value', low: 'low-lifetime-value' },
  { feature: 'contract', high: 'long-contract', low: 'month-to-month' },
  { feature: 'services', high: 'many-service', low: 'few-service' },
  { feature: 'fiber', high: 'fiber', low: 'non-fiber' },
];

/** One-hot levels of the propensity encoding, named as the table spells them (the names are the model's features). */
const ADD_ON_LEVELS = [
  ['no', 'No'],
  ['yes', 'Yes'],
  ['none', 'No internet service'],
] as const;
const ONE_HOT: readonly { column: string; levels: readonly (readonly [string, string])[]; of: (row: WaChurnRow) => string }[] = [
  {
    column: 'multiple_lines',
    levels: [
      ['no', 'No'],
      ['yes', 'Yes'],
      ['none', 'No phone service'],
    ],
    of: (r) => r.multipleLines,
  },
  {
    column: 'internet_service',
    levels: [
      ['dsl', 'DSL'],
      ['fiber', 'Fiber optic'],
      ['none', 'No'],
    ],
    of: (r) => r.internetService,
  },
  { column: 'online_security', levels: ADD_ON_LEVELS, of: (r) => r.onlineSecurity },
  { column: 'online_backup', levels: ADD_ON_LEVELS, of: (r) => r.onlineBackup },
  { column: 'device_protection', levels: ADD_ON_LEVELS, of: (r) => r.deviceProtection },
  { column: 'tech_support', levels: ADD_ON_LEVELS, of: (r) => r.techSupport },
  { column: 'streaming_tv', levels: ADD_ON_LEVELS, of: (r) => r.streamingTv },
  { column: 'streaming_movies', levels: ADD_ON_LEVELS, of: (r) => r.streamingMovies },
  {
    column: 'contract',
    levels: [
      ['month-to-month', 'Month-to-month'],
      ['one-year', 'One year'],
      ['two-year', 'Two year'],
    ],
    of: (r) => r.contract,
  },
  {
    column: 'payment_method',
    levels: [
      ['electronic-check', 'Electronic check'],
      ['mailed-check', 'Mailed check'],
      ['bank-transfer', 'Bank transfer (automatic)'],
      ['credit-card', 'Credit card (automatic)'],
    ],
    of: (r) => r.paymentMethod,
  },
];

/**
 * `wa_churn` rows (from `parseWaChurn`) as labelled rows for the propensity model (label: churn): the 0/1 and
 * numeric columns as they are, the log of the two skewed ones (tenure and total charges: churn falls fastest
 * in the first months), each categorical column one-hot over its levels, NA total charges (tenure 0) as 0.
 * 42 features.
 */
export function waChurnPropensityRows(rows: readonly WaChurnRow[]): LabelledRows {
  const features = [
    'female',
    'senior_citizen',
    'partner',
    'dependents',
    'tenure',
    'phone_service',
    'paperless_billing',
    'monthly_charges',
    'total_charges',
    'log_tenure',
    'log_total_charges',
    ...ONE_HOT.flatMap(({ column, levels }) => levels.map(([, label]) => `${column}=${label}`)),
  ];
  const vectors = rows.map((row) => {
    const total = row.totalCharges ?? 0;
    return [
      Number(row.female),
      Number(row.seniorCitizen),
      Number(row.partner),
      Number(row.dependents),
      row.tenure,
      Number(row.phoneService),
      Number(row.paperlessBilling),
      row.monthlyCharges,
      total,
      Math.log1p(row.tenure),
      Math.log1p(total),
      ...ONE_HOT.flatMap(({ levels, of }) => levels.map(([value]) => (of(row) === value ? 1 : 0))),
    ];
  });
  return { features, x: featureMatrix(vectors), y: rows.map((row) => (row.churn ? 1 : 0)) };
}
