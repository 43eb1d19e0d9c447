import { describe, expect, it } from 'vitest';
import { dataSchemaSchema, encodedWidth, schemaMismatch, type DataSchema } from '../../src/protocol/dataSchema.js';
import { dataSchemaConfigSchema, dataSchemaYaml } from '../../src/cli/config/dataSchemaConfig.js';
import { parse } from 'yaml';

const numeric = (...names: string[]) => names.map((name) => ({ name, type: 'numeric' as const }));
const study: DataSchema = {
  features: [...numeric('age', 'trestbps', 'sex', 'chol'), { name: 'cp', type: 'categorical', levels: [1, 2, 3, 4], dropFirst: true }],
  label: { name: 'num', transform: { binarize: { above: 0 } } },
};
const withFeatures = (features: DataSchema['features']): DataSchema => ({ ...study, features });

describe('schemaMismatch: a site against the study, in column terms', () => {
  it('accepts an identical schema, and a label map written in another key order', () => {
    expect(schemaMismatch(study, structuredClone(study))).toBeUndefined();
    const a: DataSchema = { ...study, label: { name: 'd', transform: { map: { M: 1, B: 0 } } } };
    const b: DataSchema = { ...study, label: { name: 'd', transform: { map: { B: 0, M: 1 } } } };
    expect(schemaMismatch(a, b)).toBeUndefined();
  });

  it('names two swapped columns by position and name', () => {
    const swapped = withFeatures([...numeric('age', 'sex', 'trestbps', 'chol'), study.features[4]!]);
    expect(schemaMismatch(study, swapped)).toBe('columns 2 and 3 swapped (trestbps, sex)');
  });

  it('names an extra and a missing column with both counts', () => {
    expect(schemaMismatch(study, withFeatures([...study.features, ...numeric('foo')]))).toBe("6 feature columns, the study has 5: extra column 'foo'");
    expect(schemaMismatch(study, withFeatures(study.features.filter((f) => f.name !== 'chol')))).toBe("4 feature columns, the study has 5: missing 'chol'");
  });

  it('names a renamed column, a wider reordering, types, levels and dropFirst', () => {
    expect(schemaMismatch(study, withFeatures([...numeric('age', 'trestbps', 'sex', 'cholesterol'), study.features[4]!]))).toBe("column 4 is 'cholesterol', the study has 'chol' there");
    expect(schemaMismatch(study, withFeatures([...numeric('chol', 'age', 'trestbps', 'sex'), study.features[4]!]))).toMatch(/^columns in another order: column 1 is 'chol' \(the study's column 4\), column 2 is 'age' \(the study's column 1\)/);
    expect(schemaMismatch(study, withFeatures([...numeric('age', 'trestbps', 'sex', 'chol', 'cp')]))).toBe("column 'cp' is numeric here, categorical in the study");
    expect(schemaMismatch(study, withFeatures([...numeric('age', 'trestbps', 'sex', 'chol'), { name: 'cp', type: 'categorical', levels: [1, 2, 3], dropFirst: true }]))).toBe("column 'cp' has levels [1,2,3], the study [1,2,3,4]");
    expect(schemaMismatch(study, withFeatures([...numeric('age', 'trestbps', 'sex', 'chol'), { name: 'cp', type: 'categorical', levels: [1, 2, 3, 4], dropFirst: false }]))).toBe("column 'cp' keeps its first level, the study drops it");
  });

  it('names a different label or label reading', () => {
    expect(schemaMismatch(study, { ...study, label: { name: 'target' } })).toBe("the label is 'target', the study's is 'num'");
    expect(schemaMismatch(study, { ...study, label: { name: 'num' } })).toBe("label 'num' is read as a number, the study reads it as 1 above 0, else 0");
    const flipped = schemaMismatch({ ...study, label: { name: 'd', transform: { map: { M: 1, B: 0 } } } }, { ...study, label: { name: 'd', transform: { map: { M: 0, B: 1 } } } });
    expect(flipped).toBe("label 'd' is read as { B: 1, M: 0 }, the study reads it as { B: 0, M: 1 }");
  });

  it('bounds what a hello may announce', () => {
    expect(dataSchemaSchema.safeParse(study).success).toBe(true);
    expect(dataSchemaSchema.safeParse({ ...study, features: [] }).success).toBe(false);
    expect(dataSchemaSchema.safeParse({ ...study, features: numeric(...Array.from({ length: 10_001 }, (_, i) => `c${i}`)) }).success).toBe(false);
    expect(dataSchemaSchema.safeParse({ ...study, extra: 1 }).success).toBe(false);
  });
});

describe('dataSchema in an experiment config', () => {
  it('reads the data config vocabulary, puts categorical columns last, and round-trips through the printed YAML', () => {
    const pinned = dataSchemaConfigSchema.parse({ features: ['age', 'trestbps', { name: 'cp', levels: [1, 2, 3, 4], dropFirst: true }, 'sex', 'chol'], label: { name: 'num', labelTransform: { binarize: { above: 0 } } } });
    expect(pinned).toEqual(study);
    expect(encodedWidth(pinned)).toBe(7);
    const yaml = dataSchemaYaml(study);
    expect(yaml).toBe("dataSchema:\n  features: [ age, trestbps, sex, chol, { name: cp, levels: [ 1, 2, 3, 4 ], dropFirst: true } ]\n  label: { name: num, labelTransform: { binarize: { above: 0 } } }");
    expect(dataSchemaConfigSchema.parse((parse(yaml) as { dataSchema: unknown }).dataSchema)).toEqual(study);
    expect(dataSchemaConfigSchema.safeParse({ features: ['a', 'a'], label: 'y' }).error?.issues[0]?.message).toBe('column "a" is listed twice');
  });
});
